"""The hourly signed checkpoint of the audit chain, as a schedule row (editable in the admin)."""

from django.db import migrations

from tongban.scheduling.migrations_support import schedule_rows

SCHEDULE = {"name": "audit_checkpoint", "task": "tongban.audit.tasks.write_checkpoint",
            "interval_seconds": 3600}


class Migration(migrations.Migration):

    dependencies = [("audit", "0002_checkpoints"), ("scheduling", "0002_seed_schedules")]

    operations = [schedule_rows(SCHEDULE)]
