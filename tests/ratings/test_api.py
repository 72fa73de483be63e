"""The whole ticket path through /api/v1/ratings/, with the error shapes of the case API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ratings.conftest import ONLINE_INDICATORS, bad
from tongban.accounts.models import User
from tongban.audit.models import AuditRecord
from tongban.cases.models import Case
from tongban.ratings.models import Rating, RectificationTicket

pytestmark = pytest.mark.django_db


def test_whole_ticket_path(overseers: dict[str, User], done: Case, api: Any) -> None:
    citizen, officer, head = api("citizen"), api("officer"), api("head")
    supervisor, other = api("supervisor"), api("other")

    # Tags are public.
    tags = api("citizen").client.get("/api/v1/ratings/tags").json()
    assert [t["name"] for t in tags[:3]] == [
        "无理由超过法定办理时间", "在办事指南之外增加新的审批条件", "需提供办事指南之外的申报材料"]

    # Someone else's case: 404 (not revealed); staff: 403; bad input: 422.
    assert other.post(f"/ratings/cases/{done.number}", bad()).status_code == 404
    assert officer.post(f"/ratings/cases/{done.number}", bad()).status_code == 403
    response = citizen.post(f"/ratings/cases/{done.number}", bad(level=9))
    assert response.status_code == 422
    assert {p["field"] for p in response.json()["detail"]} == {"level"}
    assert not Rating.objects.exists()

    response = citizen.post(f"/ratings/cases/{done.number}", bad())
    assert response.status_code == 201, response.content
    rating = response.json()
    assert rating["level"] == 1 and rating["level_label"] == "非常不满意"
    assert rating["rater"] == {"name": "张三", "phone": "13893100001",
                               "id_number": "620102199003077770", "masked": False}
    ticket_id = rating["ticket_id"]
    assert ticket_id is not None
    # Once only: 409.
    assert citizen.post(f"/ratings/cases/{done.number}", bad()).status_code == 409

    # The department's list shows the rater masked (the ticket itself shows name and phone, see
    # test_rater_privacy); a department not concerned gets 404.
    listed = officer.get("/ratings/tickets").json()
    assert [t["id"] for t in listed["items"]] == [ticket_id]
    assert listed["items"][0]["rating"]["rater"]["masked"] is True
    assert api("hr_officer").get(f"/ratings/tickets/{ticket_id}").status_code == 404
    assert api("hr_officer").get("/ratings/tickets").json()["count"] == 0

    # Appeal, rejected by the supervisor: back to open with the same due date.
    ticket = officer.get(f"/ratings/tickets/{ticket_id}").json()
    assert ticket["state"] == "open"
    response = officer.post(f"/ratings/tickets/{ticket_id}/appeal", {"reason": ""})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "reason"
    appealed = officer.post(f"/ratings/tickets/{ticket_id}/appeal", {"reason": "误评"}).json()
    assert appealed["state"] == "appealed"
    assert head.post(f"/ratings/tickets/{ticket_id}/appeal-decision",
                     {"accept": False, "note": "x"}).status_code == 403
    rejected = supervisor.post(f"/ratings/tickets/{ticket_id}/appeal-decision",
                               {"accept": False, "note": "评价属实"}).json()
    assert rejected["state"] == "open" and rejected["due_at"] == ticket["due_at"]
    assert rejected["appeal_decision"] == "rejected"

    # A stale version: 409. Then the fix.
    assert officer.post(f"/ratings/tickets/{ticket_id}/respond", {
        "response": "fix_now", "text": "已整改", "expected_version": 0}).status_code == 409
    responded = officer.post(f"/ratings/tickets/{ticket_id}/respond", {
        "response": "fix_now", "text": "已整改并向申请人说明",
        "expected_version": rejected["version"]}).json()
    assert responded["state"] == "responded" and responded["response"] == "fix_now"
    # Rating the fix before the callback: 409.
    assert citizen.post(f"/ratings/tickets/{ticket_id}/rate-fix",
                        {"satisfied": True}).status_code == 409
    called = head.post(f"/ratings/tickets/{ticket_id}/callback",
                       {"reached": True, "note": "电话回访"}).json()
    assert called["state"] == "awaiting_rater"
    # The rater sees the ticket waiting for them, and rates the fix.
    mine = citizen.get("/ratings/tickets").json()
    assert [t["id"] for t in mine["items"]] == [ticket_id]
    assert officer.post(f"/ratings/tickets/{ticket_id}/rate-fix",
                        {"satisfied": True}).status_code == 403
    closed = citizen.post(f"/ratings/tickets/{ticket_id}/rate-fix", {"satisfied": True}).json()
    assert (closed["state"], closed["outcome"], closed["fix_satisfied"]) == (
        "closed", "rectified", True)
    assert citizen.post(f"/ratings/tickets/{ticket_id}/rate-fix",
                        {"satisfied": False}).status_code == 409

    actions = list(AuditRecord.objects.filter(object_type__in=["rating", "rating_ticket"])
                   .order_by("seq").values_list("action", flat=True))
    assert actions == ["rating.submitted", "rating_ticket.opened", "rating.rater_viewed",
                       "rating_ticket.appealed",
                       "rating_ticket.appeal_decided", "rating_ticket.responded",
                       "rating_ticket.called_back", "rating_ticket.fix_rated"]


def test_appeal_accepted_through_the_api(overseers: dict[str, User], done: Case, api: Any) -> None:
    ticket_id = api("citizen").post(f"/ratings/cases/{done.number}", bad()).json()["ticket_id"]
    api("officer").post(f"/ratings/tickets/{ticket_id}/appeal", {"reason": "恶意评价"})
    decided = api("supervisor").post(f"/ratings/tickets/{ticket_id}/appeal-decision",
                                     {"accept": True, "note": "查实为恶意评价"}).json()
    assert decided["state"] == "closed" and decided["rating"]["excluded"] is True
    assert "恶意评价" in decided["rating"]["excluded_reason"]
    assert Rating.objects.get().excluded
    assert RectificationTicket.objects.get().outcome == "appeal_accepted"


def test_rater_masked_for_roles_that_do_not_act(overseers: dict[str, User], done: Case,
                                                api: Any) -> None:
    """A good rating opens no ticket: even the department sees the rater masked; the
    supervisor sees their name and phone. The rater is never named to a department not concerned."""
    from tongban.ratings.schemas import rating_out

    rating = api("citizen").post(f"/ratings/cases/{done.number}", {
        "level": 4, "indicators": ONLINE_INDICATORS}).json()
    stored = Rating.objects.get(pk=rating["id"])
    masked = rating_out(stored, overseers["officer"]).rater
    assert (masked.name, masked.phone, masked.id_number, masked.masked) == (
        "张*", "138****0001", "6201**********7770", True)
    for who in ("hr_officer", "clerk", "bureau", "other"):
        assert rating_out(stored, overseers[who]).rater.masked is True
    # The supervisor, on the ticket's own answer: name and phone in full, the ID number masked.
    shown = rating_out(stored, overseers["supervisor"], reveal=True).rater
    assert (shown.name, shown.phone, shown.id_number) == (
        "张三", "13893100001", "6201**********7770")


def test_visit_rating_through_the_api(people: dict[str, User], done: Case, api: Any) -> None:
    from tongban.ratings.services import visit_token

    visit = done.visit_records.get()
    body = {"level": 5, "indicators": {"service_efficiency": 5, "service_level": 5,
                                       "service_attitude": 5}}
    from django.test import Client

    anonymous = Client()
    response = anonymous.post(f"/api/v1/ratings/visits/{visit.pk}", {**body, "token": "bad"},
                              content_type="application/json")
    assert response.status_code == 401  # the API needs a token or session; pages do not
    response = api("citizen").post(f"/ratings/visits/{visit.pk}",
                                   {**body, "token": visit_token(visit)})
    assert response.status_code == 201 and response.json()["channel"] == "on_site"
    assert api("citizen").post(f"/ratings/visits/{visit.pk}", body).status_code == 409
