"""The working-day calendar as a pure, in-memory object (no database access).

:class:`WorkCalendar` answers "is this a working day?" from the official schedule
(holidays and make-up working days) for the years that have one, and from weekends plus the
statutory holidays fixed by law for years that do not — such answers are *provisional*.
:class:`OfficeHours` gives a hall's office periods for a date. ``selectors.work_calendar()``
builds a WorkCalendar from the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from lunardate import LunarDate

HOLIDAY = "holiday"
MAKEUP_WORKDAY = "makeup_workday"
# The years whose statutory holidays can be computed (the lunar tables end with 2099).
FIRST_YEAR, LAST_YEAR = 1901, 2099


class OutsideCalendar(ValueError):
    """A working day was asked of a year outside FIRST_YEAR–LAST_YEAR."""

    def __init__(self, year: int) -> None:
        super().__init__(f"year {year} is outside {FIRST_YEAR}–{LAST_YEAR}")
        self.year = year


def _qingming(year: int) -> dt.date:
    """Qingming (a solar term), by the usual 21st-century approximation (Apr 4 or 5)."""
    y = year % 100
    day = int(y * 0.2422 + 4.81) - int(y / 4)
    return dt.date(year, 4, day)


@lru_cache(maxsize=64)
def statutory_holidays(year: int) -> frozenset[dt.date]:
    """The days the law itself fixes (全国年节及纪念日放假办法, 2025 revision), without the
    State Council's yearly bridging and make-up days: 元旦 1, 春节 4 (除夕–初三), 清明 1,
    劳动节 2, 端午 1, 中秋 1, 国庆 3."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise OutsideCalendar(year)
    days = {dt.date(year, 1, 1), dt.date(year, 5, 1), dt.date(year, 5, 2),
            dt.date(year, 10, 1), dt.date(year, 10, 2), dt.date(year, 10, 3), _qingming(year)}
    new_year = LunarDate(year, 1, 1).to_solar_date()
    days.update(new_year + dt.timedelta(days=i) for i in range(-1, 3))
    days.add(LunarDate(year, 5, 5).to_solar_date())
    days.add(LunarDate(year, 8, 15).to_solar_date())
    return frozenset(days)


@dataclass(frozen=True)
class WorkCalendar:
    """Official holidays and make-up working days, and the years they are official for."""

    overrides: Mapping[dt.date, str] = field(default_factory=dict)
    official_years: frozenset[int] = frozenset()

    def is_official(self, day: dt.date) -> bool:
        return day.year in self.official_years

    def is_working_day(self, day: dt.date) -> bool:
        if day.year in self.official_years:
            kind = self.overrides.get(day)
            if kind == MAKEUP_WORKDAY:
                return True
            if kind == HOLIDAY:
                return False
            return day.weekday() < 5
        # No official schedule: weekends and the statutory holidays only (provisional).
        return day.weekday() < 5 and day not in statutory_holidays(day.year)

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after ``day``."""
        day += dt.timedelta(days=1)
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def working_day_on_or_after(self, day: dt.date) -> dt.date:
        return day if self.is_working_day(day) else self.next_working_day(day)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[dt.date, str]], official_years: Iterable[int]) -> WorkCalendar:
        return cls(overrides=dict(rows), official_years=frozenset(official_years))


@dataclass(frozen=True)
class Period:
    starts: dt.time
    ends: dt.time


DEFAULT_PERIODS: tuple[Period, ...] = (
    Period(dt.time(9, 0), dt.time(12, 0)),
    Period(dt.time(13, 30), dt.time(17, 30)),
)


@dataclass(frozen=True)
class SeasonalPeriods:
    """Periods valid between two month-day marks ("MMDD", inclusive; may wrap the year end)."""

    season_from: str
    season_to: str
    periods: tuple[Period, ...]

    def applies(self, day: dt.date) -> bool:
        mark = f"{day.month:02d}{day.day:02d}"
        if self.season_from <= self.season_to:
            return self.season_from <= mark <= self.season_to
        return mark >= self.season_from or mark <= self.season_to


@dataclass(frozen=True)
class OfficeHours:
    """A hall's office periods on working days: all-year periods and seasonal variants."""

    periods: tuple[Period, ...] = DEFAULT_PERIODS
    seasonal: tuple[SeasonalPeriods, ...] = ()

    def periods_on(self, day: dt.date) -> tuple[Period, ...]:
        for season in self.seasonal:
            if season.applies(day):
                return season.periods
        return self.periods
