"""The schedule that marks licences past their validity expired, daily after midnight."""

import datetime as dt

from django.db import migrations

from tongban.scheduling.migrations_support import schedule_rows

SCHEDULE = {"name": "expire_licences", "task": "tongban.licences.tasks.expire_licences",
            "daily_at": dt.time(0, 20)}


class Migration(migrations.Migration):
    dependencies = [("licences", "0001_initial"), ("scheduling", "0002_seed_schedules")]
    operations = [schedule_rows(SCHEDULE)]
