"""The hourly signed checkpoint of the audit chain, as a schedule row (editable in the admin)."""

from django.db import migrations
from django.utils import timezone

SCHEDULE = {"name": "audit_checkpoint", "task": "tongban.audit.tasks.write_checkpoint",
            "interval_seconds": 3600}


def seed(apps, schema_editor):
    Schedule = apps.get_model("scheduling", "Schedule")
    Schedule.objects.get_or_create(name=SCHEDULE["name"],
                                   defaults={**SCHEDULE, "next_run_at": timezone.now()})


def unseed(apps, schema_editor):
    apps.get_model("scheduling", "Schedule").objects.filter(name=SCHEDULE["name"]).delete()


class Migration(migrations.Migration):

    dependencies = [("audit", "0002_checkpoints"), ("scheduling", "0002_seed_schedules")]

    operations = [migrations.RunPython(seed, unseed)]
