"""The daily rollups, every day at 00:20 Beijing time (editable in the admin like every
schedule); the pages stay exact without it, only slower (supervision/rollups.py)."""

import datetime as dt

from django.db import migrations
from django.utils import timezone

ROW = {"name": "rollup_figures", "task": "tongban.supervision.tasks.rollup_figures",
       "daily_at": dt.time(0, 20)}


def seed(apps, schema_editor):
    Schedule = apps.get_model("scheduling", "Schedule")
    Schedule.objects.get_or_create(name=ROW["name"], defaults={**ROW, "next_run_at": timezone.now()})


def unseed(apps, schema_editor):
    apps.get_model("scheduling", "Schedule").objects.filter(name=ROW["name"]).delete()


class Migration(migrations.Migration):

    dependencies = [("supervision", "0005_figure_rollups"), ("scheduling", "0002_seed_schedules")]

    operations = [migrations.RunPython(seed, unseed)]
