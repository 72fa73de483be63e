"""Reads of the calendar and office hours, turned into the pure objects the clock uses."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache

from tongban.organizations.models import Hall, OfficePeriod

from .calendar import DEFAULT_PERIODS, OfficeHours, Period, SeasonalPeriods, WorkCalendar
from .deadline import business_seconds_between, working_day_seconds
from .models import CalendarDay, CalendarYear

_CACHE_KEY = "clock:work-calendar"
_STAMP_KEY = "clock:work-calendar:stamp"
_TIMEOUT = 300
# This process's copy of the calendar and the stamp it was cached under. Every deadline
# computation reads the calendar; unpickling a few hundred days from the cache each time would
# cost more than the computation, so only the small stamp is read from the cache.
_local: tuple[str, WorkCalendar] | None = None


def work_calendar() -> WorkCalendar:
    """The whole calendar (a few hundred rows), cached until the next edit (services clear it)."""
    global _local
    stamp = cache.get(_STAMP_KEY)
    local = _local
    if stamp is not None and local is not None and local[0] == stamp:
        return local[1]
    calendar = cache.get(_CACHE_KEY) if stamp is not None else None
    if calendar is None:
        calendar = WorkCalendar.from_rows(
            CalendarDay.objects.values_list("date", "kind"),
            CalendarYear.objects.values_list("year", flat=True),
        )
        stamp = uuid.uuid4().hex
        cache.set_many({_CACHE_KEY: calendar, _STAMP_KEY: stamp}, timeout=_TIMEOUT)
    _local = (stamp, calendar)
    return calendar


def forget_calendar() -> None:
    global _local
    _local = None
    cache.delete_many([_CACHE_KEY, _STAMP_KEY])


def office_hours(hall_id: int | None = None) -> OfficeHours:
    """The hall's office periods; the platform default (settings) when it has none."""
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
    """:func:`office_hours` for many rows at once: each hall's periods are read once."""
    memo: dict[int | None, OfficeHours] = {}

    def lookup(hall_id: int | None) -> OfficeHours:
        if hall_id not in memo:
            memo[hall_id] = office_hours(hall_id)
        return memo[hall_id]

    return lookup


def deadline_state(due: dt.datetime | None, *, now: dt.datetime, hall_id: int | None = None,
                   hours: OfficeHours | None = None) -> str:
    """green, yellow (≤ the warning threshold of business time left) or red (past due).

    ``hours``: the hall's office hours when the caller already has them (see
    :func:`office_hours_memo`); otherwise they are read for ``hall_id``."""
    if due is None:
        return "green"
    if now > due:
        return "red"
    hours = hours or office_hours(hall_id)
    left = business_seconds_between(now, due, calendar=work_calendar(), hours=hours)
    threshold = settings.CLOCK_WARNING_WORKING_DAYS * working_day_seconds(hours, due.date())
    return "yellow" if left <= threshold else "green"
