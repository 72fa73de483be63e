"""``tongban backup`` and ``tongban restore``: the database, the uploads and the keys in one
tar archive with a manifest of SHA-256 checksums (docs/operations.md).

Archive members::

    manifest.json                 format, time, database vendor, every member with its checksum
    database/tongban.sqlite3      SQLite: a consistent copy through sqlite3's backup API
    database/tongban.pgdump       PostgreSQL: pg_dump's custom format (restored with pg_restore)
    media/<name>                  every file under MEDIA_ROOT (material files stay SM4-encrypted)
    files/<name>                  the files registered with :func:`register_file`: the personal-data
                                  keys (core), the audit signing key and chain-head file (audit)

Restore refuses, changing nothing, a damaged archive (a checksum or size that does not match, a
member missing or unlisted, a tar that cannot be read) and a target that is not fresh: the
database must have no tables, MEDIA_ROOT no files, and a key or head file already present must
be identical to the archived one (overwriting a key would make data unreadable).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.db import connection

from . import crypto

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/tongban.sqlite3"
PG_MEMBER = "database/tongban.pgdump"
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why (nothing was changed)."""


# --- files outside the database, registered by the apps that own them --------------------------

_files: dict[str, Callable[[], Path]] = {}


def register_file(name: str, path: Callable[[], Path]) -> None:
    """Back up the file ``path()`` (resolved at backup and restore time) as ``files/<name>``."""
    _files[name] = path


register_file("personal-data.keys", crypto.key_path)


# --- the database ------------------------------------------------------------------------------

def _pg_env() -> dict[str, str]:
    """libpq's environment for pg_dump/pg_restore from the connection's settings (password not
    on the command line)."""
    conf = connection.settings_dict
    env = dict(os.environ)
    for key, name in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"),
                      ("PASSWORD", "PGPASSWORD"), ("NAME", "PGDATABASE")):
        if conf.get(key):
            env[name] = str(conf[key])
    return env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} is not on PATH: install PostgreSQL's client tools of the "
                          f"server's major version (Debian: postgresql-client) to back up or "
                          f"restore a PostgreSQL database")
    return found


def _run(command: list[str]) -> None:
    done = subprocess.run(command, env=_pg_env(), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip()[-2000:]}")


def dump_database(directory: Path) -> tuple[str, Path]:
    """A consistent copy of the database in ``directory``: (archive member name, file)."""
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        target = directory / "db.sqlite3"
        destination = sqlite3.connect(target)
        try:
            connection.connection.backup(destination)
        finally:
            destination.close()
        return SQLITE_MEMBER, target
    if connection.vendor == "postgresql":
        target = directory / "db.pgdump"
        _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
              "--file", str(target)])
        return PG_MEMBER, target
    raise BackupError(f"no backup for the {connection.vendor} database")


def database_is_empty() -> bool:
    return not connection.introspection.table_names()


def load_database(member: str, source: Path) -> None:
    """Load the archived database into the (empty) configured one."""
    if member == SQLITE_MEMBER:
        if connection.vendor != "sqlite":
            raise BackupError(f"the archive holds a SQLite database; the target is {connection.vendor}")
        connection.ensure_connection()
        origin = sqlite3.connect(source)
        try:
            origin.backup(connection.connection)
        finally:
            origin.close()
        return
    if connection.vendor != "postgresql":
        raise BackupError(f"the archive holds a PostgreSQL dump; the target is {connection.vendor}")
    _run([_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
          "--single-transaction", "--dbname", str(connection.settings_dict["NAME"]), str(source)])


# --- writing an archive -------------------------------------------------------------------------

def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _media_files() -> Iterator[tuple[str, Path]]:
    root = Path(settings.MEDIA_ROOT)
    if root.is_dir():
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            yield "media/" + path.relative_to(root).as_posix(), path


def archive_path(target: Path, now: dt.datetime | None = None) -> Path:
    """``target`` itself, or a dated ``tongban-backup-….tar.gz`` inside it when it is a folder."""
    if target.is_dir():
        stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
        return target / f"tongban-backup-{stamp}.tar.gz"
    return target


