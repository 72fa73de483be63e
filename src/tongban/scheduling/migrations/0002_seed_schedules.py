"""The platform's periodic work. Each schedule is due at once, so a new worker runs it first."""

import datetime as dt

from django.db import migrations
from django.utils import timezone

SCHEDULES = [
    # Warnings (yellow) and overdue marks (red) of running cases and steps.
    {"name": "sweep_deadlines", "task": "tongban.cases.tasks.sweep_deadlines",
     "interval_seconds": 300},
    # Finished task results are kept TONGBAN_TASK_RESULTS_KEEP_DAYS days.
    {"name": "prune_task_results", "task": "tongban.scheduling.tasks.prune_task_results",
     "daily_at": dt.time(3, 30)},
]


def seed(apps, schema_editor):
    Schedule = apps.get_model("scheduling", "Schedule")
    now = timezone.now()
    for row in SCHEDULES:
        Schedule.objects.get_or_create(name=row["name"], defaults={**row, "next_run_at": now})


def unseed(apps, schema_editor):
    Schedule = apps.get_model("scheduling", "Schedule")
    Schedule.objects.filter(name__in=[row["name"] for row in SCHEDULES]).delete()


class Migration(migrations.Migration):

    dependencies = [("scheduling", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
