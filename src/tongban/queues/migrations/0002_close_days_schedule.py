"""The schedule that closes earlier days' leftover tickets, daily after midnight."""

import datetime as dt

from django.db import migrations

from tongban.scheduling.migrations_support import schedule_rows

SCHEDULE = {"name": "close_queue_days", "task": "tongban.queues.tasks.close_previous_days",
            "daily_at": dt.time(0, 10)}


class Migration(migrations.Migration):
    dependencies = [("queues", "0001_initial"), ("scheduling", "0002_seed_schedules")]
    operations = [schedule_rows(SCHEDULE)]
