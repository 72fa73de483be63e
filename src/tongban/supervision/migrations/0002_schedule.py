"""The supervision sweep, every 10 minutes (editable in the admin like every schedule)."""

from django.db import migrations

from tongban.scheduling.migrations_support import schedule_rows

ROW = {"name": "sweep_supervision", "task": "tongban.supervision.tasks.sweep_supervision",
       "interval_seconds": 600}


class Migration(migrations.Migration):

    dependencies = [("supervision", "0001_initial"), ("scheduling", "0002_seed_schedules")]

    operations = [schedule_rows(ROW)]
