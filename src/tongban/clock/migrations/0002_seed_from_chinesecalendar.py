"""Seed official holidays and make-up working days 2004–2026 from the chinesecalendar package.

Only the package's data tables are read (no app code). Later years are loaded by the bureau
from a CSV (``tongban import_calendar``) when the State Council publishes them.
"""

from django.db import migrations

NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def seed(apps, schema_editor):
    from chinese_calendar import constants

    CalendarDay = apps.get_model("clock", "CalendarDay")
    CalendarYear = apps.get_model("clock", "CalendarYear")
    rows = [(day, "holiday", name) for day, name in constants.holidays.items()]
    rows += [(day, "makeup_workday", name) for day, name in constants.workdays.items()]
    existing = set(CalendarDay.objects.values_list("date", flat=True))
    CalendarDay.objects.bulk_create([
        CalendarDay(date=day, kind=kind, name=NAMES.get(str(name), str(name)))
        for day, kind, name in sorted(rows) if day not in existing
    ])
    years = sorted({day.year for day, _, _ in rows})
    for year in range(years[0], years[-1] + 1):
        CalendarYear.objects.get_or_create(year=year, defaults={"source": "chinesecalendar"})


class Migration(migrations.Migration):
    dependencies = [("clock", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
