"""A case from application to delivered result through the HTTP API, for each of the four lists.

Every call goes through /api/v1/ with a bearer token from POST /api/v1/auth/token; the due
instants are checked against the public deadline endpoint, so that the case and the calendar
agree whatever the time of day the tests run.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.cases.conftest import (
    ON_THE_SPOT,
    PROXY,
    SAME_DAY,
    TIME_LIMITED,
    WALK_IN,
    ApiClient,
    api_create,
    api_upload_all,
    applicant_body,
    named_pdf,
    ok,
)
from tongban.accounts.models import User

pytestmark = pytest.mark.django_db


def actions(case: dict[str, Any]) -> list[str]:
    return [e["action"] for e in case["history"]]


def open_tasks(case: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in case["tasks"] if t["status"] == "open"]


def expected_due(client: ApiClient, case: dict[str, Any], *, hall: int | None = None) -> str:
    """The due instant the public deadline endpoint computes for the case's acceptance."""
    item = case["item"]
    body = {"start": case["accepted_at"], "category": item["commitment"],
            "limit": item["committed_limit"], "unit": item["committed_limit_unit"], "hall": hall}
    return str(ok(client.post("/calendar/deadline", body))["due"])


def inbox_task(client: ApiClient, case: dict[str, Any], step: str) -> dict[str, Any]:
    """The open task of ``case`` at ``step`` as it appears in the client's inbox."""
    entries = [t for t in ok(client.get("/inbox"))["items"] if t["case_id"] == case["id"]]
    assert [t["step_key"] for t in entries] == [step], entries
    return entries[0]


def test_on_the_spot_is_completed_at_the_window_in_one_visit(api: Any) -> None:
    clerk = api("clerk")
    case = api_create(clerk, ON_THE_SPOT, applicant=WALK_IN, channel="window")
    assert (case["status"], case["number"], case["version"], case["hall"]) == (
        "draft", None, 0, "兰州市政务服务中心")
    case = api_upload_all(clerk, case)
    assert {e["state"] for e in case["checklist"]} == {"supplied"}
    case = ok(clerk.post(f"/cases/{case['id']}/submit", {"expected_version": case["version"]}))
    assert case["status"] == "submitted" and len(case["number"]) == 20

    case = ok(clerk.post(f"/cases/{case['number']}/accept", {"expected_version": case["version"]}))

    # Accepted, decided and handed over in the same transaction, in the same visit.
    assert case["status"] == "delivered" and case["status_label"] == "已送达"
    assert case["due_at"] == case["accepted_at"] == case["decided_at"] == case["delivered_at"]
    assert case["due_at"].endswith("+08:00")
    assert (case["visit_count"], case["allowed_visits"], case["excess_visits"]) == (1, 1, False)
    assert [v["purpose"] for v in case["visits"]] == ["窗口受理"]
    assert (case["delivery"], case["result_name"]) == ("pickup", "营业执照")
    assert actions(case) == ["create", "submit", "accept", "approve", "deliver"]
    assert [(e["from_status"], e["to_status"]) for e in case["history"][1:]] == [
        ("draft", "submitted"), ("submitted", "accepted"), ("accepted", "approved"),
        ("approved", "delivered")]
    assert {e["actor"] for e in case["history"]} == {"clerk"}
    assert [n["kind"] for n in case["notices"]] == ["acceptance", "decision"]
    assert [(t["step_key"], t["status"], t["outcome"]) for t in case["tasks"]] == [
        ("handle", "done", "approve")]
    assert case["workflow"]["name"] == "即收即办默认流程"


