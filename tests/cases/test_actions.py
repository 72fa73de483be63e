"""``available_actions`` as clients and templates see it: in the case detail of the API, and
the by-name lookups templates use instead of comparing strings."""

from __future__ import annotations

from typing import Any

import pytest
from django.template import Context, Template
from django.utils import timezone

from tests.cases.conftest import TIME_LIMITED, api_create, api_upload_all, applicant_body
from tests.cases.test_transitions import reach
from tongban.accounts.models import User
from tongban.cases import services
from tongban.cases import workbench_selectors as bench
from tongban.cases.actions import Action, Actions
from tongban.cases.models import Case, HaltGround, Status

pytestmark = pytest.mark.django_db


def codes(case: dict[str, Any]) -> list[str]:
    return [a["code"] for a in case["available_actions"]]


def test_the_case_detail_lists_what_the_caller_may_do_now(
        api: Any, people: dict[str, User]) -> None:
    citizen, officer, head = api("citizen"), api("officer"), api("head")
    draft = api_create(citizen, TIME_LIMITED, applicant=applicant_body(people["citizen"]))
    assert codes(draft) == ["submit", "withdraw"]
    assert draft["available_actions"][0] == {"code": "submit", "label": "提交", "task_id": None,
                                             "ops": []}
    draft = api_upload_all(citizen, draft)
    submitted = citizen.post(f"/cases/{draft['id']}/submit", {}).json()
    assert codes(submitted) == ["withdraw"]
    number = submitted["number"]
    assert codes(officer.get(f"/cases/{number}").json()) == [
        "pre_review", "request_supplement", "accept", "refuse", "record_visit"]
    # Another department's officer does not see the case at all; a head may terminate only
    # once the case is accepted.
    assert api("hr_officer").get(f"/cases/{number}").status_code == 404
    assert "terminate" not in codes(head.get(f"/cases/{number}").json())

    accepted = officer.post(f"/cases/{number}/accept", {}).json()
    review = next(t for t in accepted["tasks"] if t["status"] == "open")
    steps = [a for a in accepted["available_actions"] if a["task_id"] is not None]
    assert [(a["code"], a["task_id"]) for a in steps] == [
        ("step", review["id"]), ("suspend", review["id"]), ("request_extension", review["id"])]
    assert steps[0]["ops"] == review["actions"]
    assert codes(head.get(f"/cases/{number}").json()) == [
        "request_supplement", "halt", "terminate", "record_visit"]
    assert codes(citizen.get(f"/cases/{number}").json()) == ["withdraw"]


def test_templates_ask_by_name_and_a_wrong_name_is_an_error() -> None:
    case = Case(status=Status.HALTED)
    may = Actions((Action(code="resume", label="恢复计时"),))
    page = Template("{% if case.status_is.halted %}中止{% endif %}{% if may.resume %}，可恢复{% endif %}"
                    "{% if may.deliver %}，可送达{% endif %}")
    assert page.render(Context({"case": case, "may": may})) == "中止，可恢复"
    assert "resume" in may and "deliver" not in may and next(iter(may)).label == "恢复计时"
    with pytest.raises(LookupError):
        Template("{% if case.status_is.stopped %}x{% endif %}").render(Context({"case": case}))
    with pytest.raises(LookupError):
        Template("{% if may.approve_all %}x{% endif %}").render(Context({"may": may}))


def test_the_workbench_offers_a_step_s_operations_only_as_the_status_allows(
        people: dict[str, User]) -> None:
    officer = people["officer"]
    case = reach(Status.ACCEPTED, people)
    case.refresh_from_db()

    def ops() -> tuple[str, ...]:
        sc = bench.staff_case(officer, case.number or "", now=timezone.now())
        assert sc is not None
        [step] = sc.open_steps
        return step.actions

    assert ops() == ("approve", "supplement", "suspend", "extend")
    services.case_halt(actor=officer, case=case, ground=HaltGround.LEGAL, reason="法定事由")
    assert ops() == ()  # halted: nothing until it resumes
    services.case_resume(actor=officer, case=case)
    [review] = case.tasks.filter(status="open")
    services.case_suspend(actor=officer, task=review, procedure="testing", reason="需检测",
                          expected_working_days=3)
    assert ops() == ("extend",)  # a special procedure: only an extension
    services.case_request_extension(actor=officer, task=review, working_days=2, reason="复杂")
    assert ops() == ()  # …and not a second one while the first waits for the head
