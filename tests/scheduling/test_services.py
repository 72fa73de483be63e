"""Schedules: when they are next due, and firing them (the task is queued with the update)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction
from django_tasks.signals import task_started
from django_tasks_db.models import DBTaskResult

from tongban.scheduling.models import Schedule
from tongban.scheduling.queue import enqueue_after_commit
from tongban.scheduling.services import next_run, schedules_fire_due
from tongban.scheduling.tasks import prune_task_results

BJ = dt.timezone(dt.timedelta(hours=8))
PRUNE = "tongban.scheduling.tasks.prune_task_results"


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0,
         second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=BJ)


def test_an_interval_keeps_its_cadence() -> None:
    assert next_run(interval_seconds=300, daily_at=None, previous=at(2026, 3, 2, 9, 0),
                    now=at(2026, 3, 2, 9, 0, 3)) == at(2026, 3, 2, 9, 5)


def test_runs_missed_while_no_worker_ran_are_skipped_not_replayed() -> None:
    # Down from 09:00 to 09:17: the next run is 09:20, not four catch-up runs.
    assert next_run(interval_seconds=300, daily_at=None, previous=at(2026, 3, 2, 9, 0),
                    now=at(2026, 3, 2, 9, 17)) == at(2026, 3, 2, 9, 20)


def test_a_daily_time_is_beijing_time() -> None:
    assert next_run(interval_seconds=None, daily_at=dt.time(3, 30), previous=at(2026, 3, 2, 3, 30),
                    now=at(2026, 3, 2, 3, 30, 2)) == at(2026, 3, 3, 3, 30)
    # Fired late the evening before (after a pause): still 03:30 the next morning.
    assert next_run(interval_seconds=None, daily_at=dt.time(3, 30), previous=at(2026, 3, 1, 3, 30),
                    now=at(2026, 3, 1, 23, 0)) == at(2026, 3, 2, 3, 30)


@pytest.mark.django_db
def test_the_platforms_schedules_are_seeded_and_due_at_once() -> None:
    rows = {s.name: s for s in Schedule.objects.all()}
    assert set(rows) == {"sweep_deadlines", "prune_task_results", "audit_checkpoint",
                         "sweep_rating_tickets", "sweep_supervision", "close_queue_days",
                         "rollup_figures", "audit_seal", "case_number_sequences",
                         "rollup_ratings", "expire_licences"}
    assert (rows["sweep_deadlines"].task, rows["sweep_deadlines"].interval_seconds) == (
        "tongban.cases.tasks.sweep_deadlines", 300)
    assert rows["prune_task_results"].daily_at == dt.time(3, 30)
    for row in rows.values():
        row.full_clean()  # the task paths point at real tasks


@pytest.mark.django_db
def test_firing_moves_the_schedule_on_and_queues_its_task(database_queue: None) -> None:
    Schedule.objects.all().delete()
    now = at(2026, 3, 2, 9, 0, 1)
    Schedule.objects.create(name="prune", task=PRUNE, interval_seconds=60,
                            next_run_at=at(2026, 3, 2, 9, 0))
    Schedule.objects.create(name="later", task=PRUNE, interval_seconds=60,
                            next_run_at=at(2026, 3, 2, 9, 1))
    Schedule.objects.create(name="paused", task=PRUNE, interval_seconds=60, enabled=False,
                            next_run_at=at(2026, 3, 2, 8, 0))
    assert schedules_fire_due(now=now) == ["prune"]
    fired = Schedule.objects.get(name="prune")
    assert (fired.next_run_at, fired.last_run_at) == (at(2026, 3, 2, 9, 1), now)
    assert list(DBTaskResult.objects.values_list("task_path", "status")) == [(PRUNE, "READY")]
    # Called again at the same moment (another worker, or the next tick): nothing more.
    assert schedules_fire_due(now=now) == []
    assert DBTaskResult.objects.count() == 1


@pytest.mark.django_db
def test_a_broken_schedule_does_not_stop_the_others(database_queue: None) -> None:
    Schedule.objects.all().delete()
    Schedule.objects.create(name="broken", task="tongban.nowhere.task", interval_seconds=60,
                            next_run_at=at(2026, 3, 2, 9, 0))
    Schedule.objects.create(name="prune", task=PRUNE, interval_seconds=60,
                            next_run_at=at(2026, 3, 2, 9, 0))
    assert schedules_fire_due(now=at(2026, 3, 2, 9, 0, 1)) == ["prune"]
    # The broken one was not moved on (its update rolled back with the failed enqueue).
    assert Schedule.objects.get(name="broken").next_run_at == at(2026, 3, 2, 9, 0)
    assert DBTaskResult.objects.count() == 1


@pytest.mark.django_db
def test_a_schedule_needs_an_interval_or_a_daily_time_and_a_real_task() -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        Schedule(name="x", task=PRUNE, next_run_at=at(2026, 3, 2, 9, 0)).full_clean()
    with pytest.raises(ValidationError):
        Schedule(name="x", task=PRUNE, interval_seconds=60, daily_at=dt.time(1),
                 next_run_at=at(2026, 3, 2, 9, 0)).full_clean()
    with pytest.raises(ValidationError) as error:
        Schedule(name="x", task="tongban.cases.services.refresh_due", interval_seconds=60,
                 next_run_at=at(2026, 3, 2, 9, 0)).full_clean()
    assert "task" in error.value.message_dict


@pytest.mark.django_db
def test_a_queued_task_rolls_back_with_the_transaction_that_queued_it(database_queue: None) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_after_commit(prune_task_results)
        assert DBTaskResult.objects.count() == 1  # written in the caller's transaction
        raise RuntimeError("the change failed")
    assert DBTaskResult.objects.count() == 0


@pytest.mark.django_db
def test_the_immediate_backend_runs_a_task_only_once_the_transaction_commits(
    django_capture_on_commit_callbacks: Any,
) -> None:
    started: list[str] = []

    def record(sender: Any, task_result: Any, **kwargs: Any) -> None:
        started.append(task_result.task.module_path)

    task_started.connect(record)
    try:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            enqueue_after_commit(prune_task_results)
            assert started == []  # not before the commit
    finally:
        task_started.disconnect(record)
    assert started == [PRUNE]


@pytest.mark.django_db
def test_queueing_writes_the_row_by_its_prepared_statement_despite_the_librarys_log_receiver(
    database_queue: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    # django-tasks connects its own logging receiver to task_enqueued: that alone does not send
    # the queue row through the model (it used to, at every case transition).
    from tongban.scheduling import queue

    def through_model(*args: Any) -> None:
        raise AssertionError("written through the model")

    monkeypatch.setattr(queue, "_enqueue_through_model", through_model)
    with caplog.at_level("DEBUG", logger="django_tasks"), transaction.atomic():
        enqueue_after_commit(prune_task_results)
    row = DBTaskResult.objects.get()
    assert (row.task_path, row.status, row.args_kwargs) == (
        PRUNE, "READY", {"args": [], "kwargs": {}})
    # The library's log line is still written.
    assert f"Task id={row.id} path={PRUNE} enqueued backend=default" in caplog.text


@pytest.mark.django_db
def test_a_receiver_of_task_enqueued_gets_the_queued_task_result(database_queue: None) -> None:
    from django_tasks.signals import task_enqueued

    heard: list[Any] = []

    def receiver(sender: Any, task_result: Any, **kwargs: Any) -> None:
        heard.append(task_result.id)

    task_enqueued.connect(receiver)
    try:
        with transaction.atomic():
            enqueue_after_commit(prune_task_results)
    finally:
        task_enqueued.disconnect(receiver)
    assert heard == [str(DBTaskResult.objects.get().id)]
