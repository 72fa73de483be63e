"""What the data migrations of every app use to add their rows to the schedule table (and
remove them when migrated backwards): one place instead of a copy in each migration.

Each migration lists its rows (``name``, ``task`` and ``interval_seconds`` or ``daily_at``) and
adds ``schedule_rows(*rows)`` to its operations. The functions work on the migration's
historical models (``apps.get_model``), never on the live ``Schedule``: a migration must keep
running against the table as it was when it was written. Migrations already applied elsewhere
call these, so their behaviour stays as it is: a row already there (same name) is left alone;
a new one is due at once, so a new worker runs it first.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import migrations
from django.utils import timezone


def seed_schedules(apps: Any, schema_editor: Any = None, *, rows: tuple[dict[str, Any], ...]) -> None:
    """Add each row not yet there (by name), due now."""
    schedule = apps.get_model("scheduling", "Schedule")
    now = timezone.now()
    for row in rows:
        schedule.objects.get_or_create(name=row["name"], defaults={**row, "next_run_at": now})


def unseed_schedules(apps: Any, schema_editor: Any = None, *,
                     rows: tuple[dict[str, Any], ...]) -> None:
    """Remove the rows of these names (migrating backwards)."""
    apps.get_model("scheduling", "Schedule").objects.filter(
        name__in=[row["name"] for row in rows]).delete()


def schedule_rows(*rows: dict[str, Any]) -> migrations.RunPython:
    """The operation adding ``rows`` forwards and removing them backwards. Built of module-level
    functions and ``functools.partial`` (not closures), so that squashmigrations can write it."""
    return migrations.RunPython(partial(seed_schedules, rows=rows),
                                partial(unseed_schedules, rows=rows))
