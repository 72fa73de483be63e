"""The daily rollups, every day at 00:20 Beijing time (editable in the admin like every
schedule); the pages stay exact without it, only slower (supervision/rollups.py)."""

import datetime as dt

from django.db import migrations

from tongban.scheduling.migrations_support import schedule_rows

ROW = {"name": "rollup_figures", "task": "tongban.supervision.tasks.rollup_figures",
       "daily_at": dt.time(0, 20)}


class Migration(migrations.Migration):

    dependencies = [("supervision", "0005_figure_rollups"), ("scheduling", "0002_seed_schedules")]

    operations = [schedule_rows(ROW)]
