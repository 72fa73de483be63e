"""The metric formulas of domain.md §5 against an independent calculation on generated data.

The test generates completed (and not completed) cases, ratings and rectification tickets
straight into the tables with a seeded random generator, computes every figure again in plain
Python from the generated values (not from the database), and compares.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from typing import Any

import pytest
from django.utils import timezone

from tongban.cases.models import Case, Channel, ClockStop, Status
from tongban.catalog.models import Item
from tongban.clock import selectors as clock
from tongban.ratings.models import Rating, RectificationTicket
from tongban.supervision import metrics

pytestmark = pytest.mark.django_db

BJ = dt.timezone(dt.timedelta(hours=8))
START, END = dt.date(2026, 3, 1), dt.date(2026, 3, 31)


def bj(year: int, month: int, day: int, hour: int = 0, minute: int = 0,
         second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=BJ)


def in_period(instant: dt.datetime | None) -> bool:
    return instant is not None and bj(2026, 3, 1) <= instant < bj(2026, 4, 1)


@pytest.fixture(autouse=True)
def _fresh_calendar() -> Any:
    clock.forget_calendar()
    yield
    clock.forget_calendar()


@pytest.fixture
def generated(catalog: None) -> dict[str, Any]:
    rng = random.Random(20260301)
    items = list(Item.objects.filter(current__status="published").select_related("current",
                                                                                  "department"))
    rows: list[dict[str, Any]] = []
    # Decision instants around and exactly on the period's edges.
    edges = [bj(2026, 3, 1, 0, 0), bj(2026, 3, 31, 23, 59, 59), bj(2026, 4, 1, 0, 0),
             bj(2026, 2, 28, 23, 59, 59)]
    for n in range(160):
        it = rng.choice(items)
        assert it.current is not None
        accepted = bj(2026, 2, 20) + dt.timedelta(minutes=rng.randrange(0, 60 * 24 * 45))
        due = accepted + dt.timedelta(hours=rng.choice([0, 8, 30, 100, 240]))
        if n < len(edges):
            decided: dt.datetime | None = edges[n]
        elif rng.random() < 0.15:
            decided = None  # still running
        else:
            decided = due + dt.timedelta(hours=rng.choice([-50, -3, 0, 0, 2, 30]))
            decided = max(decided, accepted)
        row: dict[str, Any] = {
            "item": it, "channel": rng.choice(list(Channel.values)),
            "visits": rng.choice([0, 0, 1, 1, 1, 2, 3]), "accepted_at": accepted,
            "due_at": due, "decided_at": decided,
            "status": Status.ACCEPTED if decided is None else Status.APPROVED,
        }
        case = Case.objects.create(
            item=it, item_version=it.current, department=it.department, channel=row["channel"],
            status=row["status"], applicant_kind="natural_person", applicant_name=f"申请人{n}",
            applicant_id_number="620102199003077770", accepted_at=accepted, due_at=due,
            decided_at=decided, visits=row["visits"])
        row["case"] = case
        rows.append(row)
    ratings: list[dict[str, Any]] = []
    for row in rng.sample(rows, 90):
        level = rng.choice([1, 2, 3, 4, 5, 5])
        created = bj(2026, 2, 25) + dt.timedelta(hours=rng.randrange(0, 24 * 40))
        excluded = level <= 2 and rng.random() < 0.2
        rating = Rating.objects.create(
            channel="online", case=row["case"], item=row["item"], department=row["item"].department,
            level=level, created_at=created, excluded=excluded)
        entry = {"level": level, "created": created, "excluded": excluded, "item": row["item"],
                 "on_time": False}
        if level <= 2:
            due = created + dt.timedelta(days=7)
            responded = rng.choice([None, due - dt.timedelta(days=1), due + dt.timedelta(days=1)])
            RectificationTicket.objects.create(
                rating=rating, department=row["item"].department, opened_at=created, due_at=due,
                responded_at=responded, outcome="appeal_accepted" if excluded else "")
            entry["on_time"] = responded is not None and responded <= due and not excluded
        ratings.append(entry)
    return {"rows": rows, "ratings": ratings, "items": items}


def working(amount: int, unit: str) -> float:
    return amount * 5 / 7 if unit == "natural_days" else float(amount)


def expected(rows: list[dict[str, Any]], items: list[Item],
             ratings: list[dict[str, Any]]) -> dict[str, tuple[float, float]]:
    """Every metric as (numerator, denominator), computed the plain way."""
    done = [r for r in rows if in_period(r["decided_at"])]
    online = {"online", "mobile"}
    current = [i.current for i in items if i.current is not None]
    counted = [r for r in ratings if in_period(r["created"]) and not r["excluded"]]
    bad = [r for r in counted if r["level"] <= 2]
    v = [x for x in current if x.legal_limit > 0]
    return {
        "on_the_spot_rate": (sum(r["item"].current.commitment == "on_the_spot" for r in done),
                             len(done)),
        "early_rate": (sum(r["decided_at"] < r["due_at"] for r in done), len(done)),
        "overdue_rate": (sum(r["decided_at"] > r["due_at"] for r in done), len(done)),
        "fully_online_rate": (sum(r["channel"] in online and r["visits"] == 0 for r in done),
                              len(done)),
        "fully_online_items_rate": (sum(x.online_depth == 4 for x in current),
                                    len(items)),
        "online_rate": (sum(r["channel"] in online for r in done), len(done)),
        "average_visits": (sum(r["visits"] for r in done), len(done)),
        "max_one_visit_rate": (sum(r["visits"] <= 1 for r in done), len(done)),
        "time_reduction": (
            sum(working(x.legal_limit, x.legal_limit_unit)
                - working(x.committed_limit, x.committed_limit_unit) for x in v),
            sum(working(x.legal_limit, x.legal_limit_unit) for x in v)),
        "good_rate": (sum(r["level"] >= 4 for r in counted), len(counted)),
        "rectification_rate": (sum(r["on_time"] for r in bad), len(bad)),
    }


def check(row: metrics.MetricRow, want: dict[str, tuple[float, float]]) -> None:
    for key, (num, den) in want.items():
        figure = row.figure(key)
        assert (figure.numerator, figure.denominator) == pytest.approx((num, den)), (row.name, key)
        assert figure.value == (pytest.approx(num / den) if den else None), (row.name, key)


def test_totals_match_an_independent_calculation(generated: dict[str, Any]) -> None:
    _rows, total = metrics.metrics_table(group="department", start=START, end=END)
    want = expected(generated["rows"], generated["items"], generated["ratings"])
    assert total.completed == want["early_rate"][1] > 50
    check(total, want)
    # The edges: 03-01 00:00 and 03-31 23:59:59 count, 04-01 00:00 and 02-28 23:59:59 do not.
    edge_ids = {generated["rows"][i]["case"].pk for i in range(4)}
    counted = {c.pk for c in metrics.completed_cases(START, END)}
    assert counted & edge_ids == {generated["rows"][0]["case"].pk, generated["rows"][1]["case"].pk}


@pytest.mark.parametrize("group", ["department", "division", "item"])
def test_each_group_matches(generated: dict[str, Any], group: str) -> None:
    def key(it: Item) -> Any:
        return {"department": it.department.name, "division": it.department.division.name,
                "item": it.implementation_code}[group]

    rows_by: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    items_by: dict[Any, list[Item]] = defaultdict(list)
    ratings_by: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for r in generated["rows"]:
        rows_by[key(r["item"])].append(r)
    for i in generated["items"]:
        items_by[key(i)].append(i)
    for r in generated["ratings"]:
        ratings_by[key(r["item"])].append(r)
    rows, _total = metrics.metrics_table(group=group, start=START, end=END)
    assert len(rows) >= 2
    for row in rows:
        name = row.key if group == "item" else row.name
        check(row, expected(rows_by[name], items_by[name], ratings_by[name]))


def test_one_department_only(generated: dict[str, Any]) -> None:
    department = generated["items"][0].department
    rows, total = metrics.metrics_table(group="item", start=START, end=END,
                                        department_id=department.pk)
    mine = [r for r in generated["rows"] if r["item"].department_id == department.pk]
    assert total.completed == sum(in_period(r["decided_at"]) for r in mine)
    assert {r.key for r in rows} <= {i.implementation_code for i in generated["items"]
                                     if i.department_id == department.pk}


def test_actual_working_days_net_of_clock_stops(catalog: None) -> None:
    # Default office periods 09:00–12:00 and 13:30–17:30: 7 hours a working day.
    accepted, decided = bj(2026, 3, 2, 10), bj(2026, 3, 4, 10)  # Monday 10:00 → Wednesday 10:00
    assert metrics.actual_working_days(accepted, decided, [], hall_id=None) == pytest.approx(2.0)
    stop = [(bj(2026, 3, 3, 9), bj(2026, 3, 3, 17, 30))]  # all of Tuesday stopped
    assert metrics.actual_working_days(accepted, decided, stop, hall_id=None) == pytest.approx(1.0)
    # An open stop ends at the decision; overlapping stops count once.
    stops = [(bj(2026, 3, 3, 9), None), (bj(2026, 3, 3, 12), bj(2026, 3, 3, 14))]
    assert metrics.actual_working_days(accepted, decided, stops, hall_id=None) == pytest.approx(
        6 / 7)


def test_item_performance(catalog: None) -> None:
    it = Item.objects.filter(current__status="published").select_related("current").first()
    assert it is not None and it.current is not None
    common = {"item": it, "item_version": it.current, "department": it.department,
              "channel": "online", "status": "approved", "applicant_kind": "natural_person",
              "applicant_name": "甲", "applicant_id_number": "620102199003077770"}
    Case.objects.create(**common, accepted_at=bj(2026, 3, 2, 10), decided_at=bj(2026, 3, 4, 10),
                        due_at=bj(2026, 3, 10, 17, 30))
    stopped = Case.objects.create(**common, accepted_at=bj(2026, 3, 2, 10),
                                  decided_at=bj(2026, 3, 4, 10), due_at=bj(2026, 3, 10, 17, 30))
    ClockStop.objects.create(case=stopped, kind="special_procedure", reason="专家评审",
                             started_at=bj(2026, 3, 3, 9), ended_at=bj(2026, 3, 3, 17, 30))
    Case.objects.create(**common, accepted_at=bj(2026, 4, 2, 10), decided_at=bj(2026, 4, 3, 10))
    perf = metrics.item_performance(START, END)[it.pk]
    assert perf.volume == 2
    assert perf.avg_actual_working_days == pytest.approx(1.5)
    assert perf.committed_limit == it.current.committed_limit
    assert perf.satisfaction is None and perf.ratings == 0


def test_the_public_power_list_shows_each_items_figures(catalog: None, client: Any) -> None:
    """The power list's rows carry the item's completed cases of the last twelve months, the
    average actual time against the committed limit, and satisfaction."""
    it = Item.objects.filter(current__status="published").select_related("current").first()
    assert it is not None and it.current is not None
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday() + 28)  # a Monday four weeks ago
    common = {"item": it, "item_version": it.current, "department": it.department,
              "channel": "online", "status": "approved", "applicant_kind": "natural_person",
              "applicant_name": "甲", "applicant_id_number": "620102199003077770"}
    for _ in range(2):
        Case.objects.create(**common, accepted_at=bj(monday.year, monday.month, monday.day, 10),
                            decided_at=bj(monday.year, monday.month, monday.day, 15))
    expected = metrics.item_performance(today - dt.timedelta(days=365), today,
                                        item_ids=[it.pk])[it.pk]
    assert expected.volume == 2

    page = client.get("/power-list/", {"department": it.department.uscc})
    html = page.content.decode()
    assert page.status_code == 200
    row = html[html.index(it.implementation_code):]
    row = row[:row.index("</tr>")]
    assert "<dt>办结件数</dt><dd>2</dd>" in row
    assert f"{expected.avg_actual_working_days:.1f} 个工作日" in row
    assert "<dt>满意度（好评率）</dt><dd>—</dd>" in row  # no ratings yet
