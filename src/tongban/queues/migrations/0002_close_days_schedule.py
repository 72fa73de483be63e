"""The schedule that closes earlier days' leftover tickets, daily after midnight."""

import datetime as dt

from django.db import migrations
from django.utils import timezone

SCHEDULE = {"name": "close_queue_days", "task": "tongban.queues.tasks.close_previous_days",
            "daily_at": dt.time(0, 10)}


def seed(apps, schema_editor):
    Schedule = apps.get_model("scheduling", "Schedule")
    Schedule.objects.get_or_create(name=SCHEDULE["name"],
                                   defaults={**SCHEDULE, "next_run_at": timezone.now()})


def unseed(apps, schema_editor):
    apps.get_model("scheduling", "Schedule").objects.filter(name=SCHEDULE["name"]).delete()


class Migration(migrations.Migration):
    dependencies = [("queues", "0001_initial"), ("scheduling", "0002_seed_schedules")]
    operations = [migrations.RunPython(seed, unseed)]
