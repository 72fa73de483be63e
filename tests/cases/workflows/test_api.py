"""Workflow definitions and the staff inbox through the HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.cases.conftest import (
    SAME_DAY,
    TIME_LIMITED,
    api_create,
    api_upload_all,
    applicant_body,
    ok,
)
from tongban.accounts.models import User
from tongban.audit.models import AuditRecord
from tongban.cases.workflows.models import StepTask, WorkflowDefinition
from tongban.organizations.models import Department

pytestmark = pytest.mark.django_db


def problems(response: Any) -> list[tuple[str, str]]:
    assert response.status_code == 422, response.content
    return [(p["field"], p["message"]) for p in response.json()["detail"]]


def parallel_workflow(hr_uscc: str) -> dict[str, Any]:
    """Review, then a check by the item's department and one by the social security bureau in
    parallel (并联审批), then the decision once both are done."""
    return {
        "item": TIME_LIMITED, "name": "食品经营许可并联审批", "start": "review",
        "steps": [
            {"key": "review", "name": "受理审查", "role": "officer", "budget_working_days": 1,
             "actions": ["approve"], "next": ["health", "social"]},
            {"key": "health", "name": "食品安全核查", "role": "officer", "budget_working_days": 1,
             "next": ["decide"]},
            {"key": "social", "name": "从业人员参保核验", "role": "officer", "department": hr_uscc,
             "budget_working_days": "1", "next": ["decide"]},
            {"key": "decide", "name": "决定", "role": "head", "budget_working_days": 1,
             "actions": ["approve", "deny", "return"], "return_to": ["review"], "join": True,
             "decides": True, "next": ["end"]},
        ],
    }


def hr_uscc() -> str:
    return Department.objects.get(name="兰州市人力资源和社会保障局").uscc


def accepted(api: Any, people: dict[str, User], code: str = TIME_LIMITED) -> dict[str, Any]:
    citizen = api("citizen")
    case = api_upload_all(citizen, api_create(citizen, code,
                                              applicant=applicant_body(people["citizen"])))
    ok(citizen.post(f"/cases/{case['id']}/submit"))
    data: dict[str, Any] = ok(api("officer").post(f"/cases/{case['id']}/accept"))
    return data


def inbox(client: Any, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = ok(client.get("/inbox", params))["items"]
    return items


# --- definitions ------------------------------------------------------------------------------

def test_the_bureau_saves_versions_that_cases_then_follow(api: Any, overseers: dict[str, User]) -> None:
    bureau = api("bureau")
    first = ok(bureau.post("/workflows", parallel_workflow(hr_uscc())), 201)
    assert (first["item"], first["version"], first["is_active"], first["created_by"]) == (
        TIME_LIMITED, 1, True, "bureau")
    assert [s["key"] for s in first["steps"]] == ["review", "health", "social", "decide"]
    assert first["steps"][3]["join"] is True and first["steps"][0]["budget_working_days"] == "1"
    second = ok(bureau.post("/workflows", {**parallel_workflow(hr_uscc()), "name": "第二版"}), 201)
    assert second["version"] == 2
    assert ok(bureau.get(f"/workflows/{first['id']}"))["is_active"] is False
    listed = ok(api("officer").get("/workflows", {"item": TIME_LIMITED}))
    assert [(w["version"], w["is_active"]) for w in listed] == [(2, True), (1, False)]
    assert [w["id"] for w in ok(bureau.get("/workflows", {"item": TIME_LIMITED, "active": True}))] \
        == [second["id"]]
    assert AuditRecord.objects.filter(action="workflow.saved").count() == 2

    # A list default: applies to the list's items without their own workflow.
    default = ok(bureau.post("/workflows", {
        "commitment": "same_day", "name": "当日办结（一审一决）", "budget_mode": "share",
        "start": "review", "steps": [
            {"key": "review", "name": "审核", "role": "officer", "budget_working_days": "0.5",
             "next": ["decide"]},
            {"key": "decide", "name": "决定", "role": "head", "budget_working_days": "0.5",
             "actions": ["approve", "deny"], "decides": True}]}), 201)
    assert (default["item"], default["commitment"]) == (None, "same_day")
    case = accepted(api, overseers, SAME_DAY)
    assert case["workflow"] == {"id": default["id"], "name": "当日办结（一审一决）", "version": 1}


@pytest.mark.parametrize(("change", "expected"), [
    (lambda w: w["steps"][1].update(next=["inspection"]),
     [("steps[1].next", "后续环节“inspection”不存在")]),
    (lambda w: w["steps"][0].update(role="citizen"),
     [("steps[0].role", "角色须为窗口工作人员、经办人、负责人或代办员")]),
    (lambda w: w["steps"][2].update(department="91620100MA00000000"),
     [("steps[2].department",
       "办理部门须为@item（事项的实施主体）、@receiving_unit（代办受理单位）或已登记部门的统一社会信用代码")]),
    (lambda w: [s.update(budget_working_days=2) for s in w["steps"]],
     [("steps", "各环节时限之和（6个工作日）超过承诺办结时限（3个工作日）")]),
    (lambda w: w["steps"][3].update(decides=False),
     [("steps", "流程中须有一个作出决定的环节")]),
    (lambda w: w.update(item=None), [("commitment", "须指定事项，或指定默认流程适用的承诺类别"
                                                    "（on_the_spot、same_day、time_limited、proxy）")]),
    (lambda w: w.update(item="nothing"), [("item", "没有实施编码为“nothing”的事项")]),
    # A parallel branch ending the workflow beside the decision (its cases would never decide).
    (lambda w: w["steps"][1].update(next=["end"]),
     [("steps[1].next", "环节“health”直接进入办结，没有经过决定环节“decide”")]),
    (lambda w: w["steps"][3].update(join=False),
     [("steps[3].join", "并行分支（health、social）在环节“decide”汇合，它须等待所有分支完成（join）")]),
    (lambda w: w["steps"][1].update(budget_working_days="1e308"),
     [("steps[1].budget_working_days", "环节时限须在0至365个工作日之间")]),
    (lambda w: w["steps"][1].update(budget_working_days="0.00001"),
     [("steps[1].budget_working_days", "环节时限至多保留4位小数")]),
])
def test_a_broken_definition_is_refused_naming_the_step(
    api: Any, overseers: dict[str, User], change: Any, expected: list[tuple[str, str]]
) -> None:
    body = parallel_workflow(hr_uscc())
    change(body)
    assert problems(api("bureau").post("/workflows", body)) == expected
    assert not WorkflowDefinition.objects.exists()


def test_a_list_default_with_an_unbounded_budget_is_refused_and_cases_still_start(
        api: Any, overseers: dict[str, User]) -> None:
    body: dict[str, Any] = {"commitment": "time_limited", "name": "限时办结", "start": "review", "steps": [
        {"key": "review", "name": "审查", "role": "officer", "budget_working_days": "1e308",
         "next": ["decide"]},
        {"key": "decide", "name": "决定", "role": "head", "actions": ["approve", "deny"],
         "decides": True}]}
    assert problems(api("bureau").post("/workflows", body)) == [
        ("steps[0].budget_working_days", "环节时限须在0至365个工作日之间")]
    for budget in ("NaN", "Infinity"):
        body["steps"][0]["budget_working_days"] = budget
        response = api("bureau").post("/workflows", body)
        assert response.status_code == 422, response.content
        assert [p["loc"][-3:] for p in response.json()["detail"]] == [
            ["steps", 0, "budget_working_days"]]
    assert not WorkflowDefinition.objects.exists()
    case = accepted(api, overseers)
    assert case["status"] == "accepted"


def test_only_the_bureau_saves_and_only_staff_read(api: Any, overseers: dict[str, User]) -> None:
    response = api("head").post("/workflows", parallel_workflow(hr_uscc()))
    assert response.status_code == 403
    assert response.json() == {"detail": "只有政务服务管理局管理员可以修改办理流程"}
    assert not WorkflowDefinition.objects.exists()
    saved = ok(api("bureau").post("/workflows", parallel_workflow(hr_uscc())), 201)
    assert api("citizen").get("/workflows").status_code == 403
    assert api("citizen").get(f"/workflows/{saved['id']}").status_code == 403
    assert [w["id"] for w in ok(api("clerk").get("/workflows"))] == [saved["id"]]
    assert api("officer").get("/workflows/987654").status_code == 404


def test_parallel_steps_across_departments(api: Any, overseers: dict[str, User]) -> None:
    people = overseers
    ok(api("bureau").post("/workflows", parallel_workflow(hr_uscc())), 201)
    officer, officer2, hr_officer, head = api("officer"), api("officer2"), api("hr_officer"), api("head")
    case = accepted(api, people)
    assert case["workflow"]["name"] == "食品经营许可并联审批"
    assert hr_officer.get(f"/cases/{case['id']}").status_code == 404
    [review] = inbox(officer, item=TIME_LIMITED)
    case = ok(officer.post(f"/tasks/{review['id']}/act", {"action": "approve"}))
    assert sorted(t["step_key"] for t in case["tasks"] if t["status"] == "open") == [
        "health", "social"]

    # The other department now has its step, and sees the case (masked: not its own case).
    [social] = inbox(hr_officer)
    assert (social["step_key"], social["department"]["name"]) == ("social", "兰州市人力资源和社会保障局")
    seen = ok(hr_officer.get(f"/cases/{case['id']}"))
    assert seen["applicant"]["id_number"] == "6201**********7770"
    assert case["id"] in [c["id"] for c in ok(hr_officer.get("/cases"))["items"]]

    [health] = inbox(officer2)
    case = ok(officer2.post(f"/tasks/{health['id']}/act", {"action": "approve"}))
    # 并联: the decision waits for the other department.
    assert [t["step_key"] for t in case["tasks"] if t["status"] == "open"] == ["social"]
    assert inbox(head) == []
    case = ok(hr_officer.post(f"/tasks/{social['id']}/act", {"action": "approve"}))
    [decide] = inbox(head)
    assert decide["step_key"] == "decide"
    case = ok(head.post(f"/tasks/{decide['id']}/act", {"action": "approve"}))
    assert case["status"] == "approved"
    assert [(t["step_key"], t["outcome"]) for t in case["tasks"]] == [
        ("review", "approve"), ("health", "approve"), ("social", "approve"), ("decide", "approve")]


# --- the inbox --------------------------------------------------------------------------------

def test_inbox_claim_assign_and_transfer(api: Any, overseers: dict[str, User]) -> None:
    people = overseers
    officer, officer2, head = api("officer"), api("officer2"), api("head")
    case = accepted(api, people)
    [task] = inbox(officer)
    assert (task["case_number"], task["case_version"], task["step_key"], task["assignee"]) == (
        case["number"], case["version"], "review", None)
    assert (task["item_name"], task["applicant_name"], task["case_status"]) == (
        "食品经营许可（新办）", "张三", "accepted")
    assert [t["id"] for t in inbox(officer2)] == [task["id"]]
    assert inbox(head) == []  # a review step is an officer's
    assert [t["id"] for t in inbox(head, scope="department")] == [task["id"]]
    assert api("officer").get("/inbox", {"scope": "department"}).status_code == 403
    assert inbox(api("citizen")) == [] and inbox(api("hr_officer")) == []

    # Someone who may not see the case does not see the task either; the applicant may not claim.
    assert api("other").post(f"/tasks/{task['id']}/claim").status_code == 404
    response = api("citizen").post(f"/tasks/{task['id']}/claim")
    assert response.status_code == 403 and response.json() == {"detail": "您不能认领该任务"}

    claimed = ok(officer2.post(f"/tasks/{task['id']}/claim"))
    assert claimed["assignee"] == "officer2"
    assert inbox(officer) == [] and [t["id"] for t in inbox(officer2)] == [task["id"]]
    assert problems(officer.post(f"/tasks/{task['id']}/claim")) == [("task", "该任务已被其他人认领")]
    response = officer.post(f"/tasks/{task['id']}/act", {"action": "approve"})
    assert response.status_code == 403  # only the assignee acts on an assigned task

    # The head assigns it; the holder transfers it; anyone else may not.
    assert ok(head.post(f"/tasks/{task['id']}/assign", {"to": people["officer"].pk,
                                                       "reason": "熟悉该企业"}))["assignee"] == "officer"
    response = officer2.post(f"/tasks/{task['id']}/assign", {"to": people["officer2"].pk})
    assert response.status_code == 403
    assert response.json() == {"detail": "只有部门负责人或当前办理人可以分派、转办"}
    assert ok(officer.post(f"/tasks/{task['id']}/assign",
                           {"to": people["officer2"].pk}))["assignee"] == "officer2"
    assert problems(head.post(f"/tasks/{task['id']}/assign", {"to": people["hr_officer"].pk})) == [
        ("assignee", "只能交给本部门同一角色的工作人员")]
    assert problems(head.post(f"/tasks/{task['id']}/assign", {"to": 987654})) == [("to", "用户不存在")]
    assert StepTask.objects.get(pk=task["id"]).assignee == people["officer2"]
    assert list(AuditRecord.objects.filter(action="task.assigned").values_list(
        "detail__to", flat=True)) == [people["officer"].pk, people["officer2"].pk]

    case = ok(officer2.post(f"/tasks/{task['id']}/act", {"action": "approve"}))
    assert case["status"] == "accepted" and inbox(officer2) == []


def test_inbox_is_sorted_by_due_and_filtered(api: Any, overseers: dict[str, User]) -> None:
    people = overseers
    slow = accepted(api, people, TIME_LIMITED)
    fast = accepted(api, people, SAME_DAY)
    officer = api("officer")
    entries = inbox(officer)
    assert [e["case_id"] for e in entries] == [fast["id"], slow["id"]]
    assert datetime.fromisoformat(entries[0]["due_at"]) <= datetime.fromisoformat(entries[1]["due_at"])
    assert [e["case_id"] for e in inbox(officer, item=SAME_DAY)] == [fast["id"]]
    assert inbox(officer, step="decide") == []
    assert inbox(officer, deadline_state="red") == []
    states = {e["deadline_state"] for e in entries}
    assert len(inbox(officer, deadline_state=entries[0]["deadline_state"])) == \
        sum(e["deadline_state"] == entries[0]["deadline_state"] for e in entries)
    assert states <= {"green", "yellow"}
    assert problems(officer.get("/inbox", {"deadline_state": "late"})) == [
        ("deadline_state", "时限状态须为green、yellow或red")]
