"""What the chain alone cannot vouch for: every column in the hash, the records after the newest
checkpoint, deleted checkpoints and an emptied table (caught against the head file kept outside
the database), and a checkpoint schedule that stopped. Each tampering is done directly in SQL,
as an intruder with database access would, and ``verify_audit`` exits with status 1 naming it."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from tests.audit.conftest import (
    TABLE,
    delete,
    digest,
    json_param,
    number_after_table,
    record,
    set_detail,
    sql,
)
from tongban.audit import head
from tongban.audit.models import AuditCheckpoint, AuditRecord
from tongban.audit.services import (
    DIGEST_COLUMNS,
    DIGEST_VERSION,
    GENESIS,
    ChainBroken,
    audit_checkpoint_write,
    audit_record,
    record_digest,
)
from tongban.audit.signing import signing_key
from tongban.audit.verification import verify_chain

Chain = Callable[[int], list[int]]
Committed = Callable[[Callable[[], Any]], Any]


def verify(*args: str) -> tuple[int, str, str]:
    """Run the command: (exit status, stdout, the error message)."""
    out = io.StringIO()
    try:
        call_command("verify_audit", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), str(exc)
    return 0, out.getvalue(), ""


def messages() -> list[str]:
    return [p.message for p in verify_chain().problems]


def rewrite(seqs: range, *, prev: str | None) -> None:
    """Rewrite the records ``seqs`` (the first one's detail changed) with every hash recomputed,
    so the chain itself stays consistent (``prev``: a sealed record's hash)."""
    assert prev is not None
    for seq in seqs:
        row = record(seq)
        detail = {**row.detail, "说明": "重写"} if seq == seqs[0] else row.detail
        new = digest(row, detail=detail, prev_hash=prev)
        set_detail(seq, detail)
        sql(f"UPDATE {TABLE} SET prev_hash = %s, hash = %s WHERE seq = %s", [prev, new, seq])
        prev = new


@contextmanager
def at(moment: dt.datetime) -> Iterator[None]:
    """Everything inside happens at ``moment`` (records and checkpoints are stamped with it):
    the one time seam, time-machine."""
    with time_machine.travel(moment, tick=False):
        yield


# --- every column in the hash ----------------------------------------------------------------

def test_the_digest_covers_every_stored_column() -> None:
    columns = {f.column for f in AuditRecord._meta.concrete_fields} - {"id", "hash"}
    assert set(DIGEST_COLUMNS) == columns
    base: dict[str, Any] = {
        "seq": 5, "at": "2026-12-01T02:00:00+00:00", "actor_id": 3, "actor_name": "张三",
        "action": "case.accepted", "object_type": "case", "object_id": "9",
        "detail": {"a": 1}, "prev_hash": "ab" * 32, "algorithm": "sha256"}
    original = record_digest(**base)
    changed: dict[str, Any] = {
        "seq": 6, "at": "2026-12-01T02:00:01+00:00", "actor_id": 4, "actor_name": "李四",
        "action": "case.denied", "object_type": "item", "object_id": "8",
        "detail": {"a": 2}, "prev_hash": "cd" * 32, "algorithm": "sm3"}
    for name, value in changed.items():
        assert record_digest(**{**base, name: value}) != original, name
    assert record_digest(**base, version=1) != original


def test_an_edited_actor_name_is_caught(chain: Chain) -> None:
    chain(6)
    sql(f"UPDATE {TABLE} SET actor_name = %s WHERE seq = %s", ["局长", 4])

    status, out, err = verify()
    assert status == 1
    assert "记录 #4 内容被修改" in out
    assert err == "审计日志未通过校验：记录 #4 内容被修改"


def test_records_written_before_every_column_was_hashed_still_verify(chain: Chain) -> None:
    """Records of digest version 1 (as stored before the change) keep verifying with their own
    formula; the records appended after them use version 2."""
    prev = GENESIS
    now = timezone.now()
    for seq in (1, 2):
        values: dict[str, Any] = {"seq": seq, "at": now.isoformat(), "actor_id": None, "action": "test.old",
                  "object_type": "thing", "object_id": str(seq), "detail": {"n": seq},
                  "prev_hash": prev, "algorithm": "sha256"}
        digest_ = record_digest(**values, version=1)
        sql(f"INSERT INTO {TABLE} (seq, at, actor_id, actor_name, action, object_type, "
            f"object_id, detail, prev_hash, hash, algorithm, digest_version) VALUES "
            f"(%s, %s, NULL, 'system', 'test.old', 'thing', %s, {json_param()}, %s, %s, "
            f"'sha256', 1)", [seq, now, str(seq), json.dumps({"n": seq}), prev, digest_])
        prev = digest_
    number_after_table()
    chain(2)
    assert list(AuditRecord.objects.values_list("digest_version", flat=True)) == [1, 1, 2, 2]
    assert record(3).prev_hash == record(2).hash
    assert verify()[0] == 0

    # Going back to the old formula to hide a change of a newer record is a modification.
    row = record(4)
    sql(f"UPDATE {TABLE} SET actor_name = %s, digest_version = 1, hash = %s WHERE seq = 4",
        ["局长", digest(row, actor_name="局长", version=1)])
    assert messages()[0] == "记录 #4 内容被修改"


def test_an_unknown_digest_version_is_a_modification(chain: Chain) -> None:
    chain(3)
    sql(f"UPDATE {TABLE} SET digest_version = 7 WHERE seq = 2")
    assert messages()[0] == "记录 #2 内容被修改"


# --- the records after the newest checkpoint, against the head file ----------------------------

def test_an_untampered_chain_with_checkpoints_passes(chain: Chain, committed: Committed) -> None:
    chain(4)
    committed(audit_checkpoint_write)
    chain(3)

    status, out, err = verify("--full")
    assert (status, err) == (0, "")
    assert "已签署至记录 #4；其后 3 条记录尚未签署" in out
    assert "已与链头文件比对 8 行" in out  # 7 records and 1 checkpoint
    assert out.strip().endswith("完好")
    lines = head.head_path().read_text().splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["record", "1"], ["record", "2"], ["record", "3"], ["record", "4"], ["checkpoint", "4"],
        ["record", "5"], ["record", "6"], ["record", "7"]]
    assert lines[3].split()[2] == record(4).hash == lines[4].split()[2]


def test_deleted_newest_records_after_the_checkpoint_are_caught(chain: Chain,
                                                               committed: Committed) -> None:
    chain(4)
    committed(audit_checkpoint_write)
    chain(3)
    delete(6, 7)

    status, _out, err = verify()
    assert status == 1
    assert err.startswith("审计日志未通过校验：记录 #5 之后缺失记录 #6–#7"
                          "（末尾的记录被删除，链头文件记录至记录 #7，")


def test_deleted_newest_records_without_any_checkpoint_are_caught(chain: Chain) -> None:
    chain(5)
    delete(5)

    status, _out, err = verify()
    assert status == 1
    assert err.startswith("审计日志未通过校验：记录 #4 之后缺失记录 #5"
                          "（末尾的记录被删除，链头文件记录至记录 #5，")


def test_records_rewritten_after_the_checkpoint_are_caught(chain: Chain,
                                                         committed: Committed) -> None:
    chain(4)
    committed(audit_checkpoint_write)
    chain(3)
    rewrite(range(5, 8), prev=record(4).hash)
    # The chain itself is consistent again: only the head file tells.
    assert all(record(s).prev_hash == record(s - 1).hash for s in range(2, 8))

    status, _out, err = verify()
    assert status == 1
    assert err.startswith("审计日志未通过校验：记录 #5 与链头文件（")
    assert err.endswith("）不符：该记录被改写")
    # And no checkpoint is signed over the forgery.
    with pytest.raises(ChainBroken, match="记录 #5 与链头文件"):
        audit_checkpoint_write()
    assert AuditCheckpoint.objects.count() == 1


def test_a_rewritten_tail_with_a_checkpoint_names_its_first_record(ten_committed: None) -> None:
    rewrite(range(6, 11), prev=record(5).hash)
    problems = messages()
    assert problems[0].startswith("记录 #6 与链头文件（")
    assert any(p.startswith("记录 #10 与检查点（") for p in problems)


@pytest.fixture
def ten_committed(chain: Chain, committed: Committed) -> None:
    chain(10)
    committed(audit_checkpoint_write)


def test_a_deleted_checkpoint_and_what_follows_are_caught(chain: Chain,
                                                         committed: Committed) -> None:
    chain(5)
    committed(audit_checkpoint_write)
    chain(5)
    committed(audit_checkpoint_write)
    chain(2)
    sql("DELETE FROM audit_auditcheckpoint WHERE seq = 10")
    delete(*range(6, 13))
    # What remains verifies on its own: the first checkpoint still matches record #5.
    assert AuditCheckpoint.objects.get().seq == 5

    status, out, err = verify()
    assert status == 1
    assert err.startswith("审计日志未通过校验：检查点（记录 #10，")
    assert err.endswith("）被删除：链头文件记录了它，数据库中已没有")
    assert "记录 #5 之后缺失记录 #6–#12（末尾的记录被删除，链头文件记录至记录 #12，" in out


def test_a_deleted_checkpoint_alone_is_caught(chain: Chain, committed: Committed) -> None:
    chain(3)
    committed(audit_checkpoint_write)
    sql("DELETE FROM audit_auditcheckpoint")

    status, _out, err = verify()
    assert status == 1
    assert err.startswith("审计日志未通过校验：检查点（记录 #3，")


def test_a_truncated_table_is_caught(chain: Chain, committed: Committed) -> None:
    chain(5)
    committed(audit_checkpoint_write)
    sql(f"DELETE FROM {TABLE}")
    sql("DELETE FROM audit_auditcheckpoint")

    status, out, err = verify()
    assert status == 1
    assert err.startswith("审计日志未通过校验：检查点（记录 #5，")
    assert "审计日志中没有记录，但链头文件记录至记录 #5（" in out
    assert "）：记录 #1–#5 被删除" in out


def test_a_truncated_table_refilled_with_a_new_chain_is_caught(chain: Chain) -> None:
    chain(5)
    sql(f"DELETE FROM {TABLE}")
    number_after_table()  # as the intruder would set the numbering back
    chain(2)  # a fresh chain from #1, consistent in itself

    status, _out, err = verify()
    assert status == 1
    assert err.startswith("审计日志未通过校验：记录 #1 与链头文件（")


def test_a_rolled_back_record_leaves_no_head_line(chain: Chain,
                                                 django_capture_on_commit_callbacks: Any) -> None:
    chain(2)
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                audit_record(actor=None, action="test.acted", object_type="thing", object_id=3)
                raise RuntimeError("the action failed")
        except RuntimeError:
            pass
    assert len(head.head_path().read_text().splitlines()) == 2
    assert verify()[0] == 0


def test_an_altered_head_file_line_is_reported(chain: Chain) -> None:
    chain(2)
    with head.head_path().open("a") as out:
        out.write("record two\n")
    status, _out, err = verify()
    assert status == 1
    assert err == f"审计日志未通过校验：链头文件 {head.head_path()} 第 3 行无法识别：该文件被改动"


def test_a_missing_head_file_is_said(chain: Chain) -> None:
    chain(2)
    head.head_path().unlink()
    status, out, _err = verify()
    assert status == 0
    assert f"链头文件 {head.head_path()} 不存在，未比对" in out


# --- a checkpoint schedule that stopped --------------------------------------------------------

def test_records_waiting_too_long_for_a_checkpoint_fail(chain: Chain, committed: Committed,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        settings: Any) -> None:
    settings.AUDIT_CHECKPOINT_MAX_AGE_MINUTES = 120
    three_hours_ago = timezone.now() - dt.timedelta(hours=3)
    with at(three_hours_ago):
        chain(3)
        committed(audit_checkpoint_write)
        chain(2)

    status, out, err = verify()
    assert status == 1
    assert "已签署至记录 #3；其后 2 条记录尚未签署" in out
    assert err.startswith("审计日志未通过校验：最新检查点（记录 #3，")
    assert err.endswith("）已超过 120 分钟，其后 2 条记录尚未签署：检查点计划未按时运行")

    # Writing the checkpoint is the remedy, and age does not stop it.
    committed(audit_checkpoint_write)
    assert verify()[0] == 0


def test_records_never_sealed_fail_once_too_old(chain: Chain, monkeypatch: pytest.MonkeyPatch,
                                               settings: Any) -> None:
    settings.AUDIT_CHECKPOINT_MAX_AGE_MINUTES = 120
    with at(timezone.now() - dt.timedelta(minutes=121)):
        chain(2)
    status, _out, err = verify()
    assert status == 1
    assert err == ("审计日志未通过校验：审计日志没有检查点，2 条记录等待签署已超过 120 分钟："
                   "检查点计划未运行")


def test_an_old_checkpoint_with_nothing_after_it_is_fine(chain: Chain, committed: Committed,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    with at(timezone.now() - dt.timedelta(days=2)):
        chain(3)
        committed(audit_checkpoint_write)
    status, out, _err = verify()
    assert status == 0
    assert "已签署至记录 #3；其后 0 条记录尚未签署" in out


def test_records_within_the_allowed_age_pass(chain: Chain, committed: Committed,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    with at(timezone.now() - dt.timedelta(minutes=90)):
        chain(3)
        committed(audit_checkpoint_write)
        chain(1)
    assert verify()[0] == 0


# --- the signing key away from the data ---------------------------------------------------------

def test_a_key_left_in_the_data_dir_is_moved_to_the_key_dir(
        chain: Chain, settings: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A key an older version generated beside the data moves out, and keeps vouching."""
    settings.AUDIT_KEY_DIR = str(tmp_path / "data")  # as the older version had it
    chain(2)
    first = audit_checkpoint_write()
    legacy = tmp_path / "data" / "audit-signing.key"
    assert legacy.exists()

    settings.AUDIT_KEY_DIR = str(tmp_path / "keys")
    with caplog.at_level(logging.WARNING, logger="tongban.audit.signing"):
        key = signing_key(create=False)
    assert key is not None and key.public.key_id == first.key_id
    assert not legacy.exists()
    assert (tmp_path / "keys" / "audit-signing.key").exists()
    assert "Moved the audit signing key" in caplog.text
    assert verify_chain(check_age=False).intact


def test_the_default_key_dir_is_outside_the_data_dir(settings: Any, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from tongban.audit.signing import key_dir

    settings.AUDIT_KEY_DIR = ""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert key_dir() in (Path("/etc/tongban"), tmp_path / "config" / "tongban")
    assert not key_dir().resolve().is_relative_to(Path(settings.DATA_DIR).resolve())


def test_the_current_digest_version_is_stored(chain: Chain) -> None:
    chain(1)
    assert record(1).digest_version == DIGEST_VERSION == 2


def test_the_head_file_problems_in_english(chain: Chain) -> None:
    chain(3)
    delete(3)
    status, out, err = verify("--language", "en")
    assert status == 1
    assert "Compared 3 lines of the head file" in out
    assert "No checkpoint yet: 2 records are not signed" in out
    assert ("Records #3 are missing after record #2 (the last records were deleted; the head "
            "file runs to record #3, ") in err


def test_a_long_head_file_is_compared_in_batches(chain: Chain, monkeypatch: pytest.MonkeyPatch) -> None:
    from tongban.audit import verification

    monkeypatch.setattr(verification, "HEAD_BATCH", 3)
    chain(8)
    rewrite(range(7, 9), prev=record(6).hash)
    result = verify_chain()
    assert result.head_entries_checked == 8
    assert [p.message.split("（")[0] for p in result.problems] == ["记录 #7 与链头文件"]


def test_a_line_torn_by_a_crash_does_not_count_as_tampering(chain: Chain) -> None:
    chain(1)
    with head.head_path().open("a") as out:
        out.write("record 2 0f0f")  # the process died mid-write; record #2 was rolled back
    chain(1)
    assert head.head_path().read_text().splitlines()[1].startswith("record 2 0f0frecord 2 ")
    assert verify()[0] == 0


def test_the_hourly_checkpoint_reads_only_the_end_of_a_long_head_file(
        chain: Chain, committed: Committed, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(head, "SLACK", 5)
    monkeypatch.setattr(head, "_BISECT_STOP", 64)
    chain(40)
    committed(audit_checkpoint_write)
    chain(5)
    # A contradiction early in the file (line of record #3 altered)...
    path = head.head_path()
    lines = path.read_text().splitlines(keepends=True)
    assert lines[2].startswith("record 3 ")
    lines[2] = f"record 3 {'ab' * 32} {lines[2].split()[3]}\n"
    path.write_text("".join(lines))

    seqs = [e.seq for e in head.entries(40) if isinstance(e, head.Entry)]
    assert 30 <= seqs[0] <= 40 - 5  # the reading starts just before record #40 - SLACK
    assert seqs[-6:] == [40, 41, 42, 43, 44, 45] or seqs[-7:] == [40, 40, 41, 42, 43, 44, 45]
    # ...is outside what the next checkpoint reads: it is signed...
    committed(audit_checkpoint_write)
    assert AuditCheckpoint.objects.order_by("-seq").values_list("seq", flat=True)[0] == 45
    # ...and a full verification finds it.
    assert messages()[0].startswith("记录 #3 与链头文件（")
