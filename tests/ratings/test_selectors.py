"""Figures against an independent count over hand-made ratings and tickets."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from tests.conftest import make_user
from tests.ratings.conftest import completed_case
from tongban.accounts.models import Role, User
from tongban.cases.models import Case, Visit
from tongban.clock.deadline import SHANGHAI
from tongban.ratings import selectors
from tongban.ratings.models import Channel, Rating, RatingTag, RectificationTicket

pytestmark = pytest.mark.django_db

MAY = dt.datetime(2026, 5, 10, 10, tzinfo=SHANGHAI)


def test_figures_match_an_independent_count(people: dict[str, User], done: Case) -> None:
    """Rows written directly (the figures read stored rows; how they got there is the
    services' business): 40 ratings in May 2026, some bad with tickets in every state."""
    rng = random.Random(7)
    tag = RatingTag.objects.get(code="materials_beyond_guide")
    other_tag = RatingTag.objects.get(code="long_wait")
    levels, tickets = [], []
    for i in range(40):
        level = rng.randint(1, 5)
        excluded = level <= 2 and i % 7 == 0
        if i % 2:
            rating = _online(done, i, level, excluded)
        else:
            rating = Rating.objects.create(
                channel=Channel.ON_SITE, case=done, visit=_visit(done, i), item_id=done.item_id,
                department_id=done.department_id, rater_name="张三" if i % 3 else "",
                rater_id_number="620102199003077770" if i % 3 else "",
                rater_phone="13893100001" if i % 3 else "", level=level,
                indicators={}, created_at=MAY + dt.timedelta(hours=i), excluded=excluded)
        if not excluded:
            levels.append(level)
        if level <= 2:
            rating.tags.set([tag] if i % 2 else [tag, other_tag])
            due = rating.created_at + dt.timedelta(days=7)
            responded = None if i % 4 == 0 else due + dt.timedelta(hours=(-5 if i % 3 else 5))
            t = RectificationTicket.objects.create(
                rating=rating, department_id=done.department_id, opened_at=rating.created_at,
                due_at=due, responded_at=responded,
                callback_at=responded if responded and i % 5 else None,
                fix_satisfied=(i % 2 == 0) if responded and i % 5 else None)
            tickets.append((t, excluded, bool(rating.rater_name)))
    start, end = dt.date(2026, 5, 1), dt.date(2026, 6, 1)
    now = dt.datetime(2026, 7, 1, tzinfo=SHANGHAI)
    figures = selectors.ticket_figures(start, end, now=now)
    counted = [(t, named) for t, excluded, named in tickets if not excluded]
    assert figures.bad_reviews == len(counted)
    assert figures.rectified_on_time == sum(
        1 for t, _ in counted if t.responded_at and t.responded_at <= t.due_at)
    assert figures.overdue == sum(1 for t, _ in counted
                                  if not t.responded_at or t.responded_at > t.due_at)
    assert figures.callbacks_due == sum(1 for _, named in counted if named)
    assert figures.callbacks_done == sum(1 for t, named in counted if named and t.callback_at)
    assert figures.fix_rated == sum(1 for t, _ in counted if t.fix_satisfied is not None)
    assert figures.fix_satisfied == sum(1 for t, _ in counted if t.fix_satisfied)

    by_item = selectors.satisfaction_by_item(start, end)
    mine = by_item[done.item_id]
    assert mine.count == len(levels)
    assert mine.good_rate == round(sum(1 for v in levels if v >= 4) / len(levels), 4)
    assert mine.avg_score_10 == round(2 * sum(levels) / len(levels), 2)
    assert selectors.satisfaction_by_item(dt.date(2026, 6, 1), dt.date(2026, 7, 1)) == {}

    report = selectors.monthly_report(2026, 5, now=now)
    assert report.ratings_total == len(levels)
    assert report.avg_score_10 == round(2 * sum(levels) / len(levels), 2)
    assert report.excluded == 40 - len(levels)
    assert sum(sum(v.values()) for v in report.ratings_by_channel_level.values()) == len(levels)
    bad_counted = sum(1 for v in levels if v <= 2)
    assert dict(report.top_tags)["需提供办事指南之外的申报材料"] == bad_counted
    assert report.departments[0].ratings == len(levels)
    assert report.departments[0].tickets == len(counted)


def _visit(case: Case, i: int) -> Visit:
    return Visit.objects.create(case=case, at=MAY, purpose=f"visit {i}")


def _online(case: Case, i: int, level: int, excluded: bool) -> Rating:
    """One online rating per case: a fresh completed case for each."""
    user = make_user(f"u{i}", Role.CITIZEN, real_name=f"用户{i}")
    other = Case.objects.get(pk=case.pk)
    other.pk, other.number, other.idempotency_key = None, f"N{i:019d}", ""
    other.applicant = user
    other.save()
    return Rating.objects.create(
        channel=Channel.ONLINE, case=other, item_id=case.item_id,
        department_id=case.department_id, rater=user, rater_name=user.real_name,
        rater_phone="13800000000", level=level, indicators={},
        created_at=MAY + dt.timedelta(hours=i), excluded=excluded)


def test_mask_name() -> None:
    assert selectors.mask_name("张三") == "张*"
    assert selectors.mask_name("欧阳娜娜") == "欧***"
    assert selectors.mask_name("") == ""


def test_completed_case_fixture(people: dict[str, User]) -> None:
    case = completed_case(people)
    assert case.status == "delivered" and case.visit_records.count() == 1
