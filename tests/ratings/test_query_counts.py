"""Query counts of the rating tickets, appeals and reports (see ``tests/query_budget.py``)."""

from __future__ import annotations

import pytest

from tests.query_budget import LARGE, SMALL, Budget, client_for
from tongban.accounts.models import User

pytestmark = pytest.mark.django_db


# --- ratings: tickets, appeals, the window's page, the monthly report -------------------------

def test_rating_lists(budget: Budget, overseers: dict[str, User]) -> None:
    from django.utils import timezone

    from tests.ratings.conftest import bad, completed_case
    from tongban.clock.deadline import SHANGHAI
    from tongban.ratings import services

    people = overseers

    def add_ratings(count: int) -> None:
        """Per row: a bad review (its ticket open) and a bad review the officer appealed, and a
        case completed at the window nobody rated yet."""
        for _ in range(count):
            services.rating_submit(actor=people["citizen"], case=completed_case(people), **bad())
            ticket = services.rating_submit(actor=people["citizen"], case=completed_case(people),
                                            **bad()).ticket
            services.ticket_appeal(actor=people["officer"], ticket=ticket, reason="恶意评价")
            completed_case(people)

    add_ratings(SMALL)
    today = timezone.now().astimezone(SHANGHAI)
    month = f"{today.year}-{today.month:02d}"
    anonymous = client_for(None)
    for who in ("officer", "head", "clerk", "supervisor"):
        budget.add(f"page /ratings/tickets/ ({who})", client_for(people[who]), "/ratings/tickets/")
        budget.add(f"api /ratings/tickets ({who})", client_for(people[who]), "/api/v1/ratings/tickets")
    budget.add("page /ratings/appeals/", client_for(people["supervisor"]), "/ratings/appeals/")
    budget.add("page /ratings/window/", client_for(people["clerk"]), "/ratings/window/")
    budget.add("page /ratings/report/", anonymous, "/ratings/report/")
    budget.add("page /ratings/report/<month>/", anonymous, f"/ratings/report/{month}/")
    budget.add("page /ratings/report/<month>.csv", anonymous, f"/ratings/report/{month}.csv")
    budget.add("page /ratings/report/<month>.json", anonymous, f"/ratings/report/{month}.json")
    budget.add("api /ratings/reports/<month>", anonymous, f"/api/v1/ratings/reports/{month}")
    budget.add("api /ratings/tags", anonymous, "/api/v1/ratings/tags")
    budget.check(lambda: add_ratings(LARGE - SMALL))
