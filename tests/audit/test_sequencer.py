"""Appending without a global lock: records are written numbered and unsealed, the sequencer
(``audit_seal``) chains them moments later; gaps from rolled-back writes, records committed
late, the unsealed tail in ``verify_audit``, the incremental and the parallel full check."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.utils import timezone

from tests.audit.conftest import TABLE, digest, json_param, record, set_detail, sql
from tongban.audit import parallel
from tongban.audit.models import AuditRecord
from tongban.audit.sealing import audit_seal
from tongban.audit.selectors import unsealed_tail
from tongban.audit.services import GENESIS, audit_checkpoint_write, audit_record
from tongban.audit.verification import verify_chain

Chain = Callable[[int], list[int]]
Sealed = Callable[[], int]


def write(n: int = 0) -> AuditRecord:
    with transaction.atomic():
        return audit_record(actor=None, action="test.acted", object_type="thing", object_id=n,
                            detail={"n": n})


def verify_json(*args: str) -> dict[str, Any]:
    out = io.StringIO()
    with contextlib.suppress(CommandError):  # status 1: the JSON is printed all the same
        call_command("verify_audit", "--json", *args, stdout=out)
    return dict(json.loads(out.getvalue()))


def test_a_record_is_written_unsealed_and_the_sealer_chains_it(chain: Chain,
                                                                sealed: Sealed) -> None:
    chain(2)
    new = write(3)
    assert (new.seq, new.prev_hash, new.hash) == (3, None, None)
    assert unsealed_tail()[0] == 1
    assert verify_chain(check_age=False).intact  # an unsealed record is no broken chain

    assert sealed() == 1
    row = record(3)
    assert row.prev_hash == record(2).hash
    assert row.hash == digest(row)
    assert unsealed_tail() == (0, None)
    assert sealed() == 0  # nothing left


def test_a_number_never_committed_is_a_gap_the_chain_runs_across(chain: Chain,
                                                                  sealed: Sealed) -> None:
    chain(2)
    write(3)
    write(4)
    sql(f"DELETE FROM {TABLE} WHERE seq = 3")  # as a rolled-back transaction leaves it
    sealed()
    assert record(4).prev_hash == record(2).hash
    result = verify_chain(check_age=False)
    assert result.intact, [p.message for p in result.problems]
    assert (result.records_checked, result.last_seq) == (3, 4)


def test_a_sealed_record_deleted_is_still_named_across_a_gap(chain: Chain) -> None:
    chain(5)
    sql(f"DELETE FROM {TABLE} WHERE seq = 3")
    assert [p.message for p in verify_chain(check_age=False).problems] == ["记录 #4 之前缺失记录 #3"]


def test_a_sealed_record_made_to_look_unsealed_is_named(chain: Chain) -> None:
    chain(5)
    sql(f"UPDATE {TABLE} SET hash = NULL, prev_hash = NULL WHERE seq = 3")
    assert verify_chain(check_age=False).problems[0].message == "记录 #3 内容被修改"


def test_a_record_committed_after_the_chain_passed_its_number_joins_at_the_end(
        chain: Chain, sealed: Sealed) -> None:
    chain(2)
    write(3)
    write(4)
    sql(f"DELETE FROM {TABLE} WHERE seq = 3")
    sealed()  # #4 sealed; #3 not there (yet)
    # #3 commits only now (its transaction outlived the sealer's wait).
    sql(f"INSERT INTO {TABLE} (seq, at, actor_id, actor_name, action, object_type, object_id, "
        f"detail, algorithm, digest_version) VALUES (3, %s, NULL, 'system', 'test.late', 'thing', "
        f"'3', {json_param()}, 'sha256', 2)", [timezone.now(), json.dumps({"n": 3})])
    sealed()
    late = AuditRecord.objects.get(action="test.late")
    assert late.seq > 4 and late.prev_hash == record(4).hash and late.hash == digest(late)
    assert verify_chain(check_age=False).intact


def test_verify_reports_the_unsealed_tail_and_a_stopped_sealer(chain: Chain, settings: Any,
                                                               time_machine: Any) -> None:
    settings.AUDIT_SEAL_MAX_AGE_SECONDS = 120
    chain(2)
    write(3)
    report = verify_json("--full")
    assert (report["intact"], report["pending"]) == (True, 1)
    assert report["pending_oldest_age_seconds"] < 120

    time_machine.move_to(timezone.now() + dt.timedelta(minutes=5), tick=False)
    count, age = unsealed_tail()
    assert count == 1 and age is not None and age >= 290
    report = verify_json("--full")
    assert report["intact"] is False
    assert [p["kind"] for p in report["problems"]] == ["unsealed_stale"]
    assert report["problems"][0]["message"].startswith("1 条审计记录等待封存，最早的（记录 #3）")


def test_seal_audit_command(chain: Chain, django_capture_on_commit_callbacks: Any) -> None:
    chain(1)
    write(2)
    write(3)
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seal_audit", stdout=out)
    assert out.getvalue().strip() == "已封存 2 条审计记录；0 条等待封存"


def test_checkpoints_cover_sealed_records_only_and_seal_first(chain: Chain) -> None:
    chain(3)
    write(4)
    checkpoint = audit_checkpoint_write()
    assert (checkpoint.seq, checkpoint.count, checkpoint.record_hash) == (4, 4, record(4).hash)


def test_the_default_verification_starts_at_the_newest_checkpoint(chain: Chain) -> None:
    chain(6)
    audit_checkpoint_write()
    chain(2)
    report = verify_json()
    assert (report["intact"], report["from_seq"], report["records_checked"]) == (True, 6, 3)
    # An older record changed in place is for the full check (each checkpoint was signed over
    # verified records; the full check walks them all again).
    set_detail(2, {"n": "改过了"})
    assert verify_json()["intact"] is True
    full = verify_json("--full")
    assert [p["message"] for p in full["problems"]] == ["记录 #2 内容被修改"]


@pytest.mark.parametrize("tamper", ["detail", "delete", "seam"])
def test_the_parallel_full_check_names_what_the_sequential_one_names(
        chain: Chain, monkeypatch: pytest.MonkeyPatch, tamper: str) -> None:
    monkeypatch.setattr(parallel, "RANGE", 4)  # ranges #1–4, #5–8, …
    chain(14)
    audit_checkpoint_write()
    intact = verify_chain(workers=4, check_age=False)
    assert intact.intact and intact.records_checked == 14
    if tamper == "detail":
        set_detail(10, {"n": "改过了"})
    elif tamper == "delete":
        sql(f"DELETE FROM {TABLE} WHERE seq = 6")
    else:  # the first record of a range rewritten with its own hash: the seam no longer holds
        row = record(9)
        sql(f"UPDATE {TABLE} SET prev_hash = %s, hash = %s WHERE seq = 9",
            [GENESIS, digest(row, prev_hash=GENESIS)])
    sequential = [p.message for p in verify_chain(check_age=False).problems]
    assert sequential
    assert [p.message for p in verify_chain(workers=4, check_age=False).problems] == sequential


# --- writers do not wait for one another (PostgreSQL: sequence, no global lock) ------------------

def _in_thread(target: Callable[[], None]) -> threading.Thread:
    def run() -> None:
        try:
            target()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="SQLite serialises writers")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_writer_does_not_wait_for_an_open_audited_transaction(settings: Any) -> None:
    """A holds its transaction open after writing its record; B writes and commits meanwhile
    (before: B waited for A's chain lock). Sealed with A open, B's record joins the chain; A's,
    committed afterwards, joins it at the end (numbered anew). Everything verifies."""
    settings.AUDIT_SEAL_WAIT_SECONDS = 0
    written, release, b_done = threading.Event(), threading.Event(), threading.Event()

    def a() -> None:
        with transaction.atomic():
            audit_record(actor=None, action="test.a", object_type="thing", object_id="a")
            written.set()
            release.wait()

    def b() -> None:
        written.wait()
        with transaction.atomic():
            audit_record(actor=None, action="test.b", object_type="thing", object_id="b")
        b_done.set()

    thread_a, thread_b = _in_thread(a), _in_thread(b)
    thread_b.join()
    assert b_done.is_set() and thread_a.is_alive()
    audit_seal()
    assert list(AuditRecord.objects.filter(hash__isnull=False).values_list("action", flat=True)) \
        == ["test.b"]
    release.set()
    thread_a.join()
    audit_seal()
    chain = list(AuditRecord.objects.order_by("seq").values_list("action", "prev_hash", "hash"))
    assert [c[0] for c in chain] == ["test.b", "test.a"]
    assert chain[1][1] == chain[0][2]
    assert verify_chain(check_age=False).intact


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="SQLite serialises writers")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_sealer_waits_for_a_transaction_that_may_still_commit_a_lower_number(
        settings: Any) -> None:
    settings.AUDIT_SEAL_WAIT_SECONDS = 600
    written, release = threading.Event(), threading.Event()
    results: list[int] = []

    def a() -> None:
        with transaction.atomic():
            audit_record(actor=None, action="test.a", object_type="thing", object_id="a")
            written.set()
            release.wait()

    thread_a = _in_thread(a)
    written.wait()
    with transaction.atomic():
        audit_record(actor=None, action="test.b", object_type="thing", object_id="b")
    sealer = _in_thread(lambda: results.append(audit_seal()))
    release.set()  # whenever the sealer looks, A's number is committed or being waited for
    thread_a.join()
    sealer.join()
    assert results == [2]
    chain = list(AuditRecord.objects.order_by("seq").values_list("seq", "action"))
    assert [action for _seq, action in chain] == ["test.a", "test.b"]
    assert verify_chain(check_age=False).intact
    assert connection.vendor == "postgresql"
