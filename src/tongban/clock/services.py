"""Edits to the working-day calendar: by the bureau administrator only, every change audited."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from tongban.accounts import permissions
from tongban.audit.services import audit_record
from tongban.core.errors import AccessDenied, Problem, RuleViolation

from . import selectors
from .models import CalendarDay, CalendarYear, DayKind

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

KIND_WORDS = {
    "holiday": DayKind.HOLIDAY, "休": DayKind.HOLIDAY, "假": DayKind.HOLIDAY,
    "法定节假日": DayKind.HOLIDAY, "makeup_workday": DayKind.MAKEUP_WORKDAY,
    "班": DayKind.MAKEUP_WORKDAY, "调休上班": DayKind.MAKEUP_WORKDAY,
}

# Called after a year's schedule is loaded, so that open deadlines are recomputed. Apps that
# keep deadlines (cases) register a callable taking the list of affected years.
schedule_listeners: list[Callable[[list[int]], None]] = []


def _require_admin(actor: Actor) -> None:
    if not permissions.is_bureau_admin(actor):
        raise AccessDenied(_("只有政务服务管理局管理员可以修改工作日历"))


def _changed(years: list[int]) -> None:
    selectors.calendar_changed()
    for listener in schedule_listeners:
        transaction.on_commit(lambda listener=listener: listener(years))  # type: ignore[misc]


def check_calendar_day(*, date: dt.date, kind: str) -> list[Problem]:
    """The rules a calendar day must satisfy (shared by the admin form and the services)."""
    if kind not in DayKind.values:
        return [Problem("kind", _("类型须为法定节假日或调休上班"))]
    if kind == DayKind.MAKEUP_WORKDAY and date.weekday() < 5:
        return [Problem("date", _("调休上班日必须是周六或周日"))]
    return []


@transaction.atomic
def calendar_day_save(*, actor: Actor, date: dt.date, kind: str, name: str = "") -> CalendarDay:
    """Mark ``date`` as an official holiday or make-up working day."""
    _require_admin(actor)
    problems = check_calendar_day(date=date, kind=kind)
    if problems:
        raise RuleViolation(problems)
    day, created = CalendarDay.objects.update_or_create(date=date, defaults={"kind": kind, "name": name})
    audit_record(actor=actor, action="calendar.day_saved", object_type="calendar_day",
                 object_id=date.isoformat(), detail={"kind": kind, "name": name, "created": created})
    _changed([date.year])
    return day


@transaction.atomic
def calendar_day_delete(*, actor: Actor, date: dt.date) -> None:
    _require_admin(actor)
    deleted, _count = CalendarDay.objects.filter(date=date).delete()
    if deleted:
        audit_record(actor=actor, action="calendar.day_deleted", object_type="calendar_day",
                     object_id=date.isoformat(), detail={})
        _changed([date.year])


@transaction.atomic
def calendar_import_csv(*, actor: Actor, content: str, source: str) -> dict[str, Any]:
    """Load one or more years' schedules from CSV rows ``date,kind,name``.

    Every year present in the file becomes official and its rows replace what was there; a file
    with any bad row is refused whole.
    """
    _require_admin(actor)
    problems: list[Problem] = []
    rows: list[tuple[dt.date, str, str]] = []
    reader = csv.reader(io.StringIO(content.lstrip("\ufeff")))
    for number, record in enumerate(reader, start=1):
        if not record or not "".join(record).strip():
            continue
        if number == 1 and record[0].strip().lower() in {"date", "日期"}:
            continue
        where = _("第%(n)s行") % {"n": number}
        if len(record) < 2:
            problems.append(Problem(str(where), _("每行须为：日期,类型,名称")))
            continue
        try:
            day = dt.date.fromisoformat(record[0].strip())
        except ValueError:
            problems.append(Problem(str(where), _("日期“%(v)s”无效，应为YYYY-MM-DD") % {"v": record[0]}))
            continue
        kind = KIND_WORDS.get(record[1].strip())
        if kind is None:
            problems.append(Problem(str(where), _("类型“%(v)s”无效，应为holiday或makeup_workday") % {
                "v": record[1]}))
            continue
        for problem in check_calendar_day(date=day, kind=kind):
            problems.append(Problem(str(where), problem.message))
        if problems:
            continue
        rows.append((day, kind, record[2].strip() if len(record) > 2 else ""))
    if not rows and not problems:
        problems.append(Problem("file", _("文件中没有日期")))
    if problems:
        raise RuleViolation(problems)
    years = sorted({d.year for d, _k, _n in rows})
    CalendarDay.objects.filter(date__year__in=years).delete()
    CalendarDay.objects.bulk_create([CalendarDay(date=d, kind=k, name=n) for d, k, n in rows])
    for year in years:
        CalendarYear.objects.update_or_create(year=year, defaults={"source": source})
    audit_record(actor=actor, action="calendar.imported", object_type="calendar",
                 object_id=",".join(map(str, years)), detail={"rows": len(rows), "source": source})
    _changed(years)
    return {"years": years, "rows": len(rows)}
