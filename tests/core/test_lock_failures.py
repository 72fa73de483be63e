"""Lock failures: no lock order to keep with the audit log (its append takes no lock), a
deadlock's victim run once more, and 503 only for a lock not granted in time
(``core.errors.lock_failure``)."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg.errors
import pytest
from django.db import OperationalError, connection, connections, transaction
from django.http import HttpResponse

from tests.cases.conftest import (  # noqa: F401  (fixtures)
    TIME_LIMITED,
    WALK_IN,
    ApiClient,
    catalog,
    form,
    people,
)
from tests.cases.test_api_concurrency import at_once, submitted_case, threads_db  # noqa: F401
from tests.conftest import make_user
from tongban.accounts.models import Role, User
from tongban.audit.models import AuditRecord
from tongban.audit.services import audit_record
from tongban.cases.models import Case
from tongban.cases.notifications import selectors


def waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                       "AND datname = current_database()")
        return int(cursor.fetchone()[0])


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite serialises writers: no row locks, no deadlock")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_audited_action_and_a_lock_of_the_account_do_not_deadlock() -> None:
    citizen = make_user("lisi", Role.CITIZEN, real_name="李四")
    row_locked, reader_done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def lock_the_account_then_audit() -> None:
        # A service that locks the account row (``FOR UPDATE``) and audits what it did.
        try:
            with transaction.atomic():
                User.objects.select_for_update().get(pk=citizen.pk)
                row_locked.set()
                # Carry on only once the other request is blocked behind this one (or done).
                deadline = time.monotonic() + 20
                while not reader_done.is_set() and time.monotonic() < deadline:
                    if waiting_on_a_lock():
                        break
                    time.sleep(0.02)
                audit_record(actor=citizen, action="account.updated", object_type="user",
                             object_id=citizen.pk)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def audit_a_read() -> None:
        # An audited action whose first write is its audit record (a staff read, say).
        try:
            row_locked.wait(20)
            with transaction.atomic():
                audit_record(actor=citizen, action="case.read", object_type="case", object_id=1)
        except BaseException as exc:
            errors.append(exc)
        finally:
            reader_done.set()
            connections.close_all()

    threads = [threading.Thread(target=lock_the_account_then_audit),
               threading.Thread(target=audit_a_read)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    # Both committed. (Their numbers are drawn before the read's insert waits for the account
    # row, so the order of numbers need not be the order of commits: the audit log's
    # sequencer chains them in number order, docs/audit.md.)
    records = list(AuditRecord.objects.order_by("seq").values_list("action", flat=True))
    assert sorted(records) == ["account.updated", "case.read"]


def wrapped(cause: Exception) -> OperationalError:
    """The error Django raises for a database error: its own class, the driver's as cause."""
    error = OperationalError(str(cause))
    error.__cause__ = cause
    return error


@pytest.fixture
def failing_list(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``GET /api/v1/notifications`` fails with the given errors first, then works."""
    calls: list[int] = []
    original = selectors.notification_list

    def arrange(*errors: Exception) -> list[int]:
        queue = list(errors)

        def listing(**kwargs: Any) -> Any:
            calls.append(1)
            if queue:
                raise queue.pop(0)
            return original(**kwargs)

        monkeypatch.setattr(selectors, "notification_list", listing)
        return calls

    return arrange


@pytest.mark.django_db
def test_a_deadlock_victim_is_run_once_more(failing_list: Any) -> None:
    make_user("lisi", Role.CITIZEN)
    client = ApiClient("lisi")
    calls = failing_list(wrapped(psycopg.errors.DeadlockDetected("deadlock detected")))
    response = client.get("/notifications")
    assert (response.status_code, response.json()["total"], len(calls)) == (200, 0, 2)


@pytest.mark.django_db
def test_a_second_deadlock_is_a_fault_not_busy(failing_list: Any) -> None:
    make_user("lisi", Role.CITIZEN)
    client = ApiClient("lisi")
    deadlock = psycopg.errors.DeadlockDetected("deadlock detected")
    calls = failing_list(wrapped(deadlock), wrapped(deadlock))
    response = client.get("/notifications")
    assert (response.status_code, len(calls)) == (500, 2)


@pytest.mark.django_db
@pytest.mark.parametrize("cause", [
    psycopg.errors.LockNotAvailable("canceling statement due to lock timeout"),
    None,  # SQLite: its own message, no code
])
def test_a_lock_time_out_answers_503(failing_list: Any, cause: Exception | None) -> None:
    make_user("lisi", Role.CITIZEN)
    client = ApiClient("lisi")
    error = wrapped(cause) if cause is not None else OperationalError("database is locked")
    calls = failing_list(error)
    response = client.get("/notifications")
    assert (response.status_code, response.json(), len(calls)) == (
        503, {"detail": "系统繁忙，请稍后重试"}, 1)


@pytest.mark.django_db
def test_another_database_error_naming_a_lock_is_a_fault(failing_list: Any) -> None:
    make_user("lisi", Role.CITIZEN)
    client = ApiClient("lisi")
    error = wrapped(psycopg.errors.ObjectInUse('database "tongban" is locked by another user'))
    calls = failing_list(error)
    response = client.get("/notifications")
    assert (response.status_code, len(calls)) == (500, 1)


ROUNDS = 3


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_eight_requests_of_one_account_at_once_all_succeed(
    people: dict[str, User], threads_db: None,  # noqa: F811
) -> None:
    # An officer's audited reads of a case (audit first) racing their own idempotent creations
    # (the account row locked first, then audited): the two lock orders that deadlocked.
    case = submitted_case(people)
    clients = [ApiClient("officer") for _ in range(8)]
    body = {"item": TIME_LIMITED, "channel": "window", "applicant": WALK_IN, "form_data": form()}
    for round_ in range(ROUNDS):
        reads = [lambda c=c: c.get(f"/cases/{case['id']}") for c in clients[:4]]
        creations = [lambda c=c, key=f"r{round_}-{i}": c.post("/cases", body,
                                                              headers={"Idempotency-Key": key})
                     for i, c in enumerate(clients[4:])]
        results = at_once(*reads, *creations)
        assert [r.status_code for r in results] == [200] * 4 + [201] * 4, [
            r.content[:200] for r in results]
    assert Case.objects.filter(idempotency_key__startswith="r").count() == 4 * ROUNDS
    assert AuditRecord.objects.filter(action="case.viewed").count() == 4 * ROUNDS


def test_a_deadlock_victim_that_read_an_upload_reads_it_whole_the_second_time() -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import RequestFactory

    from tongban.core.middleware import LockFailureMiddleware

    request = RequestFactory().post("/upload", {"file": SimpleUploadedFile("a.pdf", b"%PDF-1.7 x")})
    seen: list[bytes] = []

    def view(request: Any) -> HttpResponse:
        seen.append(request.FILES["file"].read())
        if len(seen) == 1:
            raise wrapped(psycopg.errors.DeadlockDetected("deadlock detected"))
        return HttpResponse("ok")

    response = LockFailureMiddleware(lambda r: HttpResponse()).process_view(request, view, (), {})
    assert (response.status_code, seen) == (200, [b"%PDF-1.7 x", b"%PDF-1.7 x"])
