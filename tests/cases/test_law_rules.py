"""Rules of the Administrative Licensing Law on cases: acceptance by law after five working days
without an answer (Art. 32), the one-time supplement notice (一次性告知), special procedures
(Art. 45) and suspension (中止)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.cases.conftest import (
    TIME_LIMITED,
    api_create,
    api_upload_all,
    applicant_body,
    form,
    item,
    pdf,
)
from tests.conftest import Freeze
from tongban.accounts.models import User
from tongban.audit.models import AuditRecord
from tongban.cases import services, tasks
from tongban.cases.materials import case_material_add
from tongban.cases.models import Case, CaseEvent, Channel, ClockStop, Notice, Status
from tongban.cases.notifications.models import Notification
from tongban.cases.services import ApplicantData, SupplementItem
from tongban.cases.workflows.models import StepTask
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.supervision.models import SupervisionRecord

pytestmark = pytest.mark.django_db

BJ = dt.timezone(dt.timedelta(hours=8))


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0,
         second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=BJ)


def submitted_case(people: dict[str, User], when: dt.datetime, freeze: Freeze) -> Case:
    """An online application (食品经营许可, 3 working days) with every material, submitted at
    ``when`` and not answered."""
    citizen = people["citizen"]
    freeze(when)
    case = services.case_create(
        actor=citizen, item=item(TIME_LIMITED), channel=Channel.ONLINE, form_data=form(),
        applicant=ApplicantData(kind="natural_person", name=citizen.real_name,
                                id_number=citizen.id_number, phone=citizen.phone))
    for m in case.item_version.materials.all():
        case_material_add(actor=citizen, case=case, material=m, name=m.name, upload=pdf(),
                          original_name="a.pdf")
    services.case_submit(actor=citizen, case=case)
    case.refresh_from_db()
    return case


@pytest.fixture
def sweep(freeze: Freeze, django_capture_on_commit_callbacks: Any) -> Any:
    """Run the scheduled deadline sweep task as the worker does, at the instant given."""

    def run(now: dt.datetime) -> dict[str, int]:
        freeze(now)
        with django_capture_on_commit_callbacks(execute=True):
            result: dict[str, int] = tasks.sweep_deadlines.call()
        return result

    return run


def page_text(client: Client, user: User, url: str) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", " ", response.content.decode()))


# --- Art. 32: accepted by law ------------------------------------------------------------------

def test_an_application_unanswered_for_five_working_days_is_accepted_by_law(
    people: dict[str, User], freeze: Freeze, sweep: Any, client: Client
) -> None:
    # Received Monday 2 March 2026 at 10:00; the five working days end Monday 9 March at close
    # (the weekend in between does not count).
    case = submitted_case(people, at(2026, 3, 2, 10, 0), freeze)
    assert sweep(at(2026, 3, 9, 17, 29))["accepted_by_law"] == 0
    case.refresh_from_db()
    assert (case.status, case.accepted_at) == (Status.SUBMITTED, None)

    result = sweep(at(2026, 3, 9, 17, 31))
    assert result["accepted_by_law"] == 1
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED
    # The clock runs from receipt: three working days from Monday 2 March, so already overdue.
    assert case.accepted_at == at(2026, 3, 2, 10, 0)
    assert case.due_at == at(2026, 3, 5, 17, 30)
    assert case.deadline_state == "red"
    event = case.events.get(action="accept_by_law")
    assert (event.from_status, event.to_status, event.actor_name) == ("submitted", "accepted",
                                                                      "system")
    assert event.reason == ("自2026-03-02 10:00收到申请材料起五个工作日内（至2026-03-09 17:30）未作出受理、"
                            "不予受理或补正告知，依据《中华人民共和国行政许可法》第三十二条，"
                            "自收到申请材料之日起即为受理")
    assert AuditRecord.objects.filter(action="case.accept_by_law", object_id=case.number).count() == 1
    # The applicant is told, and the acceptance notice says why.
    assert list(Notification.objects.filter(recipient=people["citizen"], case=case)
                .values_list("subject", flat=True)).count("您的申请已依法视为受理") == 1
    notice = case.notices.get(kind=Notice.Kind.ACCEPTANCE)
    assert notice.body["by_law"] is True
    text = page_text(client, people["citizen"], reverse("cases:notice",
                                                        args=[case.number, notice.number]))
    assert "依据《中华人民共和国行政许可法》第三十二条，自收到申请材料之日起即为受理" in text
    # The workflow runs; the department has a red supervision record.
    assert list(StepTask.objects.filter(case=case, status="open").values_list(
        "step_key", flat=True)) == ["review"]
    [record] = SupervisionRecord.objects.filter(case=case, kind="accepted_by_law")
    assert record.department.name == "兰州市市场监督管理局"
    assert record.get_kind_display() == "办件红牌：逾期未作受理决定（依法视为受理）"

    # Idempotent: the next sweep changes nothing.
    assert sweep(at(2026, 3, 9, 17, 40))["accepted_by_law"] == 0
    assert case.events.filter(action="accept_by_law").count() == 1
    assert SupervisionRecord.objects.filter(case=case, kind="accepted_by_law").count() == 1


def test_an_answered_application_is_not_accepted_by_law_and_a_supply_restarts_the_five_days(
    people: dict[str, User], freeze: Freeze, sweep: Any
) -> None:
    officer, citizen = people["officer"], people["citizen"]
    refused = submitted_case(people, at(2026, 3, 2, 10, 0), freeze)
    services.case_refuse(actor=officer, case=refused, reason="不属于本机关职权范围，请向区局申请")
    case = submitted_case(people, at(2026, 3, 2, 10, 0), freeze)
    material = case.item_version.materials.first()
    assert material is not None
    freeze(at(2026, 3, 3, 10, 0))
    services.case_request_supplement(actor=officer, case=case, items=[
        SupplementItem(name=material.name, reason="复印件不清晰", material_id=material.pk)])
    # A notice left unsupplied is an answer: nothing happens however long it waits.
    assert sweep(at(2026, 3, 20, 10, 0))["accepted_by_law"] == 0
    # Supplied on Friday 20 March: five new working days, to Friday 27 March at close.
    freeze(at(2026, 3, 20, 11, 0))
    case_material_add(actor=citizen, case=case, material=material, name=material.name,
                      upload=pdf(), original_name="b.pdf")
    services.case_supply(actor=citizen, case=case)
    assert sweep(at(2026, 3, 27, 17, 0))["accepted_by_law"] == 0
    assert sweep(at(2026, 3, 27, 17, 31))["accepted_by_law"] == 1
    case.refresh_from_db()
    refused.refresh_from_db()
    assert (case.status, case.accepted_at) == (Status.ACCEPTED, at(2026, 3, 20, 11, 0))
    assert refused.status == Status.REFUSED


# --- 一次性告知 -----------------------------------------------------------------------------------

def test_a_second_notice_may_only_name_what_an_earlier_notice_named(
    api: Any, people: dict[str, User]
) -> None:
    citizen, officer = api("citizen"), api("officer")
    case = api_upload_all(citizen, api_create(citizen, TIME_LIMITED,
                                              applicant=applicant_body(people["citizen"])))
    case = citizen.post(f"/cases/{case['id']}/submit").json()
    first, second = case["checklist"][0], case["checklist"][1]
    response = officer.post(f"/cases/{case['id']}/supplement", {"items": [
        {"name": first["name"], "reason": "复印件不清晰", "material_id": first["material_id"]}]})
    assert response.status_code == 200, response.content
    response = citizen.upload(f"/cases/{case['id']}/materials",
                              {"material": first["material_id"], "file": pdf()})
    assert response.status_code == 201, response.content
    case = citizen.post(f"/cases/{case['id']}/supply").json()
    assert case["status"] == "submitted"

    # Asking now for a material the first notice did not name is refused, and put on record.
    response = officer.post(f"/cases/{case['id']}/supplement", {"items": [
        {"name": second["name"], "reason": "须加盖公章", "material_id": second["material_id"]},
        {"name": first["name"], "reason": "仍不清晰", "material_id": first["material_id"]}]})
    assert response.status_code == 422
    assert [(p["field"], p["message"]) for p in response.json()["detail"]] == [
        ("items[0].name", f"一次性告知：“{second['name']}”未在本办件此前的补正告知书中列明，"
                          "不能再次要求补正；再次告知只能针对已告知、补正后仍不符合要求的材料")]
    stored = Case.objects.get(pk=case["id"])
    assert (stored.status, stored.version) == ("submitted", case["version"])
    assert stored.notices.filter(kind=Notice.Kind.SUPPLEMENT).count() == 1
    [record] = SupervisionRecord.objects.filter(case=stored)
    assert (record.kind, record.department.name, record.person_id) == (
        "supplement_not_one_time", "兰州市市场监督管理局", people["officer"].pk)
    assert record.detail == f"办件{stored.number}再次要求补正此前未告知的材料：{second['name']}"
    assert AuditRecord.objects.filter(action="case.supplement_not_one_time",
                                      object_id=stored.number).count() == 1

    # The material named before, supplied but still not right, may be asked for again.
    response = officer.post(f"/cases/{case['id']}/supplement", {"items": [
        {"name": first["name"], "reason": "仍不清晰", "material_id": first["material_id"]}]})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "supplement"
    assert stored.notices.filter(kind=Notice.Kind.SUPPLEMENT).count() == 2


# --- special procedures and suspension -------------------------------------------------------------

def accepted(people: dict[str, User], freeze: Freeze) -> Case:
    case = submitted_case(people, at(2026, 3, 2, 9, 0), freeze)
    services.case_accept(actor=people["officer"], case=case)
    case.refresh_from_db()
    return case


def test_a_special_procedure_needs_its_kind_and_duration_and_is_told_in_writing(
    people: dict[str, User], freeze: Freeze, client: Client
) -> None:
    case = accepted(people, freeze)
    review = StepTask.objects.get(case=case, status="open")
    with pytest.raises(RuleViolation) as refused:
        services.case_suspend(actor=people["officer"], task=review, procedure="site_visit",
                              reason="组织专家评审", expected_working_days=None)
    assert [(p.field, str(p.message)) for p in refused.value.problems] == [
        ("procedure", "须选择特别程序种类：听证、招标、拍卖、检验、检测、检疫、鉴定、专家评审"),
        ("expected_working_days", "须书面告知特别程序所需时间：填写1至365个工作日")]
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED and not ClockStop.objects.filter(case=case).exists()

    services.case_suspend(actor=people["officer"], task=review, procedure="hearing",
                          reason="申请人申请听证", expected_working_days=20)
    stop = ClockStop.objects.get(case=case)
    assert (stop.kind, stop.procedure, stop.expected_working_days) == (
        "special_procedure", "hearing", 20)
    notice = case.notices.get(kind=Notice.Kind.SUSPENSION)
    text = page_text(client, people["citizen"], reverse("cases:notice",
                                                        args=[case.number, notice.number]))
    assert "特别程序种类听证" in text
    assert "特别程序种类：听证（《中华人民共和国行政许可法》第四十五条）" in text
    assert "特别程序预计需要20个工作日，所需时间不计入办理时限。" in text


def test_a_case_is_suspended_with_its_ground_and_notice_and_resumed(
    api: Any, people: dict[str, User], client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    citizen, officer = api("citizen"), api("officer")
    case = api_upload_all(citizen, api_create(citizen, TIME_LIMITED,
                                              applicant=applicant_body(people["citizen"])))
    citizen.post(f"/cases/{case['id']}/submit")
    case = officer.post(f"/cases/{case['id']}/accept").json()
    number, due = case["number"], case["due_at"]

    response = officer.post(f"/cases/{number}/halt", {"reason": "申请人申请暂缓办理"})
    assert response.status_code == 422
    assert [(p["field"], p["message"]) for p in response.json()["detail"]] == [
        ("ground", "须选择中止事由类型：法定事由或申请人申请")]
    assert citizen.post(f"/cases/{number}/halt", {"ground": "applicant",
                                                  "reason": "x"}).status_code == 403

    with django_capture_on_commit_callbacks(execute=True):
        response = officer.post(f"/cases/{number}/halt", {
            "ground": "applicant", "reason": "申请人书面申请暂缓办理，待补办产权证明",
            "expected_version": case["version"]})
    assert response.status_code == 200, response.content
    case = response.json()
    assert (case["status"], case["status_label"]) == ("halted", "中止（暂停计时）")
    [stop] = case["clock_stops"]
    assert (stop["kind"], stop["ground"], stop["ground_label"], stop["ended_at"]) == (
        "suspension", "applicant", "申请人申请", None)
    [notice] = [n for n in case["notices"] if n["kind"] == "halt"]
    assert notice["number"] == f"ZZ{number}-1"
    text = page_text(client, people["citizen"], reverse("cases:notice", args=[number, notice["number"]]))
    assert "中止办理告知书" in text and "中止事由类型申请人申请" in text
    assert "中止理由：申请人书面申请暂缓办理，待补办产权证明" in text
    assert "您的办件已中止办理" in Notification.objects.filter(
        recipient=people["citizen"]).values_list("subject", flat=True)
    # Stopped: no step action, no second stop.
    assert officer.post(f"/cases/{number}/halt", {"ground": "legal",
                                                  "reason": "x"}).status_code == 409

    response = officer.post(f"/cases/{number}/resume", {"expected_version": case["version"]})
    assert response.status_code == 200, response.content
    case = response.json()
    assert case["status"] == "accepted" and case["clock_stops"][0]["ended_at"] is not None
    assert dt.datetime.fromisoformat(case["due_at"]) >= dt.datetime.fromisoformat(due)
    assert [e["action"] for e in case["history"]][-2:] == ["halt", "resume"]


def test_the_workbench_suspends_and_resumes_a_case(people: dict[str, User],
                                                   freeze: Freeze) -> None:
    case = accepted(people, freeze)
    client = Client()
    client.force_login(people["officer"])
    url = reverse("cases:staff_case_act", args=[case.number])
    page = client.get(reverse("cases:staff_case", args=[case.number])).content.decode()
    assert 'value="halt"' in page
    bad = client.post(url, {"op": "halt", "version": case.version, "ground": "legal"})
    assert bad.status_code == 422 and "须填写中止理由" in bad.content.decode()
    done = client.post(url, {"op": "halt", "version": case.version, "ground": "legal",
                             "reason": "申请人死亡，需确定继承人"})
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.HALTED
    page = client.get(reverse("cases:staff_case", args=[case.number])).content.decode()
    assert "结束中止，恢复计时" in page
    client.post(url, {"op": "resume", "version": case.version})
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED
    assert list(CaseEvent.objects.filter(case=case).values_list("action", flat=True))[-2:] == [
        "halt", "resume"]


def test_only_department_staff_suspend(people: dict[str, User],
                                       freeze: Freeze) -> None:
    case = accepted(people, freeze)
    with pytest.raises(AccessDenied):
        services.case_halt(actor=people["hr_officer"], case=case, ground="legal", reason="x")
