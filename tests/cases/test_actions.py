"""``available_actions`` as clients and templates see it: in the case detail of the API, and
the by-name lookups templates use instead of comparing strings."""

from __future__ import annotations

from typing import Any

import pytest
from django.template import Context, Template

from tests.cases.conftest import TIME_LIMITED, api_create, api_upload_all, applicant_body
from tongban.accounts.models import User
from tongban.cases.actions import Actions, Action
from tongban.cases.models import Case, Status

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
    assert "resume" in may and "deliver" not in may and list(may)[0].label == "恢复计时"
    with pytest.raises(LookupError):
        Template("{% if case.status_is.stopped %}x{% endif %}").render(Context({"case": case}))
    with pytest.raises(LookupError):
        Template("{% if may.approve_all %}x{% endif %}").render(Context({"may": may}))
