"""Reads of the calendar and office hours, turned into the pure objects the clock uses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import connections, router
from django.db.models import F

from tongban.organizations.models import Hall, OfficePeriod, office_hours_stamp

from .calendar import DEFAULT_PERIODS, OfficeHours, Period, SeasonalPeriods, WorkCalendar
from .deadline import (
    SHANGHAI,
    business_seconds_between,
    committed_business_seconds,
    warning_threshold,
    working_day_seconds,
)
from .models import CalendarDay, CalendarVersion, CalendarYear

# This process's copy of the calendar and the version it was read at. Before each use the
# version row is read (one primary-key read): a change made by any process — an edit in the
# admin, an imported year — increments it, so no process answers from a stale copy. Inside
# :func:`calendar_scope` (a sweep, a list) the copy is checked once for the whole block.
_local: tuple[int, WorkCalendar] | None = None
_pinned: ContextVar[WorkCalendar | None] = ContextVar("tongban_work_calendar", default=None)


def calendar_version() -> int:
    """The calendar's change counter (0 before the first change).

    Read before every deadline computation (each step of each case): one plain statement, not
    a query the ORM would compile anew at each call for more than the read itself costs."""
    connection = connections[router.db_for_read(CalendarVersion)]
    meta = CalendarVersion._meta
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote(str(meta.get_field('version').column))} "
                       f"FROM {quote(meta.db_table)} WHERE {quote(str(meta.pk.column))} = %s", [1])
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def _current() -> WorkCalendar:
    global _local
    version = calendar_version()
    local = _local
    if local is not None and local[0] == version:
        return local[1]
    calendar = WorkCalendar.from_rows(
        CalendarDay.objects.values_list("date", "kind"),
        CalendarYear.objects.values_list("year", flat=True),
    )
    _local = (version, calendar)
    return calendar


def work_calendar() -> WorkCalendar:
    """The whole calendar (a few hundred rows), as of the latest change in any process."""
    pinned = _pinned.get()
    return pinned if pinned is not None else _current()


@contextmanager
def calendar_scope() -> Iterator[WorkCalendar]:
    """Check the calendar once for a block of many deadline computations (a sweep, a list)."""
    token = _pinned.set(_current())
    try:
        yield work_calendar()
    finally:
        _pinned.reset(token)


def forget_calendar() -> None:
    """Drop this process's copy (tests; the version check makes it unnecessary otherwise)."""
    global _local
    _local = None
    _pinned.set(None)


def calendar_changed() -> None:
    """Count one change of the calendar (called by the services, inside their transaction)."""
    if not CalendarVersion.objects.filter(pk=1).update(version=F("version") + 1):
        CalendarVersion.objects.get_or_create(pk=1, defaults={"version": 1})
    forget_calendar()


# This process's copy of the halls' office hours, valid while the stamp it was read at is the
# current one (``organizations.models.OfficeHoursStamp``, rewritten by every change of any
# hall's periods). Office hours change a few times a year and are read for every deadline.
_hours: tuple[str, dict[int | None, OfficeHours]] = ("", {})


def _hours_cache(stamp: str) -> dict[int | None, OfficeHours]:
    global _hours
    key = f"{stamp}|{settings.CLOCK_DEFAULT_OFFICE_PERIODS!r}"
    if _hours[0] != key:
        _hours = (key, {})
    return _hours[1]


def office_hours(hall_id: int | None = None) -> OfficeHours:
    """The hall's office periods; the platform default (settings) when it has none. One read of
    the change stamp; the periods themselves come from this process's copy when current."""
    if hall_id is None:
        return _read_office_hours(None)  # the settings' default: nothing to read
    cache = _hours_cache(office_hours_stamp())
    if hall_id not in cache:
        cache[hall_id] = _read_office_hours(hall_id)
    return cache[hall_id]


