"""Housekeeping of the task queue itself."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django_tasks import task


@task()
def prune_task_results() -> int:
    """Delete finished task results older than ``TASK_RESULTS_KEEP_DAYS`` (the queue table
    would otherwise grow with every notification sent). Returns how many were deleted."""
    from django_tasks_db.models import DBTaskResult

    before = timezone.now() - dt.timedelta(days=settings.TASK_RESULTS_KEEP_DAYS)
    deleted, _per_model = DBTaskResult.objects.finished().filter(finished_at__lte=before).delete()
    return deleted
