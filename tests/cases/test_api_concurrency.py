"""Concurrent and repeated requests: two officers acting on the same case at once, stale
versions, idempotent creation, and a transition that fails half-way.

The concurrent tests use real threads, each with its own database connection, against
committed data (``transaction=True``). On SQLite the in-memory test database would not behave
like the platform's database file (its shared cache fails at once with "table is locked"
instead of waiting), so those tests copy it into a file opened with the production settings:
WAL journal, IMMEDIATE transactions and a busy timeout.
"""

from __future__ import annotations

import inspect
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from django.db import connection, connections
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteDatabaseWrapper

from tests.cases.conftest import (
    TIME_LIMITED,
    ApiClient,
    api_create,
    api_upload_all,
    applicant_body,
    form,
)
from tongban.accounts.models import User
from tongban.audit.models import AuditRecord
from tongban.cases import services
from tongban.cases.models import Case, CaseEvent, ClockStop, Notice
from tongban.cases.services import intake, transitions
from tongban.cases.workflows.models import StepTask

# How long the winner holds the case's lock: long enough that the other request is surely
# waiting for it (the test would pass without, but might then not overlap at all).
HOLD_SECONDS = 0.4


@pytest.fixture
def threads_db(people: dict[str, User], transactional_db: None, tmp_path: Path) -> Iterator[None]:
    """A database the test's threads share as the platform would (see the module docstring)."""
    if connection.vendor != "sqlite" or not cast("SQLiteDatabaseWrapper", connection).is_in_memory_db():
        yield
        return
    settings_dict = connection.settings_dict
    memory_name = settings_dict["NAME"]
    # The in-memory database lives while a connection to it is open: keep one meanwhile.
    keeper = sqlite3.connect(memory_name, uri=True)
    path = tmp_path / "tongban.sqlite3"
    target = sqlite3.connect(path)
    connection.ensure_connection()
    connection.connection.backup(target)
    target.close()
    settings_dict["NAME"] = str(path)
    connection.close()
    try:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
        assert settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
        yield
    finally:
        connection.close()
        settings_dict["NAME"] = memory_name
        connection.ensure_connection()
        keeper.close()


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.fixture
def slow_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whoever gets the case's lock first keeps it a while, inside its transaction."""
    original = transitions._lock

    def held(case: Any, expected_version: int | None) -> Case:
        locked = original(case, expected_version)
        time.sleep(HOLD_SECONDS)
        return locked

    # Every use case module calls the lock it imported from ``transitions``.
    for module in vars(services).values():
        if inspect.ismodule(module) and getattr(module, "_lock", None) is original:
            monkeypatch.setattr(module, "_lock", held)


