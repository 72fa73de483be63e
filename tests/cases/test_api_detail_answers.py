"""Every state-changing case call answers with exactly what ``GET /api/v1/cases/{id}`` answers
right after it; and the case detail's read compiled once (``cases.detail_reads``) gives what
the ORM's ``select_related``/``prefetch_related`` read gave, in every state a case goes
through."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db.models import Prefetch
from ninja.renderers import JSONRenderer

from tests.cases.conftest import (
    SAME_DAY,
    TIME_LIMITED,
    api_create,
    api_upload_all,
    applicant_body,
    form,
    named_pdf,
)
from tongban.accounts.models import User
from tongban.cases import selectors
from tongban.cases.forms import case_form_fields
from tongban.cases.models import Case, CaseEvent, CaseMaterial
from tongban.cases.schemas import CaseOut, case_out
from tongban.cases.workflows.models import StepTask

pytestmark = pytest.mark.django_db


def orm_detail(pk: int) -> Case:
    """The case detail's read as the ORM built it before it was compiled."""
    return (Case.objects
            .select_related("item", "item_version", "department", "receiving_unit", "hall",
                            "workflow", "applicant", "agent")
            .prefetch_related(
                Prefetch("materials", queryset=CaseMaterial.objects.order_by("pk")),
                "item_version__materials",
                Prefetch("events", queryset=CaseEvent.objects.select_related("actor")
                         .order_by("seq")),
                "notices",
                Prefetch("tasks", queryset=StepTask.objects.select_related(
                    "department", "assignee", "finished_by").order_by("opened_at", "pk")),
                "extensions__requested_by", "extensions__decided_by",
                "visit_records__hall", "visit_records__window", "clock_stops")
            .get(pk=pk))


def dumped(case: Case, full: bool) -> dict[str, Any]:
    form = case.form_data if full else selectors.mask_form_data(
        case.form_data, case_form_fields(case.form_data))
    states = {t.pk: t.status for t in case.tasks.all()}
    out = case_out(case, full_identifiers=full, form_data=form, task_states=states,
                   deadline_state="green")
    # Assembled from parts validated as they were built: the same as the whole validated.
    dump = out.model_dump()
    validated = CaseOut.model_validate(dump).model_dump()
    assert dump == validated
    assert render(dump) == render(validated)
    return dump


def render(value: Any) -> bytes:
    return JSONRenderer().render(None, value, response_status=200).encode()  # type: ignore[arg-type]


class Walk:
    """Calls the API as one persona after another; after each state-changing call, checks
    its answer against a GET by the same persona and the compiled read against the ORM's."""

    def __init__(self, api: Any) -> None:
        self.api = api
        self.checked: list[str] = []

    def __call__(self, who: str, path: str, body: dict[str, Any] | None = None, *,
                 status: int = 200, upload: bool = False) -> dict[str, Any]:
        client = self.api(who)
        response = (client.upload(path, body or {}) if upload else client.post(path, body or {}))
        assert response.status_code == status, (path, response.content)
        case: dict[str, Any] = response.json()
        again = client.get(f"/cases/{case['id']}")
        assert again.status_code == 200
        assert response.content == again.content, (path, response.json(), again.json())
        assert response["Content-Type"] == again["Content-Type"] == "application/json; charset=utf-8"
        for full in (True, False):
            assert dumped(selectors.case_detail(case["id"]), full) == \
                dumped(orm_detail(case["id"]), full), path
        self.checked.append(path.rsplit("/", 1)[-1])
        return case


