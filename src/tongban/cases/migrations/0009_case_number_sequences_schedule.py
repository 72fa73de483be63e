"""Case numbers come from a sequence per division and day on PostgreSQL (``cases.numbers``);
the daily ``case_number_sequences`` schedule drops those of days past."""

import datetime as dt

from django.db import migrations
from django.utils import timezone

SCHEDULE = {"name": "case_number_sequences", "task": "tongban.cases.tasks.drop_number_sequences",
            "daily_at": dt.time(4, 10)}


def seed(apps, schema_editor):
    Schedule = apps.get_model("scheduling", "Schedule")
    Schedule.objects.get_or_create(name=SCHEDULE["name"],
                                   defaults={**SCHEDULE, "next_run_at": timezone.now()})


def unseed(apps, schema_editor):
    apps.get_model("scheduling", "Schedule").objects.filter(name=SCHEDULE["name"]).delete()


class Migration(migrations.Migration):

    dependencies = [("cases", "0008_case_event_no_single_case_index"), ("scheduling", "0002_seed_schedules")]

    operations = [migrations.RunPython(seed, unseed)]
