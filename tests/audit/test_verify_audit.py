"""``tongban verify_audit``: each kind of tampering, done directly in the database, is caught
with the right record named and exit status 1; an intact chain passes with status 0."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from tests.audit.conftest import (
    delete,
    digest,
    insert_forged,
    record,
    set_detail,
    set_hash,
    shift_from,
    sql,
    swap,
)
from tongban.audit.head import head_path
from tongban.audit.models import AuditCheckpoint, AuditRecord
from tongban.audit.services import GENESIS, audit_checkpoint_write, audit_record
from tongban.audit.verification import verify_chain

Chain = Callable[[int], list[int]]


def verify(*args: str) -> tuple[int, str, str]:
    """Run the command: (exit status, stdout, the error message)."""
    out = io.StringIO()
    try:
        call_command("verify_audit", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), str(exc)
    return 0, out.getvalue(), ""


def first_problem() -> str:
    result = verify_chain()
    assert result.first_problem is not None, "the tampering was not caught"
    return result.first_problem.message


@pytest.fixture
def ten(chain: Chain) -> list[int]:
    seqs = chain(10)
    assert seqs == list(range(1, 11)), "the chain starts empty in each test"
    return seqs


def test_an_intact_chain_passes_with_status_0(ten: list[int]) -> None:
    status, out, _err = verify()
    assert status == 0
    assert "已校验 10 条记录（自 #1 起）、0 个检查点" in out
    assert out.strip().endswith("完好")
    assert record(1).prev_hash == GENESIS
    assert record(2).prev_hash == record(1).hash


def test_a_changed_detail_names_the_record(ten: list[int]) -> None:
    set_detail(5, {"n": 4, "说明": "改过了"})

    status, out, err = verify()
    assert status == 1
    assert "记录 #5 内容被修改" in out
    assert err == "审计日志未通过校验：记录 #5 内容被修改"


def test_a_change_with_its_hash_recomputed_still_names_the_record(ten: list[int]) -> None:
    row = record(5)
    set_detail(5, {"n": 4, "说明": "改过了"})
    set_hash(5, digest(row, detail={"n": 4, "说明": "改过了"}))
    assert first_problem() == "记录 #5 内容被修改"


def test_a_changed_actor_or_time_is_caught(ten: list[int]) -> None:
    sql("UPDATE audit_auditrecord SET action = %s WHERE seq = %s", ["case.denied", 7])
    assert first_problem() == "记录 #7 内容被修改"


@pytest.mark.parametrize(("deleted", "message"), [
    ((5,), "记录 #6 之前缺失记录 #5"),
    ((1,), "记录 #2 之前缺失记录 #1"),
    ((4, 5, 6), "记录 #7 之前缺失记录 #4–#6"),
])
def test_a_deleted_record_is_named(ten: list[int], deleted: tuple[int, ...], message: str) -> None:
    delete(*deleted)
    status, _out, _err = verify()
    assert status == 1
    assert first_problem() == message


def test_records_deleted_and_the_rest_renumbered_are_named(ten: list[int]) -> None:
    delete(5)
    shift_from(6, -1)
    assert first_problem() == "记录 #5 之前缺失记录 #5（之后的记录被重新编号）"


def test_an_inserted_record_with_a_valid_hash_is_named(ten: list[int]) -> None:
    # Make room after #5 and insert a record chained to #5 whose own hash is right.
    shift_from(6, 1)
    insert_forged(seq=6, prev_hash=record(5).hash, like=record(5))
    assert AuditRecord.objects.count() == 11

    status, _out, err = verify()
    assert status == 1
    assert err == "审计日志未通过校验：记录 #6 为插入的记录"


def test_a_record_appended_but_chained_to_an_older_one_is_named(ten: list[int]) -> None:
    insert_forged(seq=11, prev_hash=record(4).hash, like=record(4))
    assert first_problem() == "记录 #11 为插入的记录"


@pytest.mark.parametrize(("a", "b"), [(3, 7), (4, 5), (1, 2)])
def test_swapped_records_are_named(ten: list[int], a: int, b: int) -> None:
    swap(a, b)
    status, _out, err = verify()
    assert status == 1
    assert err == f"审计日志未通过校验：记录 #{a} 顺序被调换（与记录 #{b} 对调）"


def test_deleted_last_records_are_caught_by_the_checkpoint(ten: list[int]) -> None:
    audit_checkpoint_write()
    delete(9, 10)

    status, out, _err = verify()
    assert status == 1
    assert "记录 #8 之后缺失记录 #9–#10（末尾的记录被删除，检查点确认至记录 #10）" in out


def test_an_emptied_log_is_caught_by_the_checkpoint(ten: list[int]) -> None:
    audit_checkpoint_write()
    sql("DELETE FROM audit_auditrecord")
    assert first_problem() == "审计日志中没有记录，但检查点确认至记录 #10：记录 #1–#10 被删除"


def test_a_rewritten_tail_is_caught_by_the_checkpoint(ten: list[int]) -> None:
    """Rewriting #6 and recomputing every later hash leaves a consistent chain; the signed
    checkpoint over #10 still tells (even with the head file gone)."""
    audit_checkpoint_write()
    head_path().unlink()
    prev = record(5).hash
    for seq in range(6, 11):
        row = record(seq)
        detail = {**row.detail, "说明": "重写"} if seq == 6 else row.detail
        new = digest(row, detail=detail, prev_hash=prev)
        set_detail(seq, detail)
        sql("UPDATE audit_auditrecord SET prev_hash = %s, hash = %s WHERE seq = %s", [prev, new, seq])
        prev = new

    assert first_problem().startswith("记录 #10 与检查点（")


