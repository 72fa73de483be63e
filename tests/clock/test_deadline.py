"""The deadline function against worked examples around every 2025–2026 holiday, and its
invariants under hypothesis. Pure: no database (the calendar is built from chinesecalendar)."""

from __future__ import annotations

import datetime as dt

import chinese_calendar.constants as official
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tongban.clock.calendar import HOLIDAY, MAKEUP_WORKDAY, WorkCalendar
from tongban.clock.deadline import SHANGHAI, Stop, business_seconds_between, compute_deadline

CAL = WorkCalendar.from_rows(
    [(d, HOLIDAY) for d in official.holidays] + [(d, MAKEUP_WORKDAY) for d in official.workdays],
    range(2004, 2027),
)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0,
         second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


def due(start: dt.datetime, category: str = "time_limited", limit: int = 0, **kw: object) -> dt.datetime:
    return compute_deadline(start=start, category=category, limit=limit, calendar=CAL, **kw).due  # type: ignore[arg-type]


WORKED = [
    # (start, category, limit, unit, expected due)  — comments give the reasoning
    (at(2024, 12, 31, 16), "time_limited", 1, "working_days", at(2025, 1, 2, 17, 30)),  # 元旦
    (at(2025, 1, 27, 10), "time_limited", 1, "working_days", at(2025, 2, 5, 17, 30)),  # 春节 1-28…2-4
    (at(2025, 1, 25, 10), "time_limited", 2, "working_days", at(2025, 2, 5, 17, 30)),  # D0 = 1-26 调休
    (at(2025, 1, 26, 14), "same_day", 0, "working_days", at(2025, 1, 26, 17, 30)),  # Sunday make-up
    (at(2025, 2, 7, 18), "time_limited", 1, "working_days", at(2025, 2, 10, 17, 30)),  # D0 = 2-8 调休
    (at(2025, 4, 3, 10), "time_limited", 1, "working_days", at(2025, 4, 7, 17, 30)),  # 清明 4-4…6
    (at(2025, 4, 25, 10), "time_limited", 1, "working_days", at(2025, 4, 27, 17, 30)),  # 4-27 调休
    (at(2025, 4, 30, 9), "time_limited", 2, "working_days", at(2025, 5, 7, 17, 30)),  # 劳动节 5-1…5
    (at(2025, 5, 30, 10), "time_limited", 1, "working_days", at(2025, 6, 3, 17, 30)),  # 端午 5-31…6-2
    (at(2025, 9, 26, 10), "time_limited", 2, "working_days", at(2025, 9, 29, 17, 30)),  # 9-28 调休
    (at(2025, 9, 30, 10), "time_limited", 5, "working_days", at(2025, 10, 14, 17, 30)),  # 国庆 + 10-11
    (at(2025, 9, 25, 10), "time_limited", 7, "natural_days", at(2025, 10, 9, 17, 30)),  # 10-2 → 10-9
    (at(2025, 10, 1, 10), "time_limited", 3, "natural_days", at(2025, 10, 9, 17, 30)),
    (at(2025, 12, 31, 10), "time_limited", 1, "working_days", at(2026, 1, 4, 17, 30)),  # 1-4 调休
    (at(2026, 2, 13, 16), "time_limited", 1, "working_days", at(2026, 2, 14, 17, 30)),  # 2-14 调休
    (at(2026, 2, 14, 10), "time_limited", 1, "working_days", at(2026, 2, 24, 17, 30)),  # 春节 2-15…23
    (at(2026, 2, 27, 10), "time_limited", 1, "working_days", at(2026, 2, 28, 17, 30)),  # 2-28 调休
    (at(2026, 4, 3, 10), "time_limited", 1, "working_days", at(2026, 4, 7, 17, 30)),  # 清明 4-4…6
    (at(2026, 4, 30, 10), "time_limited", 3, "working_days", at(2026, 5, 8, 17, 30)),  # 劳动节 5-1…5
    (at(2026, 4, 30, 10), "time_limited", 4, "working_days", at(2026, 5, 9, 17, 30)),  # 5-9 调休
    (at(2026, 6, 18, 10), "time_limited", 1, "working_days", at(2026, 6, 22, 17, 30)),  # 端午 6-19…21
    (at(2026, 9, 18, 10), "time_limited", 1, "working_days", at(2026, 9, 20, 17, 30)),  # 9-20 调休
    (at(2026, 9, 24, 10), "time_limited", 1, "working_days", at(2026, 9, 28, 17, 30)),  # 中秋 9-25…27
    (at(2026, 9, 30, 10), "time_limited", 1, "working_days", at(2026, 10, 8, 17, 30)),  # 国庆 10-1…7
    (at(2026, 9, 30, 10), "proxy", 3, "working_days", at(2026, 10, 10, 17, 30)),  # 10-10 调休
    (at(2026, 3, 10, 15, 29), "same_day", 0, "working_days", at(2026, 3, 10, 17, 30)),  # before cut-off
    (at(2026, 3, 10, 15, 30), "same_day", 0, "working_days", at(2026, 3, 11, 17, 30)),  # at cut-off
    (at(2026, 3, 7, 10), "same_day", 0, "working_days", at(2026, 3, 9, 17, 30)),  # Saturday
    (at(2026, 3, 10, 18), "time_limited", 1, "working_days", at(2026, 3, 12, 17, 30)),  # after hours
    (at(2026, 3, 10, 12, 30), "time_limited", 1, "working_days", at(2026, 3, 11, 17, 30)),  # lunch
    (at(2026, 3, 10, 2), "time_limited", 1, "working_days", at(2026, 3, 11, 17, 30)),  # before opening
]


