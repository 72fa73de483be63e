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

    assert rollup_figures.call() == {"item_times_days": 0, "department_days": 0}
    assert RollupState.objects.get(name=rollups.ITEM_TIMES).stamp == rollups.current_stamp()
    assert rollups.department_days_through() is not None


# --- the dashboard's rollup (DepartmentDay) ------------------------------------------------------

def direct_board(user: Any, now: dt.datetime) -> dict[Any, tuple[dict[str, int], dict[str, int]]]:
    """The board as the code before the rollup computed it: every case by department and
    status, straight from the cases (the deadline states are the unchanged live counts)."""
    from tongban.supervision import selectors

    group_of = {s: k for k, statuses in selectors.STATUS_GROUPS.items() for s in statuses}
    out: dict[Any, tuple[dict[str, int], dict[str, int]]] = {}
    for dep, status in selectors.scope_cases(user).values_list("department_id", "status"):
        statuses, _states = out.setdefault(dep, ({k: 0 for k in selectors.STATUS_GROUPS}, {}))
        statuses[group_of[status]] += 1
    rows, total = selectors.board(user, now=now)
    for r in rows:
        if r.department_id in out:
            out[r.department_id][1].update(r.states)
    out[None] = ({k: sum(v[0][k] for v in out.values()) for k in selectors.STATUS_GROUPS},
                 total.states)
    return out


def board_now(user: Any, now: dt.datetime) -> dict[Any, tuple[dict[str, int], dict[str, int]]]:
    from tongban.supervision import selectors

    rows, total = selectors.board(user, now=now)
    found = {r.department_id: (r.statuses, r.states) for r in rows}
    found[None] = (total.statuses, total.states)
    return found


def direct_trend(user: Any, now: dt.datetime) -> list[tuple[dt.date, int, int, int, int]]:
    """The trend's weeks computed case by case in Python."""
    from tongban.supervision import selectors

    points = selectors.trend(user, now=now)  # for the weeks and the records' figure
    weeks = {p.week: [0, 0, 0] for p in points}

    def week(instant: dt.datetime | None) -> dt.date | None:
        if instant is None:
            return None
        day = instant.astimezone(BJ).date()
        return day - dt.timedelta(days=day.weekday())

    for accepted, decided, due in selectors.scope_cases(user).values_list(
            "accepted_at", "decided_at", "due_at"):
        if week(accepted) in weeks:
            weeks[week(accepted)][0] += 1  # type: ignore[index]
        if week(decided) in weeks:
            weeks[week(decided)][1] += 1  # type: ignore[index]
            if due is not None and decided is not None and decided > due:
                weeks[week(decided)][2] += 1  # type: ignore[index]
    return [(p.week, weeks[p.week][0], weeks[p.week][1], weeks[p.week][2], p.records)
            for p in points]


def trend_now(user: Any, now: dt.datetime) -> list[tuple[dt.date, int, int, int, int]]:
    from tongban.supervision import selectors

    return [(p.week, p.accepted, p.completed, p.overdue, p.records)
            for p in selectors.trend(user, now=now)]


def test_the_board_and_trend_from_the_rollup_equal_the_direct_count(time_machine: Any) -> None:
    from tests.load_fixture import generate
    from tongban.accounts.models import User
    from tongban.cases.models import CaseEvent

    # The generator's histories end at "now": which cases are still waiting depends on the
    # instant. A fixed working-day morning (the clock keeps ticking from it) gives the seed's
    # mix every time, with cases waiting, running and open at midnight.
    time_machine.move_to(dt.datetime(2026, 12, 2, 10, 0, tzinfo=BJ), tick=True)
    generate(600, seed=21)
    supervisor = User.objects.get(username="supervisor")
    head = User.objects.get(username="head")
    now = timezone.now()

    def check(at: dt.datetime) -> None:
        for user in (supervisor, head):
            assert board_now(user, at) == direct_board(user, at)
            assert trend_now(user, at) == direct_trend(user, at)

    check(now)  # live: the rollup never ran
    assert rollups.department_days_through() is None
    assert rollups.rollup_department_days(now=now) > 300
    today = timezone.localdate()
    assert rollups.department_days_through() == today - dt.timedelta(days=1)
    check(now)
    assert rollups.rollup_department_days(now=now) == 0  # a second run changes nothing
    check(now)

    # Today's changes are counted live: a case accepted before midnight and decided after it,
    # a submitted case refused today, an open one withdrawn.
    midnight = dt.datetime.combine(today, dt.time(), tzinfo=BJ)
    running = Case.objects.filter(status="accepted", accepted_at__lt=midnight).first()
    waiting = Case.objects.filter(status__in=("submitted", "pre_review")).first()
    assert running is not None and waiting is not None
    other = (Case.objects.filter(status__in=("supplement", "accepted", "submitted"))
             .exclude(pk__in=[running.pk, waiting.pk]).first())
    assert other is not None
    decided = min(midnight + dt.timedelta(minutes=5), now)
    assert running.accepted_at is not None and running.accepted_at < midnight
    Case.objects.filter(pk=running.pk).update(status="approved", decided_at=decided)
    for case, action, status in ((waiting, "refuse", "refused"),
                                 (other, "withdraw", "withdrawn")):
        seq = (CaseEvent.objects.filter(case=case).order_by("-seq")
               .values_list("seq", flat=True).first() or 0) + 1
        CaseEvent.objects.create(case=case, seq=seq, at=decided, action=action,
                                 from_status=case.status, to_status=status)
        Case.objects.filter(pk=case.pk).update(status=status)
    check(now)

    # Tomorrow's run rolls today up; nothing changes.
    assert rollups.rollup_department_days(now=now + dt.timedelta(days=1)) == 1
    assert rollups.department_days_through() == today
    check(now)

    # A bulk load of back-dated cases after the run: the rollup is not read (the board is
    # exact, live) until the next run rebuilds it.
    generate(50, seed=22)
    assert rollups.department_days_through() is None
    check(now)
    assert rollups.rollup_department_days(now=now) > 300
    check(now)


