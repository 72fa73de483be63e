"""Measuring time on a case's clock, the one place it is done: stops merged, business time
between instants, a case's actual working days, limits in working days."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.clock.test_deadline import CAL, at
from tongban.clock.deadline import (
    business_seconds_between,
    limit_in_working_days,
    merge_spans,
    stopped_business_seconds,
    working_days_elapsed,
)

HOUR = 3600.0


def test_stops_are_clipped_and_overlaps_counted_once() -> None:
    spans = [(at(2025, 3, 4, 10), at(2025, 3, 4, 12)), (at(2025, 3, 4, 11), at(2025, 3, 4, 15)),
             (at(2025, 3, 3, 9), at(2025, 3, 3, 10)),  # before the start: dropped
             (at(2025, 3, 5, 9), None)]  # still running: up to the end
    assert merge_spans(spans, not_before=at(2025, 3, 4, 9),
                       not_after=at(2025, 3, 5, 10)) == [
        (at(2025, 3, 4, 10), at(2025, 3, 4, 15)), (at(2025, 3, 5, 9), at(2025, 3, 5, 10))]
    with pytest.raises(ValueError, match="running stop"):
        merge_spans([(at(2025, 3, 4, 10), None)])


def test_stopped_business_time_counts_each_stretch_once() -> None:
    # Tuesday 4 March 2025: two overlapping stops 10:00–12:00 and 11:00–13:00 cover 10:00–13:00,
    # of which the office is open 10:00–12:00 only (lunch 12:00–13:30 by the default hours).
    stops = [(at(2025, 3, 4, 10), at(2025, 3, 4, 12)), (at(2025, 3, 4, 11), at(2025, 3, 4, 13))]
    seconds = stopped_business_seconds(stops, since=at(2025, 3, 4, 9),
                                       until=at(2025, 3, 5, 9), calendar=CAL)
    assert seconds == business_seconds_between(at(2025, 3, 4, 10), at(2025, 3, 4, 13),
                                               calendar=CAL)
    assert seconds == pytest.approx(2 * HOUR)


def test_working_days_elapsed_leave_out_the_stops() -> None:
    monday, wednesday = at(2025, 3, 3, 9), at(2025, 3, 5, 9)
    assert working_days_elapsed(monday, wednesday, calendar=CAL) == pytest.approx(2.0)
    tuesday = [(at(2025, 3, 4, 9), at(2025, 3, 5, 9))]
    assert working_days_elapsed(monday, wednesday, tuesday, calendar=CAL) == pytest.approx(1.0)
    # A stop twice over, and one still running past the end, never make time negative.
    assert working_days_elapsed(monday, wednesday, tuesday + tuesday + [(monday, None)],
                                calendar=CAL) == 0.0


def test_limits_in_working_days() -> None:
    assert limit_in_working_days(20, "working_days") == 20.0
    assert limit_in_working_days(14, "natural_days") == pytest.approx(10.0)
    assert limit_in_working_days(20, "natural_days") == 20 * 5 / 7


def test_a_day_is_measured_in_the_start_day_office_hours() -> None:
    # Saturday start: nothing passes until Monday's office opens.
    saturday = dt.datetime(2025, 3, 8, 10, tzinfo=at(2025, 3, 8).tzinfo)
    assert working_days_elapsed(saturday, at(2025, 3, 10, 9), calendar=CAL) == 0.0
