"""GET /api/v1/cases/{id} answers from a detail kept per state of the case (``cases.detail``):
the same bytes as rendering the full read, for every reader; visibility, masking and the audit
of staff reads on every request; every change to the case seen at once."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone
from ninja.renderers import JSONRenderer

from tests.cases.conftest import (
    TIME_LIMITED,
    api_create,
    api_upload_all,
    applicant_body,
    named_pdf,
    ok,
)
from tongban.accounts.models import User
from tongban.audit.models import AuditRecord
from tongban.cases import api as cases_api
from tongban.cases.models import Case

pytestmark = pytest.mark.django_db


def rendered(user: User, case_id: int) -> bytes:
    """What the endpoint rendered before the detail was kept: the full read through the
    schema (``api.detail``), as Ninja renders it."""
    out = cases_api.detail(SimpleNamespace(user=user), case_id)  # type: ignore[arg-type]
    return JSONRenderer().render(None, out.model_dump(), response_status=200).encode()  # type: ignore[arg-type]


def viewed(case_id: int, number: str) -> int:
    return AuditRecord.objects.filter(action="case.viewed", object_type="case",
                                      object_id__in=[str(case_id), number]).count()


def submitted(api: Any, people: dict[str, User]) -> dict[str, Any]:
    client = api("citizen")
    case = api_upload_all(client, api_create(client, TIME_LIMITED,
                                             applicant=applicant_body(people["citizen"])))
    return ok(client.post(f"/cases/{case['id']}/submit"))


def test_the_kept_detail_is_the_full_read_for_every_reader_and_state(
        api: Any, overseers: dict[str, User]) -> None:
    people = overseers
    case = submitted(api, people)
    readers = ("citizen", "officer", "officer2", "head", "supervisor", "bureau")

    def check() -> None:
        for name in readers:
            for _ in range(2):  # rendered and kept, then from what was kept
                response = api(name).get(f"/cases/{case['id']}")
                assert response.status_code == 200, (name, response.content)
                assert response.content == rendered(people[name], case["id"]), name

    check()  # submitted, with its materials
    accepted = ok(api("officer").post(f"/cases/{case['id']}/accept"))
    check()  # accepted: a step open, a running clock, an acceptance notice
    [task] = [t for t in accepted["tasks"] if t["status"] == "open"]
    ok(api("officer").post(f"/tasks/{task['id']}/extension",
                           {"working_days": 3, "reason": "需现场核查"}))
    check()  # an extension waiting for the head: the head may extend, no second request
    assert "extend" in [a["code"] for a in ok(api("head").get(f"/cases/{case['id']}"))
                        ["available_actions"]]
    assert "extend" not in [a["code"] for a in ok(api("officer").get(f"/cases/{case['id']}"))
                            ["available_actions"]]


def test_another_department_is_refused_after_the_detail_was_kept(
        api: Any, people: dict[str, User]) -> None:
    case = submitted(api, people)
    full = ok(api("officer").get(f"/cases/{case['id']}"))
    assert full["applicant"]["id_number"] == people["citizen"].id_number
    records = viewed(case["id"], case["number"])
    for name in ("hr_officer", "hr_head", "clerk", "proxy", "other"):
        for ref in (case["id"], case["number"]):
            response = api(name).get(f"/cases/{ref}")
            assert response.status_code == 404, name
            assert response.json() == {"detail": "办件不存在，或您无权查看"}
    assert viewed(case["id"], case["number"]) == records  # a refused read reads nothing


def test_masking_follows_the_reader_whoever_read_first(
        api: Any, overseers: dict[str, User]) -> None:
    people = overseers
    case = submitted(api, people)
    whole, masked = people["citizen"].id_number, "6201**********7770"
    for name, expected in (("supervisor", masked), ("officer", whole), ("bureau", masked),
                           ("citizen", whole), ("supervisor", masked)):
        data = ok(api(name).get(f"/cases/{case['id']}"))
        assert data["applicant"]["id_number"] == expected, name
        assert data["applicant"]["phone"] == (people["citizen"].phone if expected == whole
                                              else "138****0001"), name


def test_every_staff_read_is_audited_the_applicants_own_are_not(
        api: Any, people: dict[str, User]) -> None:
    case = submitted(api, people)
    before = viewed(case["id"], case["number"])
    for _ in range(3):
        ok(api("officer").get(f"/cases/{case['id']}"))
    ok(api("head").get(f"/cases/{case['number']}"))
    ok(api("citizen").get(f"/cases/{case['id']}"))
    rows = AuditRecord.objects.filter(action="case.viewed").order_by("seq")
    assert viewed(case["id"], case["number"]) == before + 4
    assert [r.actor_id for r in rows][-4:] == [people["officer"].pk] * 3 + [people["head"].pk]
    assert {r.object_id for r in rows} == {case["number"]}


def test_a_change_to_the_case_is_seen_at_once(api: Any, people: dict[str, User]) -> None:
    client = api("citizen")
    draft = api_create(client, TIME_LIMITED, applicant=applicant_body(people["citizen"]))
    case = api_upload_all(client, draft, skip=1)
    case = ok(client.post(f"/cases/{case['id']}/submit"))
    officer = api("officer")
    path = f"/cases/{case['id']}"
    seen = ok(officer.get(path))
    assert len(seen["materials"]) == len(case["materials"])

    # An upload adds a material without a history event or a new version.
    first = seen["checklist"][0]
    response = client.upload(path + "/materials", {"material": first["material_id"],
                                                   "file": named_pdf(first["name"])})
    assert response.status_code == 201, response.content
    seen = ok(officer.get(path))
    assert len(seen["materials"]) == len(case["materials"]) + 1
    assert [e["state"] for e in seen["checklist"]].count("missing") == 0
    assert officer.get(path).content == rendered(people["officer"], case["id"])

    # A transition: status, version, history, notice, step.
    ok(officer.post(path + "/accept"))
    seen = ok(officer.get(path))
    assert seen["status"] == "accepted" and seen["notices"] and seen["tasks"]
    [task] = seen["tasks"]
    assert task["assignee"] is None

    # Claiming a step changes the step, not the case.
    assert api("officer2").post(f"/tasks/{task['id']}/claim").status_code == 200
    assert ok(officer.get(path))["tasks"][0]["assignee"] == "officer2"
    assert ok(api("officer2").get(path))["available_actions"] != \
        ok(officer.get(path))["available_actions"]

    # The due instant moved without an event (a recomputed calendar).
    due = timezone.now() + dt.timedelta(days=40)
    Case.objects.filter(pk=case["id"]).update(due_at=due)
    assert dt.datetime.fromisoformat(ok(officer.get(path))["due_at"]) == due.replace(
        microsecond=due.microsecond // 1000 * 1000)

    # A department renamed (in this process at once; elsewhere within the time limit).
    department = people["officer"].department
    assert department is not None
    department.name = "兰州市市场监管局（新）"
    department.save()
    assert ok(officer.get(path))["department"]["name"] == "兰州市市场监管局（新）"
    assert officer.get(path).content == rendered(people["officer"], case["id"])


def test_an_entry_of_another_state_is_never_kept(api: Any, people: dict[str, User],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """When the case changes between the row read for the key and the full read, the answer
    is the full read and nothing is kept under the older state's key."""
    from tongban.cases import detail, selectors

    case = submitted(api, people)
    real = selectors.case_detail

    def changed_meanwhile(pk: int) -> Case:
        Case.objects.filter(pk=pk).update(version=99)
        return real(pk)

    monkeypatch.setattr(selectors, "case_detail", changed_meanwhile)
    detail.kept_details.clear()
    assert ok(api("officer").get(f"/cases/{case['id']}"))["version"] == 99
    monkeypatch.setattr(selectors, "case_detail", real)
    # Had the version-99 answer been kept under the first state's key, this would show it.
    Case.objects.filter(pk=case["id"]).update(version=case["version"])
    assert ok(api("officer").get(f"/cases/{case['id']}"))["version"] == case["version"]
    assert ok(api("officer").get(f"/cases/{case['id']}")) == ok(api("officer").get(
        f"/cases/{case['id']}"))
    assert detail.TIMEOUT > 0


def test_a_kept_read_is_three_statements(api: Any, people: dict[str, User]) -> None:
    """The token with its user, the case row with its last material, the audit record; a case
    with a workflow adds its steps and the calendar's version (its clock runs). (Fifteen before
    the detail was kept.)"""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    case = submitted(api, people)
    officer = api("officer")
    ok(officer.get(f"/cases/{case['id']}"))  # kept now (and the token's use noted)
    with CaptureQueriesContext(connection) as queries:
        ok(officer.get(f"/cases/{case['id']}"))
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    assert statements == ["SELECT", "SELECT", "INSERT"], queries.captured_queries
    ok(officer.post(f"/cases/{case['id']}/accept"))
    ok(officer.get(f"/cases/{case['id']}"))
    with CaptureQueriesContext(connection) as queries:
        assert ok(officer.get(f"/cases/{case['id']}"))["tasks"]
    assert len(queries.captured_queries) == 5, "\n".join(q["sql"][:150] for q in queries.captured_queries)