def submitted_case(people: dict[str, User]) -> dict[str, Any]:
    citizen = ApiClient(people["citizen"].username)
    case = api_upload_all(citizen, api_create(citizen, TIME_LIMITED,
                                              applicant=applicant_body(people["citizen"])))
    response = citizen.post(f"/cases/{case['id']}/submit")
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_accept_and_refuse_at_once_one_wins_the_other_gets_409(
    people: dict[str, User], threads_db: None, slow_lock: None
) -> None:
    case = submitted_case(people)
    officer, officer2 = ApiClient("officer"), ApiClient("officer2")
    path = f"/cases/{case['number']}"

    accept, refuse = at_once(lambda: officer.post(f"{path}/accept"),
                             lambda: officer2.post(f"{path}/refuse", {"reason": "材料不符合要求"}))

    assert sorted([accept.status_code, refuse.status_code]) == [200, 409]
    stored = Case.objects.get(pk=case["id"])
    if accept.status_code == 200:
        winner, loser, status = accept, refuse, "accepted"
        message = "办件当前状态为“已受理（办理中）”，不能执行“不予受理”"
    else:
        winner, loser, status = refuse, accept, "refused"
        message = "办件当前状态为“不予受理”，不能执行“受理”"
    assert loser.json() == {"detail": message}
    assert winner.json()["status"] == stored.status == status
    assert winner.json()["version"] == stored.version == case["version"] + 1
    events = list(CaseEvent.objects.filter(case_id=case["id"]).values_list("action", flat=True))
    assert events == ["create", "submit", "accept" if status == "accepted" else "refuse"]
    kinds = list(Notice.objects.filter(case_id=case["id"]).values_list("kind", flat=True))
    assert kinds == ["acceptance" if status == "accepted" else "refusal"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_officers_accept_at_once_the_case_is_accepted_once(
    people: dict[str, User], threads_db: None, slow_lock: None
) -> None:
    case = submitted_case(people)
    officer, officer2 = ApiClient("officer"), ApiClient("officer2")
    path = f"/cases/{case['id']}/accept"

    first, second = at_once(lambda: officer.post(path, {"expected_version": case["version"]}),
                            lambda: officer2.post(path, {"expected_version": case["version"]}))

    codes = sorted([first.status_code, second.status_code])
    assert codes == [200, 409]
    loser = first if first.status_code == 409 else second
    # The loser saw the version before the winner's change: told so, with both versions.
    assert loser.json() == {"detail": f"该办件已被他人处理（版本{case['version'] + 1}，"
                                      f"您看到的是版本{case['version']}），请刷新后重试"}
    assert CaseEvent.objects.filter(case_id=case["id"], action="accept").count() == 1
    assert Notice.objects.filter(case_id=case["id"], kind="acceptance").count() == 1
    assert StepTask.objects.filter(case_id=case["id"]).count() == 1
    assert AuditRecord.objects.filter(action="case.accept").count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_idempotency_key_at_once_creates_one_case(
    people: dict[str, User], threads_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = intake._check_party

    def slow_check(*args: Any) -> Any:  # runs inside the creating transaction
        time.sleep(HOLD_SECONDS)
        return original(*args)

    monkeypatch.setattr(intake, "_check_party", slow_check)
    clients = [ApiClient("zhangsan"), ApiClient("zhangsan")]
    body = {"item": TIME_LIMITED, "channel": "online", "applicant": applicant_body(people["citizen"]),
            "form_data": form()}

    first, second = at_once(
        *[lambda c=c: c.post("/cases", body, headers={"Idempotency-Key": "form-7f3a"})
          for c in clients])

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] == second.json()["id"]
    assert Case.objects.count() == 1


@pytest.mark.django_db
def test_a_stale_expected_version_gets_409_and_changes_nothing(
    api: Any, people: dict[str, User]
) -> None:
    case = submitted_case(people)
    seen = api("officer").get(f"/cases/{case['id']}").json()["version"]
    accepted = api("officer").post(f"/cases/{case['id']}/accept", {"expected_version": seen})
    assert accepted.status_code == 200 and accepted.json()["version"] == seen + 1

    response = api("officer2").post(f"/cases/{case['id']}/refuse",
                                    {"reason": "材料不全", "expected_version": seen})

    assert response.status_code == 409
    assert response.json() == {
        "detail": f"该办件已被他人处理（版本{seen + 1}，您看到的是版本{seen}），请刷新后重试"}
    stored = Case.objects.get(pk=case["id"])
    assert (stored.status, stored.version, stored.closed_reason) == ("accepted", seen + 1, "")
    assert not Notice.objects.filter(case=stored, kind="refusal").exists()
    # Without expected_version the state machine still refuses: accepted cannot be refused.
    response = api("officer2").post(f"/cases/{case['id']}/refuse", {"reason": "材料不全"})
    assert response.status_code == 409
    assert response.json()["detail"] == "办件当前状态为“已受理（办理中）”，不能执行“不予受理”"


@pytest.mark.django_db
def test_an_idempotency_key_retry_returns_the_same_case(api: Any, people: dict[str, User]) -> None:
    citizen = api("citizen")
    first = api_create(citizen, TIME_LIMITED, applicant=applicant_body(people["citizen"]), key="k-1")
    retry = api_create(citizen, TIME_LIMITED, applicant=applicant_body(people["citizen"]), key="k-1")
    assert retry == first
    other = api_create(citizen, TIME_LIMITED, applicant=applicant_body(people["citizen"]), key="k-2")
    assert other["id"] != first["id"]
    # Keys are per account: another citizen's identical key is another case.
    theirs = api_create(api("other"), TIME_LIMITED, applicant=applicant_body(people["other"]),
                        key="k-1")
    assert theirs["id"] not in (first["id"], other["id"])
    # A clerk's retried window registration is recognised too.
    clerk = api("clerk")
    walk_in = {"kind": "natural_person", "name": "王五", "id_number": "620102199003070018"}
    at_window = api_create(clerk, TIME_LIMITED, applicant=walk_in, channel="window", key="w-1")
    assert api_create(clerk, TIME_LIMITED, applicant=walk_in, channel="window",
                      key="w-1")["id"] == at_window["id"]
    assert Case.objects.count() == 4


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("fail_at", ["history", "audit"])
def test_a_transition_and_its_history_commit_together_or_not_at_all(
    people: dict[str, User], monkeypatch: pytest.MonkeyPatch, fail_at: str
) -> None:
    case = submitted_case(people)
    before = Case.objects.get(pk=case["id"])
    events_before = CaseEvent.objects.filter(case=before).count()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("storage failure")

    if fail_at == "history":
        # After the status update, before the history event is written.
        monkeypatch.setattr(transitions, "_event", broken)
    else:
        # After the status update and the history event, with the audit record.
        monkeypatch.setattr(transitions, "audit_append", broken)

    response = ApiClient("officer").post(f"/cases/{case['id']}/accept")

    assert response.status_code == 500
    after = Case.objects.get(pk=case["id"])
    assert (after.status, after.version, after.accepted_at, after.due_at, after.workflow_id) == (
        "submitted", before.version, None, None, None)
    assert CaseEvent.objects.filter(case=after).count() == events_before
    assert not Notice.objects.filter(case=after).exists()
    assert not StepTask.objects.filter(case=after).exists()
    assert not ClockStop.objects.filter(case=after).exists()
