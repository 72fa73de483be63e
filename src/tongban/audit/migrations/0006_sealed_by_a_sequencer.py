"""Records are appended numbered and unsealed; a sequencer seals them into the chain.

``prev_hash`` and ``hash`` may be empty (a record written and not yet sealed); a partial index
lists those few for the sealer. On PostgreSQL the numbers come from the ``audit_record_seq``
sequence, started after the last record; SQLite keeps numbering under its write lock. The
``audit_seal`` schedule (every 5 seconds, run by ``tongban worker``) seals them (docs/audit.md).
Nothing written before is touched: every existing record is sealed already.
"""

from django.db import migrations, models

from tongban.scheduling.migrations_support import schedule_rows

SCHEDULE = {"name": "audit_seal", "task": "tongban.audit.tasks.seal", "interval_seconds": 5}


def create_sequence(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name("audit_auditrecord")
    schema_editor.execute("CREATE SEQUENCE IF NOT EXISTS audit_record_seq AS bigint")
    schema_editor.execute(f"SELECT setval('audit_record_seq', COALESCE((SELECT MAX(seq) FROM {table}), 0) + 1, false)")


def drop_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP SEQUENCE IF EXISTS audit_record_seq")


class Migration(migrations.Migration):

    dependencies = [("audit", "0005_log_filter_indexes"), ("scheduling", "0002_seed_schedules")]

    operations = [
        migrations.AlterField(
            model_name="auditrecord", name="prev_hash",
            field=models.CharField(blank=True, max_length=64, null=True)),
        migrations.AlterField(
            model_name="auditrecord", name="hash",
            field=models.CharField(blank=True, max_length=64, null=True)),
        migrations.AddIndex(
            model_name="auditrecord",
            index=models.Index(condition=models.Q(("hash__isnull", True)), fields=["seq"],
                               name="audit_record_unsealed")),
        migrations.RunPython(create_sequence, drop_sequence),
        schedule_rows(SCHEDULE),
    ]
