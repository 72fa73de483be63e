from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0012_case_event_closing_index'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('status__in', ('accepted', 'suspended', 'halted', 'supplement'))), fields=['department', 'due_at', 'id'], name='case_open_department_due'),
        ),
    ]
