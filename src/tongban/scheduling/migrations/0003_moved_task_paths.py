"""Queued tasks and schedules name their task by its dotted path; when a task module moves
(notifications became part of cases, ADR 0006), the rows written before the move must name the
new place, or the worker could not import them after an upgrade."""

from django.db import migrations

MOVED = {
    "tongban.notifications.tasks.": "tongban.cases.notifications.tasks.",
    "tongban.workflows.": "tongban.cases.workflows.",
}


def _rename(apps, schema_editor, mapping):
    for model in (apps.get_model("django_tasks_database", "DBTaskResult"),
                  apps.get_model("scheduling", "Schedule")):
        field = "task_path" if model.__name__ == "DBTaskResult" else "task"
        for old, new in mapping.items():
            for row in model.objects.filter(**{f"{field}__startswith": old}).only("pk", field):
                setattr(row, field, new + getattr(row, field)[len(old):])
                row.save(update_fields=[field])


def forwards(apps, schema_editor):
    _rename(apps, schema_editor, MOVED)


def backwards(apps, schema_editor):
    _rename(apps, schema_editor, {new: old for old, new in MOVED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0002_seed_schedules"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