def test_every_state_changing_answer_is_the_detail_read_right_after(
        api: Any, people: dict[str, User]) -> None:
    call = Walk(api)
    body = {"item": TIME_LIMITED, "channel": "online",
            "applicant": applicant_body(people["citizen"]), "form_data": form()}
    case = call("citizen", "/cases", body, status=201)  # a draft: its row and its history
    missing = case["checklist"][0]
    for entry in case["checklist"][1:]:
        case = call("citizen", f"/cases/{case['id']}/materials",
                    {"material": entry["material_id"], "file": named_pdf(entry["name"])},
                    status=201, upload=True)
    case = call("citizen", f"/cases/{case['id']}/submit", {"expected_version": case["version"]})
    case = call("officer", f"/cases/{case['id']}/pre-review")
    case = call("officer", f"/cases/{case['id']}/supplement", {
        "items": [{"name": missing["name"], "reason": "未提交申请书",
                   "material_id": missing["material_id"]}], "note": "请一次补齐"})
    case = call("citizen", f"/cases/{case['id']}/materials",
                {"material": missing["material_id"], "file": named_pdf("申请书")},
                status=201, upload=True)
    case = call("citizen", f"/cases/{case['id']}/supply")
    case = call("officer", f"/cases/{case['id']}/accept")  # steps, a running clock, a notice
    [task] = [t for t in case["tasks"] if t["status"] == "open"]
    case = call("officer", f"/tasks/{task['id']}/suspend", {
        "procedure": "expert_review", "reason": "需组织专家现场核查", "expected_working_days": 5})
    case = call("officer", f"/cases/{case['id']}/resume")
    case = call("officer", f"/cases/{case['id']}/halt",
                {"ground": "applicant", "reason": "申请人申请中止"})
    case = call("officer", f"/cases/{case['id']}/resume")
    case = call("officer", f"/tasks/{task['id']}/extension",
                {"working_days": 3, "reason": "需现场核查"})
    case = call("head", f"/extensions/{case['extensions'][0]['id']}/decide", {"approve": True})
    case = call("officer", f"/cases/{case['id']}/visits", {"purpose": "核验原件"}, status=201)
    case = call("officer", f"/tasks/{task['id']}/act", {"action": "approve"})
    [decide] = [t for t in case["tasks"] if t["status"] == "open"]
    case = call("head", f"/tasks/{decide['id']}/act", {"action": "approve", "reason": "合格"})
    case = call("officer", f"/cases/{case['id']}/deliver", {"delivery": "online"})
    assert case["status"] == "delivered"
    assert all(case[k] for k in ("notices", "extensions", "visits", "clock_stops", "materials"))

    other = call("citizen", "/cases", {**body, "item": SAME_DAY}, status=201)
    other = call("citizen", f"/cases/{other['id']}/withdraw", {"reason": "不再申请"})
    assert other["status"] == "withdrawn"
    assert len(call.checked) >= 20


def test_the_compiled_read_keeps_the_rows_order_and_related_rows(
        api: Any, people: dict[str, User]) -> None:
    citizen = api("citizen")
    case = api_upload_all(citizen, api_create(citizen, TIME_LIMITED,
                                              applicant=applicant_body(people["citizen"])))
    citizen.post(f"/cases/{case['id']}/submit")
    accepted = api("officer").post(f"/cases/{case['id']}/accept").json()
    found, orm = selectors.case_detail(case["id"]), orm_detail(case["id"])
    for name in ("materials", "events", "notices", "tasks", "extensions", "visit_records",
                 "clock_stops"):
        rows, expected = list(getattr(found, name).all()), list(getattr(orm, name).all())
        assert [r.pk for r in rows] == [r.pk for r in expected], name
        assert all(r.case is found for r in rows), name  # no read for the way back
    assert [m.pk for m in found.item_version.materials.all()] == \
        [m.pk for m in orm.item_version.materials.all()]
    assert [(t.department.name, t.assignee) for t in found.tasks.all()] == \
        [(t.department.name, t.assignee) for t in orm.tasks.all()]
    assert accepted["tasks"] and found.events.all()[0].actor == people["citizen"]


def test_a_case_that_does_not_exist_is_absent() -> None:
    with pytest.raises(Case.DoesNotExist):
        selectors.case_detail(987_654_321)


def test_a_draft_is_read_in_two_statements(api: Any, people: dict[str, User],
                                           django_assert_num_queries: Any) -> None:
    case = api_create(api("citizen"), TIME_LIMITED, applicant=applicant_body(people["citizen"]))
    selectors.case_detail(case["id"])  # the item version's checklist, once per process
    with django_assert_num_queries(2):  # the case with its flags, its history
        found = selectors.case_detail(case["id"])
    assert [e.action for e in found.events.all()] == ["create"]
    assert found.created_at <= dt.datetime.now(dt.UTC)


def test_an_answer_checks_the_calendar_and_the_office_hours_once(
        api: Any, people: dict[str, User]) -> None:
    from types import SimpleNamespace

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tongban.cases import api as cases_api

    citizen = api("citizen")
    case = api_upload_all(citizen, api_create(citizen, TIME_LIMITED,
                                              applicant=applicant_body(people["citizen"])))
    citizen.post(f"/cases/{case['id']}/submit")
    accepted = api("officer").post(f"/cases/{case['id']}/accept").json()
    assert accepted["due_at"] and [t for t in accepted["tasks"] if t["status"] == "open"]
    with CaptureQueriesContext(connection) as queries:
        out = cases_api.detail(SimpleNamespace(user=people["officer"]),  # type: ignore[arg-type]
                               case["id"])
    sql = [q["sql"] for q in queries.captured_queries]
    # The case's clock and its open step's: one check each, not one per deadline computed.
    assert sum("clock_calendarversion" in s for s in sql) <= 1, sql
    assert sum("organizations_officehoursstamp" in s for s in sql) <= 1, sql
    assert out.deadline_state == accepted["deadline_state"]
    assert [t.deadline_state for t in out.tasks] == [t["deadline_state"] for t in accepted["tasks"]]
