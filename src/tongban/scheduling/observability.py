"""The queue and the schedules as ``/metrics`` and ``/readyz`` see them (registered with
``core.metrics`` and ``core.health`` in ``SchedulingConfig.ready``).

- ``tongban_queue_tasks{status}``: tasks waiting (``ready``: may run now; ``scheduled``: wait
  for their ``run_after``) and running.
- ``tongban_queue_oldest_task_age_seconds``: how long the oldest task that may run now has
  waited (0: none waits) — grows when no worker runs or the workers cannot keep up.
- ``tongban_schedule_lag_seconds``: how late the most overdue enabled schedule is (0: none is
  due). ``tongban worker`` fires due schedules every few seconds, so this is its heartbeat.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone
from django_tasks import TaskResultStatus
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from tongban.core import health, metrics

from .models import Schedule

READY, RUNNING = TaskResultStatus.READY, TaskResultStatus.RUNNING


def queue_state(now: dt.datetime | None = None) -> dict[str, Any]:
    """Counts of waiting and running tasks and the age in seconds of the oldest runnable one."""
    from django_tasks_db.models import DBTaskResult, get_date_max

    now = now or timezone.now()
    never = get_date_max()  # django-tasks-db's "no run_after"
    row = DBTaskResult.objects.filter(status__in=[READY, RUNNING]).aggregate(
        ready=Count("pk", filter=Q(status=READY) & (Q(run_after=never) | Q(run_after__lte=now))),
        scheduled=Count("pk", filter=Q(status=READY, run_after__gt=now) & ~Q(run_after=never)),
        running=Count("pk", filter=Q(status=RUNNING)),
        oldest_enqueued=Min("enqueued_at", filter=Q(status=READY, run_after=never)),
        oldest_due=Min("run_after", filter=Q(status=READY, run_after__lte=now)),
    )
    waiting_since = [t for t in (row["oldest_enqueued"], row["oldest_due"]) if t is not None]
    age = max(0.0, (now - min(waiting_since)).total_seconds()) if waiting_since else 0.0
    return {"ready": row["ready"], "scheduled": row["scheduled"], "running": row["running"],
            "oldest_age_seconds": round(age, 3)}


def schedule_lag(now: dt.datetime | None = None) -> float:
    """Seconds by which the most overdue enabled schedule is late (0 when none is due)."""
    now = now or timezone.now()
    due = Schedule.objects.filter(enabled=True).aggregate(first=Min("next_run_at"))["first"]
    return max(0.0, (now - due).total_seconds()) if due is not None else 0.0


def _state() -> dict[str, Any]:
    return {**queue_state(), "schedule_lag_seconds": round(schedule_lag(), 3)}


def collect() -> Iterator[Metric]:
    state = metrics.cached("queue", _state)
    tasks = GaugeMetricFamily("tongban_queue_tasks", "Background tasks by state (ready: may run "
                              "now; scheduled: waiting for their time; running)", labels=["status"])
    for status in ("ready", "scheduled", "running"):
        tasks.add_metric([status], state[status])
    yield tasks
    yield GaugeMetricFamily("tongban_queue_oldest_task_age_seconds",
                            "Seconds the oldest task that may run now has waited (0: none waits)",
                            value=state["oldest_age_seconds"])
    yield GaugeMetricFamily("tongban_schedule_lag_seconds", "Seconds the most overdue enabled "
                            "schedule is late (0: none is due); the worker's heartbeat",
                            value=state["schedule_lag_seconds"])


def queue_check() -> tuple[bool, dict[str, Any]]:
    """Ready while the oldest runnable task and the most overdue schedule are within limits
    (read fresh: a readiness probe must not see a 30-second-old answer)."""
    state = _state()
    ok = state["oldest_age_seconds"] <= settings.READY_QUEUE_MAX_AGE_SECONDS
    # Without a worker (the one-process demo's "immediate" tasks) nothing fires schedules.
    if getattr(settings, "TASKS_BACKEND", "database") == "database":
        ok = ok and state["schedule_lag_seconds"] <= settings.READY_SCHEDULE_MAX_LAG_SECONDS
    return ok, state


def register() -> None:
    metrics.register_collector("queue", metrics.FunctionCollector(collect))
    health.register_check("queue", queue_check)
