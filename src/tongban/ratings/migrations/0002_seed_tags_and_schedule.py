"""The bad-review tags (the three national ones first) and the overdue-ticket sweep schedule."""

from django.db import migrations

from tongban.scheduling.migrations_support import seed_schedules, unseed_schedules

TAGS = [
    # The three national tags (the most chosen in Guangdong's monthly reports).
    ("overdue_without_reason", "无理由超过法定办理时间", True),
    ("conditions_beyond_guide", "在办事指南之外增加新的审批条件", True),
    ("materials_beyond_guide", "需提供办事指南之外的申报材料", True),
    ("poor_attitude", "服务态度差", False),
    ("unclear_guide", "办事指南不清楚", False),
    ("repeated_visits", "多次跑动", False),
    ("long_wait", "排队等候时间长", False),
    ("system_problem", "系统操作不便或故障", False),
]

SCHEDULE = {"name": "sweep_rating_tickets", "task": "tongban.ratings.tasks.sweep_tickets",
            "interval_seconds": 900}


def seed(apps, schema_editor):
    RatingTag = apps.get_model("ratings", "RatingTag")
    for sort, (code, name, national) in enumerate(TAGS, start=1):
        RatingTag.objects.get_or_create(code=code, defaults={
            "name": name, "national": national, "sort": sort})
    seed_schedules(apps, rows=(SCHEDULE,))


def unseed(apps, schema_editor):
    apps.get_model("ratings", "RatingTag").objects.filter(code__in=[t[0] for t in TAGS]).delete()
    unseed_schedules(apps, rows=(SCHEDULE,))


class Migration(migrations.Migration):

    dependencies = [("ratings", "0001_initial"), ("scheduling", "0002_seed_schedules")]

    operations = [migrations.RunPython(seed, unseed)]
