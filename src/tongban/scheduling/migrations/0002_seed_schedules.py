"""The platform's periodic work. Each schedule is due at once, so a new worker runs it first."""

import datetime as dt

from django.db import migrations

from tongban.scheduling.migrations_support import schedule_rows

SCHEDULES = [
    # Warnings (yellow) and overdue marks (red) of running cases and steps.
    {"name": "sweep_deadlines", "task": "tongban.cases.tasks.sweep_deadlines",
     "interval_seconds": 300},
    # Finished task results are kept TONGBAN_TASK_RESULTS_KEEP_DAYS days.
    {"name": "prune_task_results", "task": "tongban.scheduling.tasks.prune_task_results",
     "daily_at": dt.time(3, 30)},
]


class Migration(migrations.Migration):

    dependencies = [("scheduling", "0001_initial")]

    operations = [schedule_rows(*SCHEDULES)]
