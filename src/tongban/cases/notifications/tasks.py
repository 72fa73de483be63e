"""Sending notifications in the background. Each task takes ids, re-reads the state it reports
and is idempotent (see ``services``)."""

from __future__ import annotations

from typing import Any

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


@task()
def send_announcement(kind: str, key: str, subject: str, text: str, user_ids: list[int],
                      data_officers_of: list[int], data_bureau: bool) -> int:
    """Enqueued (on commit) for an announcement of a lower floor (``scheduling.announcements``)."""
    from . import recipients

    return services.notify_users(recipients.announced(user_ids, data_officers_of, data_bureau),
                                 key=key, subject=subject, text=text, kind=kind)


def enqueue_announcement(announcement: Any) -> None:
    """The listener registered in ``NotificationsConfig.ready``: send after the commit."""
    from tongban.scheduling.queue import enqueue_after_commit

    enqueue_after_commit(send_announcement, announcement.kind, announcement.key,
                         announcement.subject, announcement.text, list(announcement.user_ids),
                         list(announcement.data_officers_of), announcement.data_bureau)
