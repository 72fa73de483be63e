"""The daily rollup of actual handling times (supervision/rollups.py) gives exactly the live
figures: before and after the task runs, when it runs twice, when new cases arrive after it
ran, and when the calendar changes under it."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from django.utils import timezone

from tongban.cases.models import Case, ClockStop
from tongban.catalog.models import Item
from tongban.clock import selectors as clock
from tongban.clock.models import CalendarDay
from tongban.ratings.models import Rating
from tongban.supervision import metrics, rollups
from tongban.supervision.models import ItemDayTime, RollupState

pytestmark = pytest.mark.django_db

BJ = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture(autouse=True)
def _fresh_calendar() -> Any:
    clock.forget_calendar()
    yield
    clock.forget_calendar()


def bj_day(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=BJ)


@pytest.fixture
def cases(catalog: None) -> list[Item]:
    """Sixty decided cases over the last forty days (some stopped), and a few ratings."""
    rng = random.Random(11)
    items = list(Item.objects.filter(current__status="published").select_related("current",
                                                                                  "department")[:4])
    today = timezone.localdate()
    for n in range(60):
        it = rng.choice(items)
        assert it.current is not None
        accepted = bj_day(today - dt.timedelta(days=rng.randrange(1, 40)), rng.randrange(8, 18))
        decided = accepted + dt.timedelta(hours=rng.randrange(1, 24 * 12))
        decided = min(decided, timezone.now() - dt.timedelta(minutes=1))
        case = Case.objects.create(
            item=it, item_version=it.current, department=it.department, channel="online",
            status="approved", applicant_kind="natural_person", applicant_name=f"甲{n}",
            applicant_id_number="620102199003077770", accepted_at=accepted, decided_at=decided)
        if n % 5 == 0:
            ClockStop.objects.create(case=case, kind="special_procedure", reason="专家评审",
                                     started_at=accepted + dt.timedelta(hours=2),
                                     ended_at=accepted + dt.timedelta(hours=30))
        if n % 3 == 0:
            Rating.objects.create(channel="online", case=case, item=it, department=it.department,
                                  level=rng.choice([1, 3, 4, 5]), created_at=decided)
    return items


def figures(start: dt.date, end: dt.date) -> dict[int, tuple[int, float | None, float | None]]:
    found = metrics.item_performance(start, end)
    return {pk: (p.volume, None if p.avg_actual_working_days is None
                 else round(p.avg_actual_working_days, 9), p.satisfaction)
            for pk, p in found.items()}


def live(start: dt.date, end: dt.date) -> dict[int, tuple[int, float | None, float | None]]:
    """The same figures with the rollup not readable."""
    stamp = RollupState.objects.filter(name=rollups.ITEM_TIMES).values_list("stamp",
                                                                             flat=True).first()
    RollupState.objects.filter(name=rollups.ITEM_TIMES).update(stamp="stale")
    try:
        return figures(start, end)
    finally:
        RollupState.objects.filter(name=rollups.ITEM_TIMES).update(stamp=stamp)


def test_the_rollup_gives_the_live_figures(cases: list[Item]) -> None:
    today = timezone.localdate()
    periods = [(today - dt.timedelta(days=365), today), (today - dt.timedelta(days=20), today),
               (today - dt.timedelta(days=30), today - dt.timedelta(days=10)), (today, today)]
    before = {p: figures(*p) for p in periods}
    assert sum(v[0] for v in before[periods[0]].values()) == 60

    first = min(d for d in Case.objects.values_list("decided_at", flat=True) if d is not None
                ).astimezone(BJ).date()
    assert rollups.rollup_item_times() == (today - first).days
    assert rollups.rolled_through() == today - dt.timedelta(days=1)
    assert ItemDayTime.objects.exists()
    for p in periods:
        assert figures(*p) == before[p] == live(*p)

    # A second run (or a second worker) changes nothing.
    rows = sorted(ItemDayTime.objects.values_list("item_id", "day", "cases", "working_days"))
    assert rollups.rollup_item_times() == 0
    assert rollups.rollup_item_times(rebuild=True) == (today - first).days
    assert sorted(ItemDayTime.objects.values_list("item_id", "day", "cases",
                                                  "working_days")) == rows


def test_new_cases_and_the_next_day(cases: list[Item]) -> None:
    today = timezone.localdate()
    year = (today - dt.timedelta(days=365), today)
    rollups.rollup_item_times()
    # Decided today, after the run: counted live until tomorrow's run.
    it = cases[0]
    assert it.current is not None
    Case.objects.create(item=it, item_version=it.current, department=it.department,
                        channel="online", status="approved", applicant_kind="natural_person",
                        applicant_name="乙", applicant_id_number="620102199003077770",
                        accepted_at=timezone.now() - dt.timedelta(days=3),
                        decided_at=timezone.now() - dt.timedelta(seconds=1))
    now_figures = figures(*year)
    assert now_figures == live(*year)
    assert sum(v[0] for v in now_figures.values()) == 61
    # Tomorrow's run rolls today up; the figures stay the same.
    tomorrow = timezone.now() + dt.timedelta(days=1)
    assert rollups.rollup_item_times(now=tomorrow) == 1
    assert rollups.rolled_through() == today
    assert figures(*year) == now_figures


def test_a_calendar_change_makes_the_rollup_unread_until_rebuilt(cases: list[Item]) -> None:
    today = timezone.localdate()
    year = (today - dt.timedelta(days=365), today)
    rollups.rollup_item_times()
    # A past working day becomes a holiday: every actual time across it is shorter.
    past = today - dt.timedelta(days=10)
    CalendarDay.objects.update_or_create(date=past, defaults={"kind": "holiday"})
    clock.calendar_changed()
    assert rollups.rolled_through() is None
    changed = figures(*year)
    assert changed == live(*year)
    rollups.rollup_item_times()
    assert rollups.rolled_through() == today - dt.timedelta(days=1)
    assert figures(*year) == changed


def test_the_task_runs_the_rollup() -> None:
    from tongban.supervision.tasks import rollup_figures

    assert rollup_figures.call() == {"item_times_days": 0}
    assert RollupState.objects.get(name=rollups.ITEM_TIMES).stamp == rollups.current_stamp()