@pytest.mark.parametrize(("start", "category", "limit", "unit", "expected"), WORKED)
def test_worked_examples(start: dt.datetime, category: str, limit: int, unit: str,
                         expected: dt.datetime) -> None:
    result = compute_deadline(start=start, category=category, limit=limit, unit=unit, calendar=CAL)
    assert result.due == expected
    assert result.provisional is False


def test_instants_in_other_offsets_are_read_in_shanghai() -> None:
    # 2026-03-10 07:00 UTC is 15:00 in Shanghai: before the same-day cut-off.
    utc = dt.datetime(2026, 3, 10, 7, 0, tzinfo=dt.UTC)
    assert due(utc, "same_day") == at(2026, 3, 10, 17, 30)


def test_on_the_spot_is_due_at_acceptance() -> None:
    assert due(at(2026, 3, 10, 10, 5), "on_the_spot") == at(2026, 3, 10, 10, 5)


def test_year_without_schedule_is_provisional() -> None:
    one = compute_deadline(start=at(2026, 12, 30, 10), category="time_limited", limit=1, calendar=CAL)
    assert (one.due, one.provisional) == (at(2026, 12, 31, 17, 30), False)
    two = compute_deadline(start=at(2026, 12, 30, 10), category="time_limited", limit=2, calendar=CAL)
    # 2027-01-01 is a holiday fixed by law, then a weekend.
    assert (two.due, two.provisional) == (at(2027, 1, 4, 17, 30), True)


def test_provisional_year_knows_the_lunar_holidays() -> None:
    # Spring Festival 2027: 除夕 02-05 … 初三 02-08 (Fri–Mon); no make-up days are assumed.
    result = compute_deadline(start=at(2027, 2, 4, 10), category="time_limited", limit=1, calendar=CAL)
    assert (result.due, result.provisional) == (at(2027, 2, 9, 17, 30), True)


def test_clock_stop_moves_due_by_business_time_inside_it() -> None:
    # 3 working days from Mon 03-02 → Thu 03-05 17:30; the stop covers 3.5 h + 1 h of office time.
    stop = Stop(at(2026, 3, 3, 14), at(2026, 3, 4, 10))
    assert due(at(2026, 3, 2, 10), limit=3, stops=[stop]) == at(2026, 3, 6, 15, 0)


def test_stop_outside_office_hours_changes_nothing() -> None:
    stop = Stop(at(2026, 3, 7, 8), at(2026, 3, 8, 20))  # a weekend
    assert due(at(2026, 3, 2, 10), limit=3, stops=[stop]) == at(2026, 3, 5, 17, 30)


def test_overlapping_stops_count_once() -> None:
    a = Stop(at(2026, 3, 3, 9), at(2026, 3, 3, 12))
    b = Stop(at(2026, 3, 3, 10), at(2026, 3, 3, 12))
    assert due(at(2026, 3, 2, 10), limit=3, stops=[a, b]) == at(2026, 3, 6, 12, 0)


def test_extension_moves_to_close_of_mth_working_day_after_due_day() -> None:
    assert due(at(2026, 3, 2, 10), limit=3, extension_working_days=2) == at(2026, 3, 9, 17, 30)
    # Extension across the National Day holiday.
    assert due(at(2026, 9, 29, 10), limit=1, extension_working_days=1) == at(2026, 10, 8, 17, 30)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        compute_deadline(start=dt.datetime(2026, 3, 2, 10), category="same_day", calendar=CAL)
    with pytest.raises(ValueError):
        compute_deadline(start=at(2026, 3, 2, 10), category="nonsense", calendar=CAL)
    with pytest.raises(ValueError):
        compute_deadline(start=at(2026, 3, 2, 10), category="time_limited", limit=-1, calendar=CAL)


# --- invariants -------------------------------------------------------------------------------

