"""Sending notifications in the background. Each task takes ids, re-reads the state it reports
and is idempotent (see ``services``)."""

from __future__ import annotations

from django_tasks import task

from . import services


@task()
def send_case_event(event_id: int) -> int:
    """Enqueued by every case transition when it commits."""
    return services.notify_case_event(event_id)


@task()
def send_task_assigned(task_id: int, assignee_id: int) -> int:
    """Enqueued when a step is assigned or transferred to someone."""
    return services.notify_task_assigned(task_id, assignee_id)


@task()
def send_deadline_warning(kind: str, object_id: int, state: str) -> int:
    """Enqueued by the deadline sweep when a case or step turns yellow or red."""
    return services.notify_deadline(kind, object_id, state)