def private_file(path: Path) -> IO[bytes]:
    """A new file open for writing, mode 0600 from its creation (it will hold keys): never
    readable by others for a moment, whatever the process's umask. A stale file of that name
    (an interrupted run) is replaced."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.fchmod(fd, 0o600)  # the umask may only have taken bits away; exactly 0600
    return os.fdopen(fd, "wb")


def backup(target: Path) -> tuple[Path, dict[str, Any]]:
    """Write the archive; returns its path and the manifest."""
    path = archive_path(target)
    if path.exists():
        raise BackupError(f"{path} already exists")
    with tempfile.TemporaryDirectory(prefix="tongban-backup-") as scratch:
        db_member, db_file = dump_database(Path(scratch))
        members: list[tuple[str, Path]] = [(db_member, db_file), *_media_files()]
        for name, locate in sorted(_files.items()):
            located = locate()
            if located.is_file():
                members.append((f"files/{name}", located))
        entries = [{"name": name, "size": source.stat().st_size, "sha256": _sha256(source)}
                   for name, source in members]
        manifest = {
            "format": FORMAT, "created_at": dt.datetime.now(dt.UTC).isoformat(),
            "database": {"vendor": connection.vendor, "member": db_member},
            "members": entries,
        }
        partial = path.with_name(path.name + ".partial")
        mode = "w:gz" if path.name.endswith((".gz", ".tgz")) else "w"
        try:
            with private_file(partial) as out, \
                    tarfile.open(fileobj=out, mode=mode) as tar:  # type: ignore[call-overload]
                data = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(data), int(dt.datetime.now().timestamp()), 0o600
                tar.addfile(info, io.BytesIO(data))
                for name, source in members:
                    info = tar.gettarinfo(str(source), arcname=name)
                    info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
                    with source.open("rb") as f:
                        tar.addfile(info, f)
            partial.replace(path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return path, manifest


# --- reading and restoring ------------------------------------------------------------------------

@dataclass
class Checked:
    manifest: dict[str, Any]
    problems: list[str] = field(default_factory=list)


def _safe(name: str) -> bool:
    # The name exactly as a normalised relative path: "media//etc/x" normalises to a name that
    # joined onto MEDIA_ROOT would leave it, so anything normalisation changes is refused.
    path = PurePosixPath(name)
    return (bool(path.parts) and not path.is_absolute() and ".." not in path.parts
            and str(path) == name)


def _open(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, "r:*")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"{path} cannot be read as a backup archive ({exc})") from exc


def _read_all(path: Path, each: Callable[[tarfile.TarInfo, IO[bytes]], None]) -> None:
    """Calls ``each`` for every regular member, in archive order; a damaged stream is a
    BackupError."""
    import zlib

    try:
        with _open(path) as tar:
            for info in tar:
                if not info.isfile():
                    raise BackupError(f"unexpected member {info.name!r} (not a regular file)")
                f = tar.extractfile(info)
                assert f is not None
                each(info, f)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise BackupError(f"{path} is damaged ({exc})") from exc


def check_archive(path: Path) -> dict[str, Any]:
    """The manifest of an intact archive; a BackupError naming every problem otherwise."""
    found: dict[str, tuple[int, str]] = {}
    repeated: list[str] = []
    manifest: dict[str, Any] | None = None

    def each(info: tarfile.TarInfo, f: IO[bytes]) -> None:
        nonlocal manifest
        if info.name in found or (info.name == MANIFEST and manifest is not None):
            repeated.append(info.name)  # only one copy would be checked, another written
        if info.name == MANIFEST:
            try:
                manifest = json.loads(f.read())
            except ValueError as exc:
                raise BackupError(f"{path}: the manifest is damaged ({exc})") from exc
            return
        digest, size = hashlib.sha256(), 0
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
        found[info.name] = (size, digest.hexdigest())

    _read_all(path, each)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a tongban backup (no manifest of format {FORMAT})")
    problems = [f"{name}: more than once in the archive" for name in repeated]
    listed = {}
    for entry in manifest.get("members", []):
        name = str(entry.get("name", ""))
        listed[name] = entry
        if not _safe(name):
            problems.append(f"unsafe member name {name!r}")
        elif name not in found:
            problems.append(f"{name}: missing")
        elif found[name] != (entry.get("size"), entry.get("sha256")):
            problems.append(f"{name}: checksum does not match (damaged)")
    problems += [f"{name}: not in the manifest" for name in sorted(set(found) - set(listed))]
    if manifest.get("database", {}).get("member") not in listed:
        problems.append("the manifest names no database")
    if problems:
        raise BackupError(f"{path} is damaged; nothing was restored:\n  " + "\n  ".join(problems))
    return manifest


def _target_of(name: str) -> Path | None:
    if name.startswith("media/"):
        root = Path(settings.MEDIA_ROOT).resolve()
        target = (root / name.removeprefix("media/")).resolve()
        return target if target.is_relative_to(root) and target != root else None
    if name.startswith("files/") and name.removeprefix("files/") in _files:
        return _files[name.removeprefix("files/")]()
    return None


def restore_problems(manifest: dict[str, Any]) -> list[str]:
    """Why the configured installation is no fresh target for this archive (empty: it is)."""
    problems = []
    vendor = manifest["database"]["vendor"]
    if vendor != connection.vendor:
        problems.append(f"the archive holds a {vendor} database; the target is {connection.vendor}")
    if not database_is_empty():
        problems.append("the target database is not empty (restore only into a fresh database)")
    media = Path(settings.MEDIA_ROOT)
    if media.is_dir() and any(p.is_file() for p in media.rglob("*")):
        problems.append(f"MEDIA_ROOT {media} holds files (restore only into an empty one)")
    for entry in manifest["members"]:
        name = entry["name"]
        if name.startswith("files/"):
            target = _target_of(name)
            if target is None:
                problems.append(f"{name}: no such file is known here")
            elif target.exists() and _sha256(target) != entry["sha256"]:
                problems.append(f"{target} exists and differs from the archived {name} "
                                f"(it is not overwritten: move it away first)")
    return problems


def restore(path: Path) -> dict[str, Any]:
    """Check the archive and the target, then load the database and write the files."""
    manifest = check_archive(path)
    problems = restore_problems(manifest)
    if problems:
        raise BackupError("nothing was restored:\n  " + "\n  ".join(problems))
    db_member = manifest["database"]["member"]
    with tempfile.TemporaryDirectory(prefix="tongban-restore-") as scratch:
        db_file = Path(scratch) / "database"

        def extract_database(info: tarfile.TarInfo, f: IO[bytes]) -> None:
            if info.name == db_member:
                with db_file.open("wb") as out:
                    shutil.copyfileobj(f, out, CHUNK)

        _read_all(path, extract_database)
        load_database(db_member, db_file)

    def write_file(info: tarfile.TarInfo, f: IO[bytes]) -> None:
        target = _target_of(info.name)
        if target is None or (target.exists() and info.name.startswith("files/")):
            return  # the database, or an identical key already in place
        target.parent.mkdir(parents=True, exist_ok=True)
        secret = info.name.startswith("files/")
        with private_file(target) if secret else target.open("wb") as out:
            shutil.copyfileobj(f, out, CHUNK)

    _read_all(path, write_file)
    return manifest