starts = st.datetimes(min_value=dt.datetime(2024, 12, 1), max_value=dt.datetime(2026, 10, 31),
                      timezones=st.just(SHANGHAI))
limits = st.integers(min_value=1, max_value=40)


def working_days_in(lo: dt.date, hi: dt.date) -> int:
    """Working days in (lo, hi]."""
    count, day = 0, lo
    while day < hi:
        day += dt.timedelta(days=1)
        count += CAL.is_working_day(day)
    return count


@settings(max_examples=300, deadline=None)
@given(start=starts, limit=limits)
def test_working_day_limit_ends_at_close_of_nth_working_day_after_d0(start: dt.datetime, limit: int) -> None:
    result = due(start, limit=limit)
    assert result > start
    assert result.timetz() == dt.time(17, 30, tzinfo=SHANGHAI)
    assert CAL.is_working_day(result.date())
    d0 = start.date()
    if not (CAL.is_working_day(d0) and start < at(d0.year, d0.month, d0.day, 17, 30)):
        d0 = CAL.next_working_day(d0)
    assert working_days_in(d0, result.date()) == limit


@settings(max_examples=200, deadline=None)
@given(start=starts, limit=limits)
def test_longer_limit_never_earlier(start: dt.datetime, limit: int) -> None:
    assert due(start, limit=limit + 1) > due(start, limit=limit)
    assert due(start, limit=limit + 1, unit="natural_days") >= due(start, limit=limit, unit="natural_days")


@settings(max_examples=200, deadline=None)
@given(start=starts, limit=st.integers(min_value=0, max_value=60))
def test_natural_day_limit_lands_on_first_working_day_from_date_plus_n(
    start: dt.datetime, limit: int
) -> None:
    result = due(start, limit=limit, unit="natural_days")
    target = start.date() + dt.timedelta(days=limit)
    assert result.date() >= target
    assert CAL.is_working_day(result.date())
    day = target
    while day < result.date():
        assert not CAL.is_working_day(day)
        day += dt.timedelta(days=1)


@settings(max_examples=200, deadline=None)
@given(start=starts, limit=limits, offset=st.integers(0, 20 * 24 * 60), length=st.integers(1, 7 * 24 * 60))
def test_stop_adds_exactly_its_business_time(
    start: dt.datetime, limit: int, offset: int, length: int
) -> None:
    plain = due(start, limit=limit)
    stop = Stop(start + dt.timedelta(minutes=offset), start + dt.timedelta(minutes=offset + length))
    stopped = due(start, limit=limit, stops=[stop])
    assert stopped >= plain
    inside = business_seconds_between(stop.start, stop.end, calendar=CAL)
    assert business_seconds_between(plain, stopped, calendar=CAL) == pytest.approx(inside)


@settings(max_examples=200, deadline=None)
@given(start=starts, limit=limits, extension=st.integers(1, 10))
def test_extension_adds_exactly_m_working_days(start: dt.datetime, limit: int, extension: int) -> None:
    plain = due(start, limit=limit)
    extended = due(start, limit=limit, extension_working_days=extension)
    assert working_days_in(plain.date(), extended.date()) == extension
    assert extended.timetz() == dt.time(17, 30, tzinfo=SHANGHAI)


@settings(max_examples=200, deadline=None)
@given(start=starts)
def test_same_day_is_due_today_or_next_working_day(start: dt.datetime) -> None:
    result = due(start, "same_day")
    today = start.date()
    if CAL.is_working_day(today) and start < at(today.year, today.month, today.day, 15, 30):
        assert result == at(today.year, today.month, today.day, 17, 30)
    else:
        nxt = CAL.next_working_day(today)
        assert result == at(nxt.year, nxt.month, nxt.day, 17, 30)


def test_the_warning_threshold_is_a_fifth_of_the_limit_capped_at_one_working_day() -> None:
    from tongban.clock.deadline import committed_business_seconds, warning_threshold

    day = 7 * 3600  # 09:00–12:00 and 13:30–17:30
    same_day = committed_business_seconds(category="same_day", limit=0, day_seconds=day)
    assert warning_threshold(limit_seconds=same_day, day_seconds=day, fraction=0.2,
                             cap_working_days=1) == 84 * 60  # 1 h 24 min
    twenty = committed_business_seconds(category="time_limited", limit=20, day_seconds=day)
    assert warning_threshold(limit_seconds=twenty, day_seconds=day, fraction=0.2,
                             cap_working_days=1) == day
    assert committed_business_seconds(category="on_the_spot", limit=0, day_seconds=day) == 0
    assert committed_business_seconds(category="time_limited", limit=14, unit="natural_days",
                                      day_seconds=day) == 10 * day
    assert committed_business_seconds(category="time_limited", limit=3,
                                      extension_working_days=2, day_seconds=day) == 5 * day
