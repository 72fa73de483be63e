"""The supervision sweep, every 10 minutes (editable in the admin like every schedule)."""

from django.db import migrations
from django.utils import timezone

ROW = {"name": "sweep_supervision", "task": "tongban.supervision.tasks.sweep_supervision",
       "interval_seconds": 600}


def seed(apps, schema_editor):
    Schedule = apps.get_model("scheduling", "Schedule")
    Schedule.objects.get_or_create(name=ROW["name"], defaults={**ROW, "next_run_at": timezone.now()})


def unseed(apps, schema_editor):
    apps.get_model("scheduling", "Schedule").objects.filter(name=ROW["name"]).delete()


class Migration(migrations.Migration):

    dependencies = [("supervision", "0001_initial"), ("scheduling", "0002_seed_schedules")]

    operations = [migrations.RunPython(seed, unseed)]