def _read_office_hours(hall_id: int | None) -> OfficeHours:
    default = tuple(Period(dt.time.fromisoformat(a), dt.time.fromisoformat(b))
                    for a, b in settings.CLOCK_DEFAULT_OFFICE_PERIODS) or DEFAULT_PERIODS
    if hall_id is None:
        return OfficeHours(periods=default)
    rows = list(OfficePeriod.objects.filter(hall_id=hall_id).order_by("season_from", "starts"))
    all_year = tuple(Period(r.starts, r.ends) for r in rows if not r.season_from)
    seasons: dict[tuple[str, str], list[Period]] = {}
    for r in rows:
        if r.season_from:
            seasons.setdefault((r.season_from, r.season_to), []).append(Period(r.starts, r.ends))
    return OfficeHours(
        periods=all_year or default,
        seasonal=tuple(SeasonalPeriods(a, b, tuple(p)) for (a, b), p in seasons.items()),
    )


def hall_exists(hall_id: int) -> bool:
    return Hall.objects.filter(pk=hall_id).exists()


def same_day_cutoff() -> dt.timedelta:
    return dt.timedelta(minutes=settings.CLOCK_SAME_DAY_CUTOFF_MINUTES)


def years_missing_schedule(today: dt.date) -> list[int]:
    """From October on, next year's schedule is expected (published around November)."""
    official = set(CalendarYear.objects.values_list("year", flat=True))
    wanted = [today.year] + ([today.year + 1] if today.month >= 10 else [])
    return [y for y in wanted if y not in official]


def office_hours_memo() -> Callable[[int | None], OfficeHours]:
    """:func:`office_hours` for many rows at once: the change stamp is read once, each hall's
    periods at most once (none when this process's copy is current)."""
    stamp: list[str] = []

    def lookup(hall_id: int | None) -> OfficeHours:
        if hall_id is None:
            return _read_office_hours(None)
        if not stamp:
            stamp.append(office_hours_stamp())
        cache = _hours_cache(stamp[0])
        if hall_id not in cache:
            cache[hall_id] = _read_office_hours(hall_id)
        return cache[hall_id]

    return lookup


def case_limit_seconds(*, category: str, limit: int | float, unit: str,
                       extension_working_days: int, due: dt.datetime,
                       hours: OfficeHours) -> float:
    """The business time of a case's committed limit (with its extension), for
    :func:`deadline_state`."""
    return committed_business_seconds(
        category=category, limit=limit, unit=unit, extension_working_days=extension_working_days,
        day_seconds=working_day_seconds(hours, due.astimezone(SHANGHAI).date()))


def deadline_state(due: dt.datetime | None, *, now: dt.datetime,
                   limit_seconds: float | None = None, opened_at: dt.datetime | None = None,
                   hall_id: int | None = None, hours: OfficeHours | None = None) -> str:
    """green, yellow or red (past due): the one rule of the warning, for pages, API and sweeps.

    Yellow when the business time left is at most ``CLOCK_WARNING_FRACTION`` of the committed
    limit's business time, capped at ``CLOCK_WARNING_WORKING_DAYS`` working days. The limit is
    ``limit_seconds`` (a case: :func:`case_limit_seconds`) or, for a step, its own budget: the
    business time from ``opened_at`` to its due instant. ``hours``: the hall's office hours when
    the caller already has them (see :func:`office_hours_memo`); otherwise read for
    ``hall_id``."""
    if due is None:
        return "green"
    if now > due:
        return "red"
    if limit_seconds is None and opened_at is None:
        raise ValueError("deadline_state needs the limit (limit_seconds or opened_at)")
    hours = hours or office_hours(hall_id)
    calendar = work_calendar()
    day_seconds = working_day_seconds(hours, due.astimezone(SHANGHAI).date())
    left = business_seconds_between(now, due, calendar=calendar, hours=hours)
    if left > settings.CLOCK_WARNING_WORKING_DAYS * day_seconds:
        return "green"  # beyond the cap: no need to know the limit
    if limit_seconds is None:
        assert opened_at is not None
        limit_seconds = business_seconds_between(opened_at, due, calendar=calendar, hours=hours)
    threshold = warning_threshold(limit_seconds=limit_seconds, day_seconds=day_seconds,
                                  fraction=settings.CLOCK_WARNING_FRACTION,
                                  cap_working_days=settings.CLOCK_WARNING_WORKING_DAYS)
    return "yellow" if left <= threshold else "green"
