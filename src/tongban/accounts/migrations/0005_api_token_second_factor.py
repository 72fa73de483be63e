"""API tokens record whether a second factor was given when they were issued: a role that
requires one (administrators, supervisors, superusers) is refused tokens issued without it.
Tokens issued before this migration count as issued without (such accounts ask for a new one)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_encrypt_personal_data'),
    ]

    operations = [
        migrations.AddField(
            model_name='apitoken',
            name='second_factor',
            field=models.BooleanField(default=False, verbose_name='经双重验证签发'),
        ),
    ]
