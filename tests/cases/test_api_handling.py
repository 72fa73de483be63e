"""The rest of a case's life through the API: clock stops, extensions, 容缺 promises, visits,
material downloads, withdrawal and termination."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.cases.conftest import (
    PDF,
    SAME_DAY,
    TIME_LIMITED,
    api_create,
    api_upload_all,
    applicant_body,
    named_pdf,
    ok,
)
from tongban.accounts.models import User
from tongban.cases.models import Case

pytestmark = pytest.mark.django_db


def instant(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def accepted_case(api: Any, people: dict[str, User], code: str = TIME_LIMITED) -> dict[str, Any]:
    citizen = api("citizen")
    case = api_upload_all(citizen, api_create(citizen, code,
                                              applicant=applicant_body(people["citizen"])))
    ok(citizen.post(f"/cases/{case['id']}/submit"))
    return ok(api("officer").post(f"/cases/{case['id']}/accept"))


def open_task(case: dict[str, Any]) -> dict[str, Any]:
    [task] = [t for t in case["tasks"] if t["status"] == "open"]
    return task


def test_special_procedure_stops_the_clock_and_an_extension_moves_the_due(
    api: Any, people: dict[str, User]
) -> None:
    officer, head = api("officer"), api("head")
    case = accepted_case(api, people)
    task = open_task(case)
    due = case["due_at"]

    case = ok(officer.post(f"/tasks/{task['id']}/suspend", {
        "procedure": "expert_review", "reason": "需组织专家现场核查", "expected_working_days": 5,
        "expected_version": case["version"]}))
    assert case["status"] == "suspended"
    [stop] = case["clock_stops"]
    assert (stop["kind"], stop["reason"], stop["expected_working_days"], stop["ended_at"]) == (
        "special_procedure", "需组织专家现场核查", 5, None)
    assert case["notices"][-1]["kind"] == "suspension"
    assert case["notices"][-1]["body"] == {"procedure": "expert_review",
                                           "reason": "需组织专家现场核查", "expected_working_days": 5}
    assert (stop["procedure"], stop["procedure_label"]) == ("expert_review", "专家评审")
    # The applicant may not end it; the department may.
    assert api("citizen").post(f"/cases/{case['id']}/resume").status_code == 403
    case = ok(officer.post(f"/cases/{case['id']}/resume", {"expected_version": case["version"]}))
    assert case["status"] == "accepted" and case["clock_stops"][0]["ended_at"] is not None
    # Business time inside the stop (if it fell in office hours) moves the due instant later.
    assert instant(case["due_at"]) >= instant(due)

    case = ok(officer.post(f"/tasks/{task['id']}/extension",
                           {"working_days": 5, "reason": "专家论证意见尚未出具"}))
    [extension] = case["extensions"]
    assert (extension["state"], extension["working_days"], extension["requested_by"]) == (
        "requested", 5, "officer")
    # Only the department head decides it.
    response = officer.post(f"/extensions/{extension['id']}/decide", {"approve": True})
    assert response.status_code == 403
    assert api("hr_head").post(f"/extensions/{extension['id']}/decide",
                               {"approve": True}).status_code == 404
    before = case["due_at"]
    case = ok(head.post(f"/extensions/{extension['id']}/decide",
                        {"approve": True, "note": "同意", "expected_version": case["version"]}))
    assert case["extension_working_days"] == 5 and instant(case["due_at"]) > instant(before)
    assert (case["extensions"][0]["state"], case["extensions"][0]["decided_by"]) == (
        "approved", "head")
    notice = case["notices"][-1]
    assert notice["kind"] == "extension" and notice["body"]["due_at"] is not None
    assert instant(notice["body"]["due_at"]) == instant(case["due_at"])
    # Deciding it again is a conflict.
    response = head.post(f"/extensions/{extension['id']}/decide", {"approve": False})
    assert response.status_code == 409 and response.json() == {"detail": "该延期申请已处理"}
    assert [e["action"] for e in case["history"]][-5:] == [
        "accept", "suspend", "resume", "request_extension", "extend"]


def test_a_rejected_extension_leaves_the_due(api: Any, people: dict[str, User]) -> None:
    case = accepted_case(api, people)
    case = ok(api("officer").post(f"/tasks/{open_task(case)['id']}/extension",
                                  {"working_days": 2, "reason": "需补充检验"}))
    due = case["due_at"]
    case = ok(api("head").post(f"/extensions/{case['extensions'][0]['id']}/decide",
                               {"approve": False, "note": "时限内可以办结"}))
    assert (case["due_at"], case["extension_working_days"]) == (due, 0)
    assert case["extensions"][0]["state_label"] == "未批准"
    assert (case["history"][-1]["action"], case["history"][-1]["reason"]) == (
        "extension_rejected", "时限内可以办结")


def test_a_deferrable_material_is_promised_then_supplied_before_delivery(
    api: Any, people: dict[str, User]
) -> None:
    citizen, officer, head = api("citizen"), api("officer"), api("head")
    case = api_create(citizen, TIME_LIMITED, applicant=applicant_body(people["citizen"]))
    [deferrable] = [e for e in case["checklist"] if e["deferrable"]]
    for entry in case["checklist"]:
        if entry is not deferrable:
            citizen.upload(f"/cases/{case['id']}/materials",
                           {"material": entry["material_id"], "file": named_pdf(entry["name"])})
    promised_by = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    case = ok(citizen.post(f"/cases/{case['id']}/materials/promise", {
        "material": deferrable["material_id"], "promise": "本人承诺十日内补交健康证明",
        "promised_by": promised_by}))
    entry = next(e for e in case["checklist"] if e["material_id"] == deferrable["material_id"])
    assert entry["state"] == "promised"
    ok(citizen.post(f"/cases/{case['id']}/submit"))
    case = ok(officer.post(f"/cases/{case['id']}/accept"))
    case = ok(officer.post(f"/tasks/{open_task(case)['id']}/act", {"action": "approve"}))
    case = ok(head.post(f"/tasks/{open_task(case)['id']}/act", {"action": "approve"}))
    response = officer.post(f"/cases/{case['id']}/deliver", {"delivery": "online"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "materials"
    ok(citizen.upload(f"/cases/{case['id']}/materials",
                      {"material": deferrable["material_id"], "file": named_pdf("健康证明")}), 201)
    case = ok(officer.post(f"/cases/{case['id']}/deliver", {"delivery": "online"}))
    assert case["status"] == "delivered"


def test_materials_are_downloaded_by_those_who_see_the_case(api: Any, people: dict[str, User]) -> None:
    citizen = api("citizen")
    case = api_create(citizen, TIME_LIMITED, applicant=applicant_body(people["citizen"]))
    case = ok(citizen.upload(f"/cases/{case['id']}/materials",
                             {"name": "补充说明", "file": named_pdf("补充说明")}), 201)
    [material] = case["materials"]
    assert (material["name"], material["size"], material["content_type"], material["state"]) == (
        "补充说明", len(PDF), "application/pdf", "supplied")
    assert len(material["sha256"]) == 64 and material["original_name"] == "补充说明.pdf"
    url = material["download_url"]
    assert url == f"/api/v1/cases/{case['id']}/materials/{material['id']}/file"
    response = citizen.client.get(url, headers=citizen.headers)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    other = api("other")
    assert other.client.get(url, headers=other.headers).status_code == 404
    assert citizen.client.get(url).status_code == 401


def test_visits_beyond_the_promise_are_flagged(api: Any, people: dict[str, User]) -> None:
    case = accepted_case(api, people, SAME_DAY)
    assert (case["visit_count"], case["allowed_visits"]) == (0, 0)
    case = ok(api("officer").post(f"/cases/{case['id']}/visits",
                                  {"purpose": "核验原件", "expected_version": case["version"]}), 201)
    assert (case["visit_count"], case["excess_visits"]) == (1, True)
    assert case["visits"][0]["purpose"] == "核验原件"
    assert case["history"][-1]["data"] == {"visits": 1, "excess": True}


def test_the_applicant_withdraws_and_the_head_terminates(api: Any, people: dict[str, User]) -> None:
    case = accepted_case(api, people)
    assert api("officer").post(f"/cases/{case['id']}/withdraw").status_code == 403
    case = ok(api("citizen").post(f"/cases/{case['id']}/withdraw", {"reason": "不再经营"}))
    assert (case["status"], case["closed_reason"]) == ("withdrawn", "不再经营")
    assert all(t["status"] == "cancelled" for t in case["tasks"])

    other = accepted_case(api, people)
    assert api("officer").post(f"/cases/{other['id']}/terminate",
                               {"reason": "申请人已注销"}).status_code == 403
    other = ok(api("head").post(f"/cases/{other['id']}/terminate", {"reason": "申请人已注销"}))
    assert (other["status"], other["status_label"]) == ("terminated", "已终止")
    stored = Case.objects.get(pk=other["id"])
    assert (stored.status, stored.closed_reason) == ("terminated", "申请人已注销")