def test_the_board_reads_no_more_with_more_cases() -> None:
    """With the rollup current, the board's and the trend's queries are the same in number
    and touch the cases only through the open ones and today's rows."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.load_fixture import generate
    from tongban.accounts.models import User
    from tongban.supervision import selectors

    generate(200, seed=23)
    supervisor = User.objects.get(username="supervisor")
    now = timezone.now()

    def count() -> int:
        rollups.rollup_department_days(now=now)
        selectors.board(supervisor, now=now)  # each hall's office hours read once per process
        with CaptureQueriesContext(connection) as queries:
            selectors.board(supervisor, now=now)
            selectors.trend(supervisor, now=now)
        return len(queries.captured_queries)

    small = count()
    generate(400, seed=24)
    assert count() == small


def test_the_yellow_bound_loses_no_case() -> None:
    """The yellow cases found within ``_yellow_horizon`` (a day or two past now) are exactly
    those found by computing every running case's state, at instants across a week."""
    from tests.load_fixture import generate
    from tongban.cases import selectors as case_selectors
    from tongban.cases.models import DeadlineState

    generate(300, seed=25)
    start = timezone.now()
    # Sixty more running cases, due every three hours over the next week and a half.
    for n, pk in enumerate(Case.objects.filter(status="delivered", accepted_at__isnull=False)
                           .order_by("pk").values_list("pk", flat=True)[:60]):
        Case.objects.filter(pk=pk).update(status="accepted", decided_at=None,
                                          due_at=start + dt.timedelta(hours=3 * n + 1))
    running = list(Case.objects.filter(status="accepted", due_at__isnull=False,
                                       decided_at__isnull=True).select_related("item_version"))
    assert len(running) >= 60
    hours = clock.office_hours_memo()
    found_any = False
    for step in range(0, 7 * 24, 5):  # every five hours for a week: nights, a weekend
        now = start + dt.timedelta(hours=step)
        with clock.calendar_scope():
            every = sorted(c.pk for c in running if c.due_at is not None and c.due_at >= now
                           and case_selectors.running_case_state(
                               c, now=now, hours=hours(c.hall_id)) == DeadlineState.YELLOW)
        assert sorted(case_selectors._yellow_ids(Case.objects.all(), now)) == every, now
        found_any = found_any or bool(every)
    assert found_any


def test_the_running_totals_carried_over_runs_equal_a_rebuild() -> None:
    """Brought up to date in several runs (each carrying the running totals of the days
    before it), the rollup holds the rows a rebuild writes, and the board's closed columns —
    each department's latest running totals — are the direct count."""
    from tests.load_fixture import generate
    from tongban.accounts.models import User
    from tongban.supervision.models import DepartmentDay

    generate(400, seed=25)
    now = timezone.now()
    for days_ago in (400, 200, 31, 0):
        rollups.rollup_department_days(now=now - dt.timedelta(days=days_ago))
    fields = ("department_id", "day", *rollups.DAY_FIGURES,
              *(f"{name}_total" for name in rollups.CLOSED_GROUPS))
    carried = list(DepartmentDay.objects.order_by("department_id", "day").values_list(*fields))
    assert any(row[-3] for row in carried)
    assert rollups.rollup_department_days(now=now, rebuild=True) > 300
    assert list(DepartmentDay.objects.order_by("department_id", "day")
                .values_list(*fields)) == carried
    for user in (User.objects.get(username="supervisor"), User.objects.get(username="head")):
        assert board_now(user, now) == direct_board(user, now)
