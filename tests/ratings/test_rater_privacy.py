"""The rater's personal data on a bad review's ticket: the people who put it right see the name
and phone they call back on, never the full ID number; every such read by staff is audited;
lists show the rater masked; the rater sees their own data."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tongban.accounts.models import User
from tongban.audit.models import AuditRecord
from tongban.cases.models import Case
from tongban.ratings import services
from tongban.ratings.models import Rating

pytestmark = pytest.mark.django_db

FULL_ID = "620102199003077770"  # 张三
MASKED = {"name": "张*", "phone": "138****0001", "id_number": "6201**********7770", "masked": True}


def bad_review(overseers: dict[str, User], done: Case) -> Rating:
    return services.rating_submit(actor=overseers["citizen"], case=done, level=1,
                                  indicators={"efficiency": 1, "guide_accuracy": 1,
                                              "convenience": 1, "usability": 1},
                                  tags=["overdue_without_reason"])


def reads(rating: Rating) -> list[tuple[int | None, dict[str, Any]]]:
    return list(AuditRecord.objects.filter(action="rating.rater_viewed", object_id=str(rating.pk))
                .order_by("seq").values_list("actor_id", "detail"))


def test_the_department_sees_name_and_phone_masked_id_and_each_read_is_audited(
        overseers: dict[str, User], done: Case, api: Any) -> None:
    rating = bad_review(overseers, done)
    ticket = rating.ticket
    officer = overseers["officer"]
    client = Client()
    client.force_login(officer)

    page = client.get(f"/ratings/tickets/{ticket.pk}/").content.decode()
    assert "张三" in page and "13893100001" in page and "6201**********7770" in page
    assert FULL_ID not in page
    detail = {"ticket": ticket.pk, "fields": ["rater_name", "rater_phone"]}
    assert reads(rating) == [(officer.pk, detail)]

    answer = api("officer").get(f"/ratings/tickets/{ticket.pk}").json()
    assert answer["rating"]["rater"] == {"name": "张三", "phone": "13893100001",
                                         "id_number": "6201**********7770", "masked": True}
    assert reads(rating) == [(officer.pk, detail), (officer.pk, detail)]

    # A list reveals nothing, so records nothing.
    listed = api("officer").get("/ratings/tickets").json()
    assert listed["items"][0]["rating"]["rater"] == MASKED
    assert len(reads(rating)) == 2

    # The supervisor too sees the ID masked, and is audited.
    answer = api("supervisor").get(f"/ratings/tickets/{ticket.pk}").json()
    assert answer["rating"]["rater"]["id_number"] == "6201**********7770"
    assert reads(rating)[-1] == (overseers["supervisor"].pk, detail)


def test_the_rater_sees_their_own_data_unaudited(overseers: dict[str, User], done: Case,
                                                 api: Any) -> None:
    rating = bad_review(overseers, done)
    answer = api("citizen").get(f"/ratings/tickets/{rating.ticket.pk}").json()
    assert answer["rating"]["rater"] == {"name": "张三", "phone": "13893100001",
                                         "id_number": FULL_ID, "masked": False}
    assert reads(rating) == []