def test_a_forged_checkpoint_signature_is_caught(ten: list[int]) -> None:
    checkpoint = audit_checkpoint_write()
    sql("UPDATE audit_auditcheckpoint SET count = 11 WHERE id = %s", [checkpoint.pk])

    status, out, _err = verify()
    assert status == 1
    assert "检查点（记录 #10，" in out and "）的签名无效" in out


def test_a_checkpoint_of_an_unknown_key_is_caught(ten: list[int], settings: Any,
                                                  tmp_path: Any) -> None:
    audit_checkpoint_write()
    # The key is replaced (e.g. the key directory lost): the old checkpoint's key is no longer
    # trusted unless listed as retired.
    settings.AUDIT_SIGNING_KEY_FILE = ""
    settings.AUDIT_KEY_DIR = str(tmp_path / "other")
    message = first_problem()
    assert "由不受信任的密钥" in message
    old = AuditCheckpoint.objects.get()
    from tongban.audit.signing import signing_key

    settings.AUDIT_KEY_DIR = str(tmp_path / "keys")
    public = signing_key(create=False).public  # type: ignore[union-attr]
    settings.AUDIT_KEY_DIR = str(tmp_path / "other")
    settings.AUDIT_TRUSTED_PUBLIC_KEYS = [f"ed25519:{public.hex}"]
    assert public.key_id == old.key_id
    assert verify_chain().intact


def test_an_sm3_chain_and_a_switch_of_algorithm_verify(chain: Chain, settings: Any) -> None:
    chain(3)
    settings.AUDIT_HASH = "sm3"
    chain(3)
    assert list(AuditRecord.objects.values_list("algorithm", flat=True)) == ["sha256"] * 3 + ["sm3"] * 3
    assert len(record(4).hash or "") == 64
    assert verify()[0] == 0

    set_detail(5, {"n": 99})
    assert first_problem() == "记录 #5 内容被修改"
    # Claiming another algorithm for a record does not help either.
    sql("UPDATE audit_auditrecord SET algorithm = 'sha256' WHERE seq = 4")
    assert first_problem() == "记录 #4 内容被修改"


def test_sm2_checkpoints_sign_and_verify(chain: Chain, settings: Any) -> None:
    settings.AUDIT_SIGNATURE = "sm2"
    settings.AUDIT_HASH = "sm3"
    chain(4)
    checkpoint = audit_checkpoint_write()
    assert (checkpoint.signature_algorithm, checkpoint.seq, checkpoint.count) == ("sm2", 4, 4)
    assert verify()[0] == 0

    sql("UPDATE audit_auditcheckpoint SET record_hash = %s", [record(3).hash])
    assert first_problem().endswith("的签名无效")


def test_json_output_and_from_seq(ten: list[int]) -> None:
    status, out, _err = verify("--json", "--from-seq", "4")
    assert status == 0
    assert json.loads(out) == {"intact": True, "from_seq": 4, "records_checked": 7,
                               "checkpoints_checked": 0, "last_seq": 10, "sealed_through": None,
                               "pending": 0, "pending_oldest_age_seconds": None,
                               "unsealed": 10, "head_entries_checked": 7, "problems": []}

    delete(6)
    status, out, _err = verify("--json")
    assert status == 1
    report = json.loads(out)
    assert report["intact"] is False
    assert report["problems"] == [{"kind": "missing", "seq": 7, "missing": "6",
                                   "message": "记录 #7 之前缺失记录 #6"}]


def test_english_output(ten: list[int]) -> None:
    status, out, _err = verify("--language", "en")
    assert status == 0
    assert "10" in out


def test_no_checkpoint_is_signed_over_a_broken_chain(ten: list[int],
                                                    sealed: Callable[[], int]) -> None:
    audit_checkpoint_write()
    with transaction.atomic():
        audit_record(actor=None, action="test.acted", object_type="thing", object_id=11)
    sealed()  # changed once sealed (before, the sealer would hash the changed content: audit.md)
    set_detail(11, {"x": 1})

    out = io.StringIO()
    with pytest.raises(CommandError, match="未签署检查点：记录 #11 内容被修改"):
        call_command("audit_checkpoint", stdout=out)
    assert AuditCheckpoint.objects.count() == 1
