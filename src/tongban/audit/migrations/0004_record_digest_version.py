"""Every stored column of an audit record enters its hash from now on (digest version 2).

The records already written keep their hash over the columns it covered then (version 1) and
still verify with that formula; new records get version 2. Nothing is re-hashed or re-signed:
the signed checkpoints over the old records stay valid (docs/audit.md).
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("audit", "0003_checkpoint_schedule")]

    operations = [
        # The records already written: version 1.
        migrations.AddField(
            model_name="auditrecord",
            name="digest_version",
            field=models.PositiveSmallIntegerField(default=1, verbose_name="摘要版本"),
        ),
        # Records written from now on: version 2.
        migrations.AlterField(
            model_name="auditrecord",
            name="digest_version",
            field=models.PositiveSmallIntegerField(default=2, verbose_name="摘要版本"),
        ),
    ]
