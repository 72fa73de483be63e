"""The deadline function of domain.md §3, exactly as written there.

Pure: it reads a :class:`WorkCalendar` and a hall's :class:`OfficeHours` passed in, never the
database, so the same function serves cases, the public API and property-based tests.

Order of adjustments: the base due instant comes from the list's rule; clock stops then move
it later by the business time they cover; an extension then moves it to the close of the M-th
working day after the (stop-adjusted) due day — an extension is granted against the due date
the case has at that moment.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from .calendar import OfficeHours, Period, WorkCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")

ON_THE_SPOT = "on_the_spot"
SAME_DAY = "same_day"
TIME_LIMITED = "time_limited"
PROXY = "proxy"
CATEGORIES = (ON_THE_SPOT, SAME_DAY, TIME_LIMITED, PROXY)
WORKING_DAYS = "working_days"
NATURAL_DAYS = "natural_days"
UNITS = (WORKING_DAYS, NATURAL_DAYS)


@dataclass(frozen=True)
class Stop:
    """A clock stop [start, end): special procedure or suspension."""

    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class Deadline:
    due: dt.datetime
    provisional: bool


class _Clock:
    """Calendar + office hours for one computation, remembering whether any day it consulted
    lies in a year without an official schedule (which makes the result provisional)."""

    def __init__(self, calendar: WorkCalendar, hours: OfficeHours) -> None:
        self.calendar = calendar
        self.hours = hours
        self.provisional = False

    def working(self, day: dt.date) -> bool:
        if not self.calendar.is_official(day):
            self.provisional = True
        return self.calendar.is_working_day(day)

    def next_working(self, day: dt.date) -> dt.date:
        day += dt.timedelta(days=1)
        while not self.working(day):
            day += dt.timedelta(days=1)
        return day

    def periods(self, day: dt.date) -> tuple[Period, ...]:
        return self.hours.periods_on(day)

    def at(self, day: dt.date, time: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, time, tzinfo=SHANGHAI)

    def close(self, day: dt.date) -> dt.datetime:
        return self.at(day, self.periods(day)[-1].ends)

    def business_seconds(self, start: dt.datetime, end: dt.datetime) -> float:
        """Seconds inside office periods of working days within [start, end)."""
        if end <= start:
            return 0.0
        total = 0.0
        day = start.date()
        while day <= end.date():
            if self.working(day):
                for period in self.periods(day):
                    lo = max(start, self.at(day, period.starts))
                    hi = min(end, self.at(day, period.ends))
                    if hi > lo:
                        total += (hi - lo).total_seconds()
            day += dt.timedelta(days=1)
        return total

    def add_business(self, instant: dt.datetime, seconds: float) -> dt.datetime:
        """The instant ``seconds`` of business time after ``instant``."""
        if seconds <= 0:
            return instant
        day = instant.date()
        while True:
            if self.working(day):
                for period in self.periods(day):
                    lo = max(instant, self.at(day, period.starts))
                    hi = self.at(day, period.ends)
                    if hi <= lo:
                        continue
                    available = (hi - lo).total_seconds()
                    if seconds <= available:
                        return lo + dt.timedelta(seconds=seconds)
                    seconds -= available
            day += dt.timedelta(days=1)


Span = tuple[dt.datetime, dt.datetime]


def merge_spans(spans: Iterable[tuple[dt.datetime, dt.datetime | None]], *,
                not_before: dt.datetime | None = None,
                not_after: dt.datetime | None = None) -> list[Span]:
    """Clock stops as disjoint spans: each clipped to [not_before, not_after] (a stop still
    running, ``end`` None, runs to ``not_after``), empty ones dropped, overlaps merged — so a
    stretch of time covered by two stops is never counted twice."""
    clipped: list[Span] = []
    for lo, hi in spans:
        end = hi if hi is not None else not_after
        if end is None:
            raise ValueError("a running stop needs not_after")
        if not_before is not None:
            lo = max(lo, not_before)
        if not_after is not None:
            end = min(end, not_after)
        if end > lo:
            clipped.append((lo, end))
    merged: list[Span] = []
    for lo, hi in sorted(clipped):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def compute_deadline(
    *,
    start: dt.datetime,
    category: str,
    limit: int = 0,
    unit: str = WORKING_DAYS,
    stops: Sequence[Stop] = (),
    extension_working_days: int = 0,
    calendar: WorkCalendar,
    hours: OfficeHours | None = None,
    same_day_cutoff: dt.timedelta = dt.timedelta(hours=2),
) -> Deadline:
    """The due instant of a case accepted at ``start`` (aware datetime), in Asia/Shanghai."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}")
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}")
    if limit < 0 or extension_working_days < 0:
        raise ValueError("limit and extension must not be negative")
    clock = _Clock(calendar, hours or OfficeHours())
    t = start.astimezone(SHANGHAI)
    today = t.date()

    if category == ON_THE_SPOT:
        return Deadline(due=t, provisional=False)
    if category == SAME_DAY:
        if clock.working(today) and t < clock.close(today) - same_day_cutoff:
            due = clock.close(today)
        else:
            due = clock.close(clock.next_working(today))
    elif unit == NATURAL_DAYS:
        day = today + dt.timedelta(days=limit)
        if not clock.working(day):
            day = clock.next_working(day)
        due = clock.close(day)
    else:
        # D0: today if it is a working day and the office has not closed, else the next one.
        d0 = today if clock.working(today) and t < clock.close(today) else clock.next_working(today)
        day = d0
        for _ in range(limit):
            day = clock.next_working(day)
        due = clock.close(day)

    stopped = sum(clock.business_seconds(lo, hi)
                  for lo, hi in merge_spans(((s.start, s.end) for s in stops), not_before=t))
    due = clock.add_business(due, stopped)

    if extension_working_days:
        day = due.date()
        for _ in range(extension_working_days):
            day = clock.next_working(day)
        due = clock.close(day)
    return Deadline(due=due, provisional=clock.provisional)


