"""Case numbers come from a sequence per division and day on PostgreSQL (``cases.numbers``);
the daily ``case_number_sequences`` schedule drops those of days past."""

import datetime as dt

from django.db import migrations

from tongban.scheduling.migrations_support import schedule_rows

SCHEDULE = {"name": "case_number_sequences", "task": "tongban.cases.tasks.drop_number_sequences",
            "daily_at": dt.time(4, 10)}


class Migration(migrations.Migration):

    dependencies = [("cases", "0008_case_event_no_single_case_index"), ("scheduling", "0002_seed_schedules")]

    operations = [schedule_rows(SCHEDULE)]