def test_same_day_online_reviewed_returned_and_decided(api: Any, people: dict[str, User]) -> None:
    citizen, officer, head = api("citizen"), api("officer"), api("head")
    case = api_create(citizen, SAME_DAY, applicant=applicant_body(people["citizen"]))
    case = api_upload_all(citizen, case)
    # A POST without any body is fine where every field is optional.
    case = ok(citizen.client.generic("POST", f"/api/v1/cases/{case['id']}/submit", b"",
                                     headers=citizen.headers))
    number = case["number"]
    case = ok(officer.post(f"/cases/{number}/pre-review", {"expected_version": case["version"]}))
    assert case["status"] == "pre_review"
    case = ok(officer.post(f"/cases/{number}/accept", {"expected_version": case["version"]}))
    assert case["status"] == "accepted"
    assert case["due_at"] == expected_due(officer, case)
    assert [n["kind"] for n in case["notices"]] == ["acceptance"]
    assert case["notices"][0]["body"]["due_at"] is not None

    review = inbox_task(officer, case, "review")
    assert (review["assignee"], review["role"], review["actions"]) == (
        None, "officer", ["approve", "return", "supplement"])
    claimed = ok(officer.post(f"/tasks/{review['id']}/claim"))
    assert claimed["assignee"] == "officer"
    # Claimed: no longer in the colleague's inbox.
    assert [t for t in ok(api("officer2").get("/inbox"))["items"] if t["case_id"] == case["id"]] == []
    case = ok(officer.post(f"/tasks/{review['id']}/act",
                           {"action": "approve", "expected_version": case["version"]}))

    # The head sends it back to review once, then decides.
    decide = inbox_task(head, case, "decide")
    case = ok(head.post(f"/tasks/{decide['id']}/act",
                        {"action": "return", "return_to": "review", "reason": "请核对住所证明"}))
    review = inbox_task(officer, case, "review")
    case = ok(officer.post(f"/tasks/{review['id']}/act", {"action": "approve"}))
    decide = inbox_task(head, case, "decide")
    case = ok(head.post(f"/tasks/{decide['id']}/act", {"action": "approve", "reason": "符合条件"}))
    assert (case["status"], case["decision_reason"], case["result_name"]) == (
        "approved", "符合条件", "营业执照（变更后）")
    assert open_tasks(case) == []
    # Each finished step names who finished it (a step nobody claimed has no assignee).
    assert [(t["step_key"], t["outcome"], t["finished_by"]) for t in case["tasks"]] == [
        ("review", "approve", "officer"), ("decide", "return", "head"),
        ("review", "approve", "officer"), ("decide", "approve", "head")]
    assert ok(officer.get(f"/cases/{number}"))["tasks"] == case["tasks"]

    case = ok(officer.post(f"/cases/{number}/deliver", {"delivery": "online",
                                                        "expected_version": case["version"]}))
    assert (case["status"], case["delivery"]) == ("delivered", "online")
    assert actions(case) == ["create", "submit", "pre_review", "accept", "step", "step", "step",
                             "approve", "deliver"]
    assert [t["step_key"] for t in case["tasks"]] == ["review", "decide", "review", "decide"]
    assert case["history"][5]["reason"] == "请核对住所证明"
    assert case["visit_count"] == 0


def test_time_limited_online_with_supplement_then_supply(api: Any, people: dict[str, User]) -> None:
    citizen, officer, head = api("citizen"), api("officer"), api("head")
    case = api_create(citizen, TIME_LIMITED, applicant=applicant_body(people["citizen"]))
    missing = case["checklist"][0]
    case = api_upload_all(citizen, case, skip=1)
    assert [e["state"] for e in case["checklist"]][:2] == ["missing", "supplied"]
    case = ok(citizen.post(f"/cases/{case['id']}/submit", {"expected_version": case["version"]}))
    number = case["number"]

    # Incomplete: acceptance is refused, naming what is missing.
    response = officer.post(f"/cases/{number}/accept", {"expected_version": case["version"]})
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["field"] == "materials" and missing["name"] in problem["message"]

    case = ok(officer.post(f"/cases/{number}/supplement", {
        "items": [{"name": missing["name"], "reason": "未提交申请书",
                   "material_id": missing["material_id"]}],
        "note": "请一次补齐", "expected_version": case["version"]}))
    assert (case["status"], case["due_at"]) == ("supplement", None)
    [notice] = case["notices"]
    assert notice["kind"] == "supplement" and notice["kind_label"] == "一次性告知书"
    assert notice["body"]["items"] == [{"name": missing["name"], "reason": "未提交申请书",
                                        "material_id": missing["material_id"]}]
    assert notice["resolved_at"] is None

    # Declaring it supplied before uploading is refused; after uploading it goes back.
    response = citizen.post(f"/cases/{number}/supply")
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "materials"
    response = citizen.upload(f"/cases/{number}/materials",
                              {"material": missing["material_id"], "file": named_pdf("申请书")})
    assert response.status_code == 201
    case = ok(citizen.post(f"/cases/{number}/supply"))
    assert case["status"] == "submitted" and case["notices"][0]["resolved_at"] is not None

    case = ok(officer.post(f"/cases/{number}/accept", {"expected_version": case["version"]}))
    assert case["status"] == "accepted" and case["provisional"] is False
    assert case["due_at"] == expected_due(officer, case)
    assert case["deadline_state"] in {"green", "yellow"}
    review = inbox_task(officer, case, "review")
    case = ok(officer.post(f"/tasks/{review['id']}/act",
                           {"action": "approve", "expected_version": case["version"]}))
    decide = inbox_task(head, case, "decide")
    case = ok(head.post(f"/tasks/{decide['id']}/act", {"action": "approve", "reason": "现场核查合格"}))
    assert (case["status"], case["result_name"]) == ("approved", "食品经营许可证")
    case = ok(officer.post(f"/cases/{number}/deliver", {"delivery": "post"}))

    assert (case["status"], case["delivery_label"]) == ("delivered", "邮寄送达")
    assert actions(case) == ["create", "submit", "request_supplement", "supply", "accept", "step",
                             "approve", "deliver"]
    assert [n["kind"] for n in case["notices"]] == ["supplement", "acceptance", "decision"]
    # The replaced upload is kept, marked superseded; the checklist shows everything supplied.
    assert {e["state"] for e in case["checklist"]} == {"supplied"}
    event = case["history"][2]
    assert (event["actor"], event["from_status"], event["to_status"], event["reason"]) == (
        "officer", "submitted", "supplement", "请一次补齐")
    assert event["at"].endswith("+08:00")


