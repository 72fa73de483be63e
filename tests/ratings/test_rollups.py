"""The monthly report's daily rollup (ratings/rollups.py) gives exactly the figures of counting
every row live — on generated data, with ratings struck out on appeal before and after the
rollup ran, with today's rows that the rollup has not seen, after a bulk load behind it, and
when the task runs twice. The reference is the report's former live computation, kept here."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any

import pytest
from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone

from tests.load_fixture import generate
from tongban.cases.models import Case
from tongban.clock.deadline import SHANGHAI
from tongban.organizations.models import Department
from tongban.ratings import rollups, selectors
from tongban.ratings.models import (
    BAD_LEVELS,
    Channel,
    CompletedDay,
    Level,
    Rating,
    RatingDay,
    RatingRollupState,
    RatingTag,
    RatingTagDay,
)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def reference(year: int, month: int, now: dt.datetime) -> dict[str, Any]:
    """The monthly report as it was computed before the rollup: grouped queries over every
    case and rating of the month (``selectors.monthly_report`` up to this change)."""
    start, end = selectors.month_bounds(year, month)
    lo, hi = (dt.datetime.combine(d, dt.time.min, tzinfo=SHANGHAI) for d in (start, end))
    report = selectors.MonthlyReport(year=year, month=month)
    departments: dict[int, selectors.Group] = {}
    items: dict[int, selectors.Group] = {}

    def dept(pk: int, name: str) -> selectors.Group:
        return departments.setdefault(pk, selectors.Group(pk, name))

    def item(pk: int, name: str) -> selectors.Group:
        return items.setdefault(pk, selectors.Group(pk, name))

    completed = (Case.objects.filter(decided_at__gte=lo, decided_at__lt=hi)
                 .order_by().values("channel", "department_id", "department__name", "item_id",
                                    "item_version__name")
                 .annotate(n=Count("pk"), newest=Max("created_at")))
    by_channel: Counter[str] = Counter()
    item_names: dict[int, tuple[Any, str]] = {}
    for row in completed:
        by_channel[row["channel"]] += row["n"]
        dept(row["department_id"], row["department__name"]).cases += row["n"]
        named = item_names.get(row["item_id"])
        if named is None or row["newest"] > named[0]:
            item_names[row["item_id"]] = (row["newest"], row["item_version__name"])
    for row in completed:
        item(row["item_id"], item_names[row["item_id"]][1]).cases += row["n"]
    report.cases_by_channel = dict(sorted(by_channel.items()))
    report.cases_total = sum(by_channel.values())
    in_month = Rating.objects.filter(created_at__gte=lo, created_at__lt=hi)
    report.excluded = in_month.filter(excluded=True).count()
    counted = in_month.filter(excluded=False)
    levels: dict[str, Counter[int]] = {ch: Counter() for ch in Channel.values}
    total = level_sum = good = 0
    for channel, level, n in (counted.order_by().values_list("channel", "level")
                              .annotate(n=Count("pk"))):
        levels[channel][level] += n
        total += n
        level_sum += level * n
        good += n if level >= 4 else 0
    rated = list(counted.order_by().values("department_id", "item_id").annotate(
        n=Count("pk"), level_sum=Sum("level"), good=Count("pk", filter=Q(level__gte=4)),
        bad=Count("pk", filter=Q(level__in=BAD_LEVELS))))
    names = dict(Department.objects.values_list("pk", "name"))
    current = selectors._current_item_names({r["item_id"] for r in rated})
    for line in rated:
        for g in (dept(line["department_id"], names.get(line["department_id"], "")),
                  item(line["item_id"], current.get(line["item_id"], ""))):
            g.ratings += line["n"]
            g.level_sum += line["level_sum"] or 0
            g.good += line["good"]
            g.bad += line["bad"]
    report.ratings_by_channel_level = {ch: {lv.value: levels[ch][lv.value] for lv in Level}
                                       for ch in Channel.values}
    report.ratings_total = total
    report.avg_score_10 = round(2 * level_sum / total, 2) if total else None
    report.good_rate = round(good / total, 4) if total else None
    tags = (Rating.tags.through.objects.filter(rating__in=counted.values("pk")).order_by()
            .values("ratingtag__name").annotate(n=Count("pk"), sort=Min("ratingtag__sort"),
                                                first=Min("ratingtag_id"))
            .order_by("-n", "sort", "first")[:10])
    report.top_tags = [(t["ratingtag__name"], t["n"]) for t in tags]
    report.tickets = selectors.ticket_figures(start, end, now=now)
    for t in selectors._counted_tickets(start, end).select_related("rating__item__current",
                                                                   "department"):
        for g in (dept(t.department_id, t.department.name),
                  item(t.rating.item_id, t.rating.item.current.name
                       if t.rating.item.current else str(t.rating.item))):
            g.tickets += 1
            g.on_time += int(selectors.rectified_on_time(t))
    report.departments = sorted(departments.values(), key=lambda g: (-g.ratings, -g.cases, g.name))
    report.items = sorted(items.values(), key=lambda g: (-g.ratings, -g.cases, g.name))
    return report.as_dict()


def canonical(report: dict[str, Any]) -> dict[str, Any]:
    """Lines that tie on every sort key (two items of the same name with the same figures)
    come in no particular order: compare them as sorted."""
    def key(line: dict[str, Any]) -> tuple[Any, ...]:
        return (-line["ratings"], -line["cases"], line["name"], json.dumps(line, sort_keys=True))

    return {**report, "departments": sorted(report["departments"], key=key),
            "items": sorted(report["items"], key=key)}


def months(now: dt.datetime) -> list[tuple[int, int]]:
    return selectors.report_months(now=now)


def reports(now: dt.datetime) -> dict[tuple[int, int], dict[str, Any]]:
    return {(y, m): canonical(selectors.monthly_report(y, m, now=now).as_dict())
            for y, m in months(now)}


def references(now: dt.datetime) -> dict[tuple[int, int], dict[str, Any]]:
    return {(y, m): canonical(reference(y, m, now)) for y, m in months(now)}


def strike_out(ratings: list[Rating], now: dt.datetime) -> None:
    """An appeal accepted: only the exclusion fields change (as ``ticket_decide_appeal``)."""
    for rating in ratings:
        rating.excluded, rating.excluded_at, rating.excluded_reason = True, now, "申诉成立"
        rating.save(update_fields=["excluded", "excluded_at", "excluded_reason"])


def tagged(n: int, *, offset: int = 0) -> list[Rating]:
    """``n`` not yet excluded ratings spread over the whole period, tagged ones first."""
    found: list[Rating] = list(Rating.objects.filter(excluded=False).annotate(t=Count("tags"))
                               .order_by("-t", "pk")[offset:offset + n])
    assert len(found) == n
    return found


def test_the_rollup_gives_the_live_figures(time_machine: Any) -> None:
    # The generator's histories end at "now": a fixed working-day morning (the clock ticking
    # from it) gives the seed's mix, with accepted cases still open, whatever the day of the run.
    time_machine.move_to(dt.datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI), tick=True)
    generate(800, seed=21)
    now = timezone.now()
    assert RatingDay.objects.count() == 0
    strike_out(tagged(6), now)
    before = references(now)
    assert any(r["ratings"]["excluded_after_appeal"] for r in before.values())
    assert any(r["top_tags"] for r in before.values())
    # Not rolled up yet: everything live.
    assert rollups.state() is None
    assert reports(now) == before

    written = rollups.rollup_ratings(now=now)
    assert written > 300  # two years of days
    assert RatingDay.objects.exists() and RatingTagDay.objects.exists()
    assert CompletedDay.objects.exists()
    through = rollups.state()
    assert through is not None
    assert through[0] == now.astimezone(SHANGHAI).date() - dt.timedelta(days=1)
    assert reports(now) == before

    # After the run: more appeals accepted on ratings the rollup counted, and today's new
    # ratings (one of them excluded at once, a tagged one) and decided cases, which it has not
    # seen.
    strike_out(tagged(5, offset=3), now)
    today = now - dt.timedelta(seconds=1)
    source = list(Rating.objects.filter(channel=Channel.ON_SITE).order_by("-pk")[:4])
    tag = RatingTag.objects.order_by("pk").first()
    assert tag is not None
    for i, old in enumerate(source):
        fresh = Rating.objects.create(
            channel=old.channel, case_id=old.case_id, visit=_new_visit(old, today),
            item_id=old.item_id, department_id=old.department_id,
            level=1 + i, indicators={}, created_at=today, excluded=i == 3)
        fresh.tags.set([tag])
    open_case = Case.objects.filter(decided_at=None).exclude(accepted_at=None).first()
    assert open_case is not None
    Case.objects.filter(pk=open_case.pk).update(decided_at=today, status="approved")
    after = references(now)
    assert after != before
    assert rollups.state() == through  # still readable: today is after its last day
    assert reports(now) == after

    # Twice: nothing more to write, the same figures.
    assert rollups.rollup_ratings(now=now) == 0
    assert reports(now) == after


def test_a_bulk_load_behind_the_rollup_makes_it_unread_until_rebuilt() -> None:
    generate(300, seed=23)
    now = timezone.now()
    rollups.rollup_ratings(now=now)
    assert rollups.state() is not None
    generate(300, seed=24)  # rows with higher ids on days the rollup holds
    assert rollups.state() is None
    expected = references(now)
    assert reports(now) == expected
    assert rollups.rollup_ratings(now=now) > 300  # rebuilt from the first day
    assert rollups.state() is not None
    assert reports(now) == expected


def test_a_rollup_of_another_definition_is_not_read() -> None:
    generate(200, seed=25)
    now = timezone.now()
    rollups.rollup_ratings(now=now)
    RatingRollupState.objects.update(version="0")
    RatingDay.objects.update(level_5=999)  # would show if read
    assert rollups.state() is None
    assert reports(now) == references(now)
    rollups.rollup_ratings(now=now)
    assert not RatingDay.objects.filter(level_5=999).exists()
    assert reports(now) == references(now)


def _new_visit(rating: Rating, at: dt.datetime) -> Any:
    from tongban.cases.models import Visit

    return Visit.objects.create(case_id=rating.case_id, at=at, purpose="现场评价")
