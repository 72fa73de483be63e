"""The monthly report's daily rollup, every day at 00:25 Beijing time (editable in the admin
like every schedule); the report stays exact without it, only slower (ratings/rollups.py)."""

import datetime as dt

from django.db import migrations

from tongban.scheduling.migrations_support import schedule_rows

ROW = {"name": "rollup_ratings", "task": "tongban.ratings.tasks.rollup_ratings",
       "daily_at": dt.time(0, 25)}


class Migration(migrations.Migration):

    dependencies = [("ratings", "0004_daily_rollup"), ("scheduling", "0002_seed_schedules")]

    operations = [schedule_rows(ROW)]
