"""The case page of the workbench (``cases:staff_case``): what staff see, and the actions of the
current step through ``cases:staff_case_act``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.http import FileResponse
from django.urls import reverse

from tests.cases.test_workbench_inbox import accepted_case, client_for, open_task
from tongban.accounts.models import User
from tongban.cases.models import Case, CaseEvent, ClockStop, Notice, Status
from tongban.cases.workflows.models import StepTask

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse

pytestmark = pytest.mark.django_db


def act(user: User, case: Case, op: str, **data: object) -> _MonkeyPatchedWSGIResponse:
    case.refresh_from_db()
    body = {"op": op, "version": case.version, **data}
    return client_for(user).post(reverse("cases:staff_case_act", args=[case.number]), body)


def test_officer_approves_head_decides_and_the_result_is_delivered(people: dict[str, User]) -> None:
    case = accepted_case(people)
    review = open_task(case)
    page = client_for(people["officer"]).get(reverse("cases:staff_case", args=[case.number]))
    text = page.content.decode()
    assert page.status_code == 200 and "审查" in text and "通过" in text and "申请延期" in text
    assert "620102199003077770" in text  # the handling department sees the ID in full
    assert "开办餐饮店" in text  # form data

    response = act(people["officer"], case, "approve", task=review.pk, reason="材料齐全")
    assert response.status_code == 302
    decide = open_task(case)
    assert decide.step_key == "decide" and decide.role == "head"
    act(people["head"], case, "approve", task=decide.pk, reason="符合条件")
    case.refresh_from_db()
    assert case.status == Status.APPROVED
    act(people["officer"], case, "deliver", delivery="online")
    case.refresh_from_db()
    assert case.status == Status.DELIVERED and case.delivery == "online"
    page = client_for(people["officer"]).get(reverse("cases:staff_case", args=[case.number]))
    text = page.content.decode()
    assert "准予办理" in text and "已送达" in text and "办理决定书" in text
    assert "办理：审查（通过）" in text and "材料齐全" in text  # the history names the step


def test_a_stale_version_shows_the_conflict_and_changes_nothing(people: dict[str, User]) -> None:
    case = accepted_case(people)
    review = open_task(case)
    stale = case.version
    act(people["officer"], case, "extend", task=review.pk, working_days=3, reason="需现场核查")
    case.refresh_from_db()
    version, events = case.version, case.events.count()
    response = client_for(people["officer"]).post(
        reverse("cases:staff_case_act", args=[case.number]),
        {"op": "approve", "task": review.pk, "version": stale})
    assert response.status_code == 409
    assert "该办件已被他人处理" in response.content.decode()
    case.refresh_from_db()
    review.refresh_from_db()
    assert (case.version, case.events.count(), review.status) == (version, events, "open")


def test_deny_needs_a_reason_named_on_the_form(people: dict[str, User]) -> None:
    case = accepted_case(people)
    act(people["officer"], case, "approve", task=open_task(case).pk)
    decide = open_task(case)
    response = act(people["head"], case, "deny", task=decide.pk, reason="  ")
    assert response.status_code == 422
    assert "须填写理由" in response.content.decode() or \
        "须填写不予办理的理由" in response.content.decode()
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED and open_task(case).pk == decide.pk
    act(people["head"], case, "deny", task=decide.pk, reason="经营场所不符合要求")
    case.refresh_from_db()
    assert case.status == Status.DENIED and case.decision_reason == "经营场所不符合要求"


def test_return_sends_the_case_back_to_review(people: dict[str, User]) -> None:
    case = accepted_case(people)
    act(people["officer"], case, "approve", task=open_task(case).pk)
    decide = open_task(case)
    act(people["head"], case, "return", task=decide.pk, return_to="review", reason="补充核查")
    assert open_task(case).step_key == "review"


def test_one_time_supplement_lists_each_material_with_its_reason(people: dict[str, User]) -> None:
    case = accepted_case(people)
    review = open_task(case)
    material = case.item_version.materials.first()
    assert material is not None
    missing_reason = act(people["officer"], case, "supplement", task=review.pk,
                         **{f"m{material.pk}": "on", f"r{material.pk}": ""})
    assert missing_reason.status_code == 422
    assert "须说明补正原因" in missing_reason.content.decode()
    nothing = act(people["officer"], case, "supplement", task=review.pk)
    assert "一次性告知须列出全部需补正的材料" in nothing.content.decode()
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED and not case.notices.filter(kind="supplement").exists()

    act(people["officer"], case, "supplement", task=review.pk,
        **{f"m{material.pk}": "on", f"r{material.pk}": "复印件不清晰",
           "extra_name": "租赁合同", "extra_reason": "须提供"})
    case.refresh_from_db()
    notice = case.notices.get(kind=Notice.Kind.SUPPLEMENT)
    assert case.status == Status.SUPPLEMENT
    assert notice.body["items"] == [
        {"name": material.name, "reason": "复印件不清晰", "material_id": material.pk},
        {"name": "租赁合同", "reason": "须提供", "material_id": None}]


def test_special_procedure_stops_the_clock_and_resume_restarts_it(people: dict[str, User]) -> None:
    case = accepted_case(people)
    review = open_task(case)
    bad = act(people["officer"], case, "suspend", task=review.pk, reason="专家评审")
    assert bad.status_code == 422
    assert "须填写预计所需工作日" in bad.content.decode()
    act(people["officer"], case, "suspend", task=review.pk, reason="专家评审",
        procedure="expert_review", expected_working_days=5)
    case.refresh_from_db()
    assert case.status == Status.SUSPENDED
    stop = ClockStop.objects.get(case=case)
    assert (stop.reason, stop.expected_working_days, stop.ended_at) == ("专家评审", 5, None)
    page = client_for(people["officer"]).get(reverse("cases:staff_case", args=[case.number]))
    assert "结束特别程序，恢复计时" in page.content.decode()
    act(people["officer"], case, "resume")
    case.refresh_from_db()
    stop.refresh_from_db()
    assert case.status == Status.ACCEPTED and stop.ended_at is not None


def test_another_department_gets_404_and_nothing_changes(people: dict[str, User]) -> None:
    case = accepted_case(people)
    review = open_task(case)
    hr = people["hr_officer"]
    assert client_for(hr).get(reverse("cases:staff_case", args=[case.number])).status_code == 404
    response = act(hr, case, "approve", task=review.pk)
    assert response.status_code == 404
    material = case.materials.first()
    assert material is not None
    url = reverse("cases:staff_material", args=[case.number, material.pk])
    assert client_for(hr).get(url).status_code == 404
    assert client_for(people["citizen"]).get(url).status_code == 403
    case.refresh_from_db()
    review.refresh_from_db()
    assert case.status == Status.ACCEPTED and review.status == "open"
    assert not CaseEvent.objects.filter(case=case, action="step").exists()


def test_a_colleague_who_did_not_claim_cannot_act(people: dict[str, User]) -> None:
    case = accepted_case(people)
    review = open_task(case)
    StepTask.objects.filter(pk=review.pk).update(assignee=people["officer"])
    response = act(people["officer2"], case, "approve", task=review.pk)
    assert response.status_code == 403
    review.refresh_from_db()
    assert review.status == "open"


def test_supervisors_see_identifiers_masked(overseers: dict[str, User]) -> None:
    case = accepted_case(overseers)
    page = client_for(overseers["supervisor"]).get(reverse("cases:staff_case", args=[case.number]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "620102199003077770" not in text and "6201**********7770" in text
    assert "13893100001" not in text and "138****0001" in text
    assert "已脱敏显示" in text and "通过" not in text.split("当前环节")[1].split("申请表")[0]


def test_material_preview_is_served_inline_to_the_department(people: dict[str, User]) -> None:
    case = accepted_case(people)
    material = case.materials.first()
    assert material is not None
    response = client_for(people["officer"]).get(
        reverse("cases:staff_material", args=[case.number, material.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert isinstance(response, FileResponse)
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_staff_reading_personal_data_is_audited_the_applicants_own_reads_are_not(
        people: dict[str, User]) -> None:
    from tongban.audit.models import AuditRecord

    case = accepted_case(people)
    record = case.materials.first()
    assert record is not None
    before = AuditRecord.objects.count()
    # The last number so far (numbers are a PostgreSQL sequence, not the count of records).
    last = AuditRecord.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    officer = client_for(people["officer"])
    assert officer.get(reverse("cases:staff_case", args=[case.number])).status_code == 200
    assert officer.get(reverse("cases:staff_material",
                               args=[case.number, record.pk])).status_code == 200
    reads = list(AuditRecord.objects.filter(seq__gt=last).order_by("seq")
                 .values_list("actor__username", "action", "object_id", "detail"))
    assert reads == [
        ("officer", "case.viewed", case.number, {"identifiers_in_full": True}),
        ("officer", "case.material_viewed", case.number, {"material": record.pk,
                                                          "name": record.name}),
    ]
    # The applicant reading their own case through the API leaves no record.
    citizen = client_for(people["citizen"])
    assert citizen.get(f"/api/v1/cases/{case.number}").status_code == 200
    assert AuditRecord.objects.count() == before + 2
