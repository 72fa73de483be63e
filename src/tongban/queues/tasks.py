"""Background work of the queue: closing earlier days' leftover tickets (schedule
``close_queue_days``, seeded by ``queues/0002``)."""

from __future__ import annotations

from django_tasks import task

from .services import tickets_close_previous_days


@task()
def close_previous_days() -> int:
    """Idempotent: re-reads the tickets and closes only those still open from earlier days."""
    return tickets_close_previous_days()