def test_proxy_received_at_street_centre_and_decided_by_city_department(
    api: Any, people: dict[str, User]
) -> None:
    proxy, hr_officer, hr_head = api("proxy"), api("hr_officer"), api("hr_head")
    case = api_create(proxy, PROXY, applicant=WALK_IN, channel="window")
    assert case["hall"] == "皋兰路街道便民服务中心"
    assert case["receiving_unit"]["name"] == "城关区皋兰路街道便民服务中心"
    assert case["department"]["name"] == "兰州市人力资源和社会保障局"
    case = api_upload_all(proxy, case)
    case = ok(proxy.post(f"/cases/{case['id']}/submit"))
    number = case["number"]
    case = ok(proxy.post(f"/cases/{number}/accept", {"expected_version": case["version"]}))
    assert case["status"] == "accepted"
    assert case["hall_id"] == people["proxy"].hall_id
    assert case["due_at"] == expected_due(proxy, case, hall=case["hall_id"])
    assert case["visit_count"] == 1 and case["excess_visits"] is False

    forward = inbox_task(proxy, case, "forward")
    assert forward["department"]["name"] == "城关区皋兰路街道便民服务中心"
    case = ok(proxy.post(f"/tasks/{forward['id']}/act", {"action": "forward"}))
    assert case["history"][-1]["data"]["late"] is False
    # The city department's officer now has it; the market regulator's officer never sees it.
    review = inbox_task(hr_officer, case, "review")
    assert review["department"]["name"] == "兰州市人力资源和社会保障局"
    assert api("officer").get(f"/cases/{number}").status_code == 404
    case = ok(hr_officer.post(f"/tasks/{review['id']}/act", {"action": "approve"}))
    decide = inbox_task(hr_head, case, "decide")
    case = ok(hr_head.post(f"/tasks/{decide['id']}/act", {"action": "approve"}))
    assert case["status"] == "approved"
    case = ok(hr_officer.post(f"/cases/{number}/deliver", {"delivery": "post"}))

    assert case["status"] == "delivered"
    assert actions(case) == ["create", "submit", "accept", "step", "step", "approve", "deliver"]
    assert [(t["step_key"], t["department"]["name"], t["outcome"]) for t in case["tasks"]] == [
        ("forward", "城关区皋兰路街道便民服务中心", "forward"),
        ("review", "兰州市人力资源和社会保障局", "approve"),
        ("decide", "兰州市人力资源和社会保障局", "approve")]
    assert [e["actor"] for e in case["history"]] == [
        "proxy", "proxy", "proxy", "proxy", "hr_officer", "hr_head", "hr_officer"]


def test_a_clerk_accepts_only_at_a_window_of_their_own_hall(api: Any,
                                                            people: dict[str, Any]) -> None:
    from tongban.organizations.models import Window

    clerk = api("clerk")
    street_hall = people["proxy"].hall
    other = Window.objects.create(hall=street_hall, number="9", name="综合受理窗口")
    case = api_upload_all(clerk, api_create(clerk, ON_THE_SPOT, applicant=WALK_IN,
                                            channel="window"))
    case = ok(clerk.post(f"/cases/{case['id']}/submit", {"expected_version": case["version"]}))
    response = clerk.post(f"/cases/{case['number']}/accept",
                          {"expected_version": case["version"], "window": other.pk})
    assert response.status_code == 422
    assert [(p["field"], p["message"]) for p in response.json()["detail"]] == [
        ("window", "该窗口不属于您所在的大厅")]
    again = ok(clerk.get(f"/cases/{case['number']}"))
    assert (again["status"], again["version"]) == ("submitted", case["version"])
