"""``tongban worker``: runs queued tasks and fires due schedules; stops cleanly on SIGTERM."""

from __future__ import annotations

import io
import os
import signal
import threading
import time
from typing import Any
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection
from django_tasks_db.models import DBTaskResult

from tests.cases.conftest import TIME_LIMITED, catalog, form, item, pdf, people  # noqa: F401
from tongban.accounts.models import User
from tongban.cases import services
from tongban.cases.materials import case_material_add
from tongban.cases.models import Channel
from tongban.cases.notifications.models import Notification
from tongban.cases.services import ApplicantData
from tongban.scheduling.models import Schedule
from tongban.scheduling.tasks import prune_task_results


# The database worker checks its connection between tasks, as in production: that needs real
# transactions rather than a test wrapped in one.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_batch_runs_due_schedules_and_every_queued_task(
    database_queue: None, people: dict[str, User],  # noqa: F811
) -> None:
    citizen = people["citizen"]
    case = services.case_create(
        actor=citizen, item=item(TIME_LIMITED), channel=Channel.ONLINE, form_data=form(),
        applicant=ApplicantData(kind="natural_person", name=citizen.real_name,
                                id_number=citizen.id_number, phone=citizen.phone))
    for m in case.item_version.materials.all():
        case_material_add(actor=citizen, case=case, material=m, name=m.name, upload=pdf(),
                          original_name="a.pdf")
    services.case_submit(actor=citizen, case=case)
    # The transition queued its notification; nothing is sent until a worker runs it.
    assert list(DBTaskResult.objects.values_list("task_path", "status")) == [
        ("tongban.cases.notifications.tasks.send_case_event", "READY")]
    assert not Notification.objects.exists()

    out = io.StringIO()
    call_command("worker", "--batch", stdout=out)

    fired = out.getvalue().split("已触发定时任务：", 1)[1].splitlines()[0].split("、")
    assert sorted(fired) == ["audit_checkpoint", "audit_seal", "case_number_sequences",
                             "close_queue_days", "expire_licences", "prune_task_results", "rollup_figures",
                             "rollup_ratings", "sweep_deadlines", "sweep_rating_tickets", "sweep_supervision"]
    assert sorted(DBTaskResult.objects.values_list("task_path", "status")) == [
        ("tongban.audit.tasks.seal", "SUCCESSFUL"),
        ("tongban.audit.tasks.write_checkpoint", "SUCCESSFUL"),
        ("tongban.cases.notifications.tasks.send_case_event", "SUCCESSFUL"),
        ("tongban.cases.tasks.drop_number_sequences", "SUCCESSFUL"),
        ("tongban.cases.tasks.sweep_deadlines", "SUCCESSFUL"),
        ("tongban.licences.tasks.expire_licences", "SUCCESSFUL"),
        ("tongban.queues.tasks.close_previous_days", "SUCCESSFUL"),
        ("tongban.ratings.tasks.rollup_ratings", "SUCCESSFUL"),
        ("tongban.ratings.tasks.sweep_tickets", "SUCCESSFUL"),
        ("tongban.scheduling.tasks.prune_task_results", "SUCCESSFUL"),
        ("tongban.supervision.tasks.rollup_figures", "SUCCESSFUL"),
        ("tongban.supervision.tasks.sweep_supervision", "SUCCESSFUL"),
    ]
    assert list(Notification.objects.values_list("recipient__username", "subject")) == [
        ("zhangsan", "您的申请已提交")]
    assert all(s.last_run_at is not None for s in Schedule.objects.all())