def business_seconds_between(start: dt.datetime, end: dt.datetime, *, calendar: WorkCalendar,
                             hours: OfficeHours | None = None) -> float:
    """Business time inside [start, end), e.g. the time left before a due instant."""
    return _Clock(calendar, hours or OfficeHours()).business_seconds(
        start.astimezone(SHANGHAI), end.astimezone(SHANGHAI))


def business_add(instant: dt.datetime, seconds: float, *, calendar: WorkCalendar,
                 hours: OfficeHours | None = None) -> Deadline:
    """The instant ``seconds`` of business time after ``instant`` (e.g. a step's own budget)."""
    clock = _Clock(calendar, hours or OfficeHours())
    due = clock.add_business(instant.astimezone(SHANGHAI), seconds)
    return Deadline(due=due, provisional=clock.provisional)


def stopped_business_seconds(stops: Iterable[tuple[dt.datetime, dt.datetime | None]], *,
                             since: dt.datetime, until: dt.datetime, calendar: WorkCalendar,
                             hours: OfficeHours | None = None) -> float:
    """Business time inside [since, until) during which a clock stood still: the stops
    (a running one, ``end`` None, until ``until``) clipped and merged (:func:`merge_spans`)."""
    clock = _Clock(calendar, hours or OfficeHours())
    return sum(clock.business_seconds(lo.astimezone(SHANGHAI), hi.astimezone(SHANGHAI))
               for lo, hi in merge_spans(stops, not_before=since, not_after=until))


def working_days_elapsed(start: dt.datetime, end: dt.datetime,
                         stops: Iterable[tuple[dt.datetime, dt.datetime | None]] = (), *,
                         calendar: WorkCalendar, hours: OfficeHours | None = None) -> float:
    """Working days from ``start`` to ``end`` on a case's clock: the business time of
    [start, end) less that of its clock stops inside it, in lengths of ``start``'s working day
    (the actual handling time of a case)."""
    hours = hours or OfficeHours()
    total = business_seconds_between(start, end, calendar=calendar, hours=hours)
    stopped = stopped_business_seconds(stops, since=start, until=end, calendar=calendar,
                                       hours=hours)
    day = working_day_seconds(hours, start.astimezone(SHANGHAI).date()) or 1.0
    return max(total - stopped, 0.0) / day


def limit_in_working_days(amount: float, unit: str) -> float:
    """A time limit in working days: a week has 5 working days in 7 natural days, so N natural
    days count as N × 5/7 — all limits then add up in one unit (domain.md §5: 减时限比例)."""
    return amount * 5 / 7 if unit == NATURAL_DAYS else float(amount)


def natural_days_spanned(amount: int, unit: str) -> float:
    """To compare limits across units the other way round: N working days span at least
    ⌈N × 7/5⌉ natural days (a legal limit and a committed limit in different units)."""
    return math.ceil(amount * 7 / 5) if unit == WORKING_DAYS else float(amount)


def working_day_seconds(hours: OfficeHours, day: dt.date) -> float:
    """Length of the office periods of ``day``: one working day of business time."""
    return sum((dt.datetime.combine(day, p.ends) - dt.datetime.combine(day, p.starts)).total_seconds()
               for p in hours.periods_on(day))


def committed_business_seconds(*, category: str, limit: int | float, unit: str = WORKING_DAYS,
                               extension_working_days: int = 0, day_seconds: float) -> float:
    """The business time of a committed limit, for the warning threshold: 即收即办 none,
    当日办结 one working day, N working days N of them, N calendar days N × 5/7 working days
    (as the catalog's figures count them); an extension's working days are added."""
    if category == ON_THE_SPOT:
        return 0.0
    days = 1.0 if category == SAME_DAY else limit_in_working_days(float(limit), unit)
    return (days + extension_working_days) * day_seconds


def warning_threshold(*, limit_seconds: float, day_seconds: float, fraction: float,
                      cap_working_days: float) -> float:
    """Yellow when the business time left is at most this: a ``fraction`` of the committed
    limit's business time, capped at ``cap_working_days`` working days (domain.md §3)."""
    return min(fraction * limit_seconds, cap_working_days * day_seconds)
