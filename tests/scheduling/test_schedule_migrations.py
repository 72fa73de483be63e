"""The data migrations that add schedule rows (through ``scheduling.migrations_support``):
migrated backwards their rows go, forwards they come back as they were; and no migration keeps
its own copy of the seeding code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tongban.scheduling.models import Schedule

SRC = Path(__file__).resolve().parents[2] / "src" / "tongban"
# Each migration that adds schedule rows, the state before it, and the rows it adds.
SEEDING = {
    ("cases", "0008_case_event_no_single_case_index"): {"case_number_sequences"},
    ("queues", "0001_initial"): {"close_queue_days"},
    ("audit", "0002_checkpoints"): {"audit_checkpoint", "audit_seal"},
    ("ratings", "0001_initial"): {"sweep_rating_tickets", "rollup_ratings"},
    ("supervision", "0001_initial"): {"sweep_supervision", "rollup_figures"},
}


def migrate(targets: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def latest() -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_schedule_rows_go_backwards_and_come_back_forwards() -> None:
    every = set().union(*SEEDING.values())
    before = {row["name"]: row for row in Schedule.objects.filter(name__in=every).values(
        "name", "task", "interval_seconds", "daily_at", "enabled")}
    assert set(before) == every
    Schedule.objects.filter(name="audit_seal").update(enabled=False)  # an operator's edit
    try:
        migrate(list(SEEDING))
        left = set(Schedule.objects.values_list("name", flat=True))
        assert not left & every
        assert {"sweep_deadlines", "prune_task_results"} <= left  # scheduling's own stay
    finally:
        migrate(latest())
    after = {row["name"]: row for row in Schedule.objects.filter(name__in=every).values(
        "name", "task", "interval_seconds", "daily_at", "enabled")}
    assert after == before  # seeded again as new: enabled, as first written


@pytest.mark.django_db
def test_seeding_twice_leaves_an_existing_row_alone() -> None:
    from django.apps import apps

    from tongban.scheduling.migrations_support import seed_schedules

    Schedule.objects.filter(name="close_queue_days").update(enabled=False)
    seed_schedules(apps, rows=({"name": "close_queue_days", "task": "x.y", "interval_seconds": 1},))
    row = Schedule.objects.get(name="close_queue_days")
    assert not row.enabled and row.task == "tongban.queues.tasks.close_previous_days"


# A migration that reads the schedule table for something else than adding its rows.
OWN_USE = {"scheduling/migrations/0003_moved_task_paths.py"}


def test_no_migration_keeps_its_own_copy_of_the_seeding() -> None:
    copies = sorted(str(path.relative_to(SRC)) for path in SRC.glob("*/migrations/0*.py")
                    if re.search(r"""get_model\(\s*["']scheduling["'],\s*["']Schedule["']""",
                                 path.read_text(encoding="utf-8")))
    assert sorted(set(copies) - OWN_USE) == []
