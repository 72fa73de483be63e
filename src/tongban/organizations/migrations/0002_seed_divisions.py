"""Seed the administrative divisions of the deployment (Lanzhou by default) from data/divisions.csv.

Street/town codes are 12-digit statistical codes. A data migration reads the CSV directly and
uses the historical model, never app code.
"""

import csv
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "divisions.csv"


def seed(apps, schema_editor):
    Division = apps.get_model("organizations", "Division")
    with DATA.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        parent = Division.objects.filter(code=row["parent_code"]).first() if row["parent_code"] else None
        Division.objects.update_or_create(
            code=row["code"], defaults={"name": row["name"], "level": row["level"], "parent": parent}
        )


class Migration(migrations.Migration):
    dependencies = [("organizations", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