@pytest.mark.django_db
def test_the_worker_is_not_needed_with_the_immediate_backend() -> None:
    with pytest.raises(CommandError, match="无需启动 worker"):
        call_command("worker", "--batch")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sigterm_stops_the_worker_gracefully(database_queue: None) -> None:
    queued = prune_task_results.enqueue()
    sweep = Schedule.objects.get(name="sweep_deadlines")
    assert sweep.last_run_at is None
    previous = signal.getsignal(signal.SIGTERM)

    def stop_when_done() -> None:
        # Both halves did their work (the queued task ran, the scheduler fired the sweep), then
        # the process is told to stop, as a service manager would.
        deadline = time.monotonic() + 30
        try:
            while time.monotonic() < deadline:
                try:
                    ran = DBTaskResult.objects.filter(pk=queued.id, status="SUCCESSFUL").exists()
                    fired = Schedule.objects.filter(pk=sweep.pk, last_run_at__isnull=False).exists()
                except OperationalError:  # the in-memory SQLite test database is busy
                    ran = fired = False
                if ran and fired:
                    break
                time.sleep(0.1)
        finally:
            connection.close()
            os.kill(os.getpid(), signal.SIGTERM)

    watcher = threading.Thread(target=stop_when_done)
    watcher.start()
    out = io.StringIO()
    started = time.monotonic()
    call_command("worker", "--interval", "0.1", "--schedule-interval", "0.1", stdout=out)
    watcher.join()

    assert time.monotonic() - started < 30
    assert out.getvalue().splitlines()[-1] == "后台任务进程已停止"
    assert DBTaskResult.objects.get(pk=queued.id).status == "SUCCESSFUL"
    sweep.refresh_from_db()
    assert sweep.last_run_at is not None
    # The sweep the scheduler queued ran too (the worker picks it up within its interval).
    assert DBTaskResult.objects.filter(task_path="tongban.cases.tasks.sweep_deadlines").exists()
    assert signal.getsignal(signal.SIGTERM) is previous



class _FlakyWorker:
    """Stands in for django-tasks-db's worker: its loop meets a lost database ``failures``
    times, then runs until asked to stop."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.interval = 1.0
        self.running = True
        self.startup_delay = True
        self.runs = 0

    def run(self) -> None:
        self.runs += 1
        if self.runs <= self.failures:
            raise OperationalError("server closed the connection unexpectedly")


def test_the_worker_loop_waits_out_a_lost_database_and_goes_on() -> None:
    from tongban.scheduling.management.commands.worker import (
        OUTAGE_MAX_WAIT,
        run_surviving_database_outages,
    )

    worker = _FlakyWorker(failures=6)
    waits: list[float] = []
    said: list[str] = []
    run_surviving_database_outages(worker, log=said.append, sleep=waits.append)
    # Started again after each loss, waiting longer each time up to the cap, without the
    # random start-up pause of a cold start.
    assert worker.runs == 7
    assert waits == [1.0, 2.0, 4.0, 8.0, OUTAGE_MAX_WAIT, OUTAGE_MAX_WAIT]
    assert worker.startup_delay is False
    assert len(said) == 6 and "OperationalError" in said[0]


def test_a_worker_asked_to_stop_during_an_outage_ends() -> None:
    from tongban.scheduling.management.commands.worker import run_surviving_database_outages

    worker = _FlakyWorker(failures=100)
    worker.running = False  # SIGTERM arrived while the database was away
    run_surviving_database_outages(worker, log=lambda _: None, sleep=lambda _: None)
    assert worker.runs == 1


def _outage_aware_worker() -> Any:
    from django_tasks_db.management.commands.db_worker import Worker

    from tongban.scheduling.management.commands.worker import outage_aware

    return outage_aware(Worker)(queue_names=["default"], interval=0, batch=True,
                                backend_name="default", startup_delay=False, max_tasks=None,
                                worker_id="worker-1", excluded_queue_names=[])


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_task_the_lost_database_cut_off_is_run_again_not_failed(database_queue: None) -> None:
    from tests.scheduling.outage import cut_off

    queued = cut_off.enqueue()
    # The connection no longer answers when the task's error is to be recorded (a PostgreSQL
    # restart): the error leaves the worker's loop, which waits the outage out.
    with mock.patch.object(connection, "is_usable", return_value=False), \
            pytest.raises(OperationalError):
        _outage_aware_worker().run()
    result = DBTaskResult.objects.get(pk=queued.id)
    # Still claimed by its worker: queued again when its lease runs out (tasks_reclaim_stale).
    assert (result.status, result.worker_ids) == ("RUNNING", ["worker-1"])


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_task_the_database_refused_is_recorded_as_failed(database_queue: None) -> None:
    from tests.scheduling.outage import refused

    queued = refused.enqueue()
    _outage_aware_worker().run()  # the connection still answers: the task's own failure
    result = DBTaskResult.objects.get(pk=queued.id)
    assert (result.status, result.exception_class_path) == (
        "FAILED", "django.db.utils.OperationalError")
