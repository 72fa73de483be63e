"""``tongban backup`` and ``tongban restore``: a round trip on the configured database (SQLite or
PostgreSQL) ends with the audit chain intact and a case and its uploaded file readable; a
damaged archive or a target that is not fresh is refused and nothing changes."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from pytest_django.fixtures import Settings

from tests.cases.conftest import PDF
from tests.cases.test_materials import add, new_case
from tests.conftest import DEMO_WORKBOOK, make_user
from tongban.accounts.models import Role
from tongban.cases.models import Case, CaseMaterial
from tongban.core import backup, crypto

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def place(settings: Settings, tmp_path: Path) -> dict[str, Path]:
    """An installation of its own: uploads, personal-data keys, signing key and head file."""
    paths = {"media": tmp_path / "media", "keys": tmp_path / "personal-data.keys",
             "signing": tmp_path / "signing", "head": tmp_path / "audit-head.log",
             "out": tmp_path / "backups"}
    paths["out"].mkdir()
    crypto.generate_key_file(paths["keys"])
    settings.MEDIA_ROOT = str(paths["media"])
    settings.PERSONAL_DATA_KEY_FILE = str(paths["keys"])
    settings.AUDIT_KEY_DIR = str(paths["signing"])
    settings.AUDIT_HEAD_FILE = str(paths["head"])
    return paths


def wipe_database() -> None:
    """What a lost server leaves: a database without a table."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP SCHEMA public CASCADE")
            cursor.execute("CREATE SCHEMA public")
        else:
            cursor.execute("PRAGMA foreign_keys=OFF")
            # Dropping a full-text (virtual) table drops its shadow tables too.
            while tables := connection.introspection.table_names():
                cursor.execute(f'DROP TABLE IF EXISTS "{tables[0]}"')
            cursor.execute("PRAGMA foreign_keys=ON")
    assert connection.introspection.table_names() == []


def some_cases() -> tuple[int, str]:
    call_command("import_catalog", str(DEMO_WORKBOOK), verbosity=0)
    citizen = make_user("zhangsan", Role.CITIZEN, real_name="张三", id_number="620102199003077770",
                        phone="13893100001")
    case = new_case(citizen)
    material = add(citizen, case, PDF)
    new_case(citizen)
    call_command("audit_checkpoint", stdout=io.StringIO())
    assert material.file.name
    return case.pk, material.file.name


def verify_audit() -> dict[str, Any]:
    out = io.StringIO()
    call_command("verify_audit", "--json", stdout=out)  # raises CommandError when not intact
    result: dict[str, Any] = json.loads(out.getvalue())
    return result


def test_round_trip_backup_wipe_restore(place: dict[str, Path]) -> None:
    case_pk, file_name = some_cases()
    before = verify_audit()
    assert before["intact"] and before["records_checked"] > 0 and before["head_entries_checked"]
    keys = place["keys"].read_bytes()

    out = io.StringIO()
    call_command("backup", str(place["out"]), stdout=out)
    [archive] = list(place["out"].glob("tongban-backup-*.tar.gz"))
    assert str(archive) in out.getvalue()
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert names[0] == "manifest.json"
    assert {"files/personal-data.keys", "files/audit-signing.key", "files/audit-head.log"} <= set(names)
    assert f"media/{file_name}" in names
    assert oct(archive.stat().st_mode & 0o777) == "0o600"  # it holds the keys

    # The server is lost: database, uploads, keys and head file.
    wipe_database()
    for path in place["media"].rglob("*"):
        if path.is_file():
            path.unlink()
    place["keys"].unlink()
    place["head"].unlink()
    for key in place["signing"].iterdir():
        key.unlink()

    call_command("restore", str(archive), stdout=io.StringIO())

    assert place["keys"].read_bytes() == keys
    after = verify_audit()
    assert after["intact"] and after["records_checked"] == before["records_checked"]
    assert after["head_entries_checked"] == before["head_entries_checked"]
    case = Case.objects.get(pk=case_pk)
    assert case.applicant_id_number == "620102199003077770"  # decrypted with the restored keys
    material = CaseMaterial.objects.get(case=case)
    with material.file.open("rb") as stored:
        assert stored.read() == PDF


