"""Firing schedules: the small periodic scheduler run by every ``tongban worker``.

Each worker reads the due rows and, for each, moves ``next_run_at`` on with a conditional
``UPDATE … WHERE id = … AND next_run_at = <value read>``. Only the worker whose update changed
the row enqueues the task, in the same transaction: however many workers and nodes run, a
schedule fires once per due time, and a fired schedule always has its task queued.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import Schedule

log = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def next_run(*, interval_seconds: int | None, daily_at: dt.time | None, previous: dt.datetime,
             now: dt.datetime) -> dt.datetime:
    """The first run time after ``now``.

    An interval keeps its cadence from ``previous`` (the due time just fired); runs missed while
    no worker was up are skipped, not replayed. A daily time is read in Beijing time.
    """
    if interval_seconds:
        step = dt.timedelta(seconds=interval_seconds)
        missed = max(0, math.floor((now - previous) / step))
        return previous + step * (missed + 1)
    if daily_at is None:
        raise ValueError("a schedule needs an interval or a daily time")
    local = now.astimezone(SHANGHAI)
    candidate = dt.datetime.combine(local.date(), daily_at, tzinfo=SHANGHAI)
    if candidate <= local:
        candidate = dt.datetime.combine(local.date() + dt.timedelta(days=1), daily_at,
                                        tzinfo=SHANGHAI)
    return candidate.astimezone(dt.UTC)


def schedules_fire_due(*, now: dt.datetime | None = None) -> list[str]:
    """Fire every enabled schedule whose time has come; returns the names this call fired.

    Safe to call from any number of workers at once (see the module docstring).
    """
    now = now or timezone.now()
    fired: list[str] = []
    due = list(Schedule.objects.filter(enabled=True, next_run_at__lte=now)
           .order_by("next_run_at", "name"))
    for schedule in due:
        try:
            if _fire(schedule, now=now):
                fired.append(schedule.name)
        except Exception:  # one broken schedule must not stop the others
            log.exception("schedule %s could not be fired", schedule.name)
    return fired


def _fire(schedule: Schedule, *, now: dt.datetime) -> bool:
    following = next_run(interval_seconds=schedule.interval_seconds, daily_at=schedule.daily_at,
                         previous=schedule.next_run_at, now=now)
    with transaction.atomic():
        won = Schedule.objects.filter(
            pk=schedule.pk, enabled=True, next_run_at=schedule.next_run_at,
        ).update(next_run_at=following, last_run_at=now)
        if won != 1:
            return False  # another worker fired this run
        task: Any = import_string(schedule.task)
        # With the database backend the queued task commits with the update above, or neither.
        task.enqueue(**schedule.kwargs)
    log.info("schedule %s fired; next run at %s", schedule.name, following.isoformat())
    return True


# --- stale tasks: at-least-once delivery -----------------------------------------------------

class LeaseExpired(Exception):
    """Recorded on a task whose every attempt outlived its lease (its worker died each time)."""


def tasks_reclaim_stale(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """Put back in the queue every task left running past its lease by a worker that died.

    A worker marks a task RUNNING when it claims it and finished when it ends; a worker killed
    in between (SIGKILL, a lost node) would leave it RUNNING for ever and its message would be
    lost. A task still RUNNING ``TASK_LEASE_SECONDS`` after it was claimed is made READY again,
    and the next worker runs it: delivery is at least once, and tasks are idempotent (a
    notification is one row per recipient and key), so running one again sends nothing twice.
    A task claimed ``TASK_MAX_ATTEMPTS`` times is marked FAILED instead (it kills its workers).

    Each row moves with a conditional update from the state read, so any number of workers may
    reclaim at once and each stale run is reclaimed once. Returns (requeued, failed).
    """
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    expired = now - dt.timedelta(seconds=settings.TASK_LEASE_SECONDS)
    requeued = failed = 0
    stale = DBTaskResult.objects.running().filter(started_at__lt=expired)
    for pk, started_at, worker_ids, task_path in stale.values_list(
            "pk", "started_at", "worker_ids", "task_path"):
        same = DBTaskResult.objects.running().filter(pk=pk, started_at=started_at)
        attempts = len(worker_ids or [])
        if attempts >= settings.TASK_MAX_ATTEMPTS:
            error = LeaseExpired(f"{attempts} attempts outlived the lease of "
                                 f"{settings.TASK_LEASE_SECONDS} s")
            if same.update(status="FAILED", finished_at=now,
                           exception_class_path=f"{__name__}.LeaseExpired",
                           traceback=f"{LeaseExpired.__qualname__}: {error}\n"):
                failed += 1
                log.error("task %s (%s) failed: %s", pk, task_path, error)
        elif same.update(status="READY"):
            requeued += 1
            log.warning("task %s (%s) outlived its lease (worker %s); queued again", pk,
                        task_path, (worker_ids or ["?"])[-1])
    return requeued, failed