def test_a_damaged_archive_is_refused_and_nothing_changes(place: dict[str, Path]) -> None:
    _case_pk, file_name = some_cases()
    archive = place["out"] / "plain.tar"
    call_command("backup", str(archive), stdout=io.StringIO())
    # Flip bytes inside the uploaded file's member (an uncompressed tar: the damage is local).
    with tarfile.open(archive) as tar:
        member = tar.getmember(f"media/{file_name}")
    data = bytearray(archive.read_bytes())
    data[member.offset_data + 10] ^= 0xFF
    archive.write_bytes(bytes(data))
    wipe_database()
    with pytest.raises(CommandError, match=f"media/{file_name}: checksum does not match"):
        call_command("restore", str(archive))
    assert connection.introspection.table_names() == []

    truncated = place["out"] / "truncated.tar.gz"
    truncated.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(CommandError, match=r"(damaged|cannot be read)"):
        call_command("restore", str(truncated))
    assert connection.introspection.table_names() == []
    # Put tables back for the test's clean-up.
    call_command("migrate", verbosity=0)


def test_restore_refuses_a_target_that_is_not_fresh(place: dict[str, Path]) -> None:
    some_cases()
    archive = place["out"] / "b.tar.gz"
    call_command("backup", str(archive), stdout=io.StringIO())
    cases = Case.objects.count()
    place["keys"].write_text(place["keys"].read_text() + "data 2 " + "ab" * 16 + "\n")
    keys = place["keys"].read_bytes()
    with pytest.raises(CommandError) as refused:
        call_command("restore", str(archive))
    message = str(refused.value)
    assert "nothing was restored" in message
    assert "database is not empty" in message and "MEDIA_ROOT" in message
    assert "personal-data.keys" in message
    assert Case.objects.count() == cases and place["keys"].read_bytes() == keys


def test_backup_will_not_overwrite_an_archive(place: dict[str, Path]) -> None:
    archive = place["out"] / "b.tar"
    archive.write_bytes(b"x")
    with pytest.raises(CommandError, match="already exists"):
        call_command("backup", str(archive))


def _crafted(path: Path, members: list[tuple[str, bytes]]) -> Path:
    """An archive someone made by hand: each member listed in the manifest with its true size
    and checksum, so that only the names can give it away."""
    manifest = {"format": backup.FORMAT, "database": {"member": "database.sqlite3"},
                "members": [{"name": name, "size": len(data),
                             "sha256": hashlib.sha256(data).hexdigest()}
                            for name, data in members]}
    with tarfile.open(path, "w") as tar:
        for name, data in [(backup.MANIFEST, json.dumps(manifest).encode()), *members]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize("name", ["media//{outside}/planted", "media/../planted",
                                  "media/./../planted"])
def test_a_member_that_would_land_outside_the_uploads_is_refused(
        place: dict[str, Path], tmp_path: Path, name: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    archive = _crafted(tmp_path / "crafted.tar", [
        ("database.sqlite3", b"not used"), (name.format(outside=outside), b"planted")])
    with pytest.raises(backup.BackupError, match="unsafe member name"):
        backup.check_archive(archive)
    assert not (outside / "planted").exists() and not (tmp_path / "planted").exists()


def test_a_member_twice_in_the_archive_is_refused(place: dict[str, Path], tmp_path: Path) -> None:
    archive = _crafted(tmp_path / "twice.tar", [("database.sqlite3", b"not used"),
                                                ("media/a.bin", b"checked"),
                                                ("media/a.bin", b"checked")])
    with pytest.raises(backup.BackupError, match="more than once"):
        backup.check_archive(archive)


def test_the_partial_archive_is_private_from_its_creation(
        place: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """The archive holds the keys: while it is being written (``….partial``) it is already 0600,
    under the usual umask 022 — not readable by others until a chmod at the end."""
    import os

    seen: list[str] = []
    addfile = tarfile.TarFile.addfile

    def watching(tar: tarfile.TarFile, *args: Any, **kwargs: Any) -> None:
        [partial] = list(place["out"].glob("*.partial"))
        seen.append(oct(partial.stat().st_mode & 0o777))
        addfile(tar, *args, **kwargs)

    monkeypatch.setattr(tarfile.TarFile, "addfile", watching)
    old = os.umask(0o022)
    try:
        archive, _manifest = backup.backup(place["out"])
    finally:
        os.umask(old)
    assert seen and set(seen) == {"0o600"}
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    assert not list(place["out"].glob("*.partial"))
