"""受理 of an online application on the workbench: the department's officer finds it under
待受理, then pre-reviews it, sends the one-time supplement notice, accepts or refuses it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.cases.conftest import TIME_LIMITED, form, item, pdf
from tests.cases.test_workbench_case import act
from tests.cases.test_workbench_inbox import applicant, client_for
from tongban.accounts.models import User
from tongban.cases import services
from tongban.cases.materials import case_material_add
from tongban.cases.models import Case, Channel, Notice, Status

pytestmark = pytest.mark.django_db


def submitted_case(people: dict[str, User], *, skip_first: bool = False) -> Case:
    """The citizen's online application, submitted (without its first material if asked)."""
    citizen = people["citizen"]
    case = services.case_create(actor=citizen, item=item(TIME_LIMITED), channel=Channel.ONLINE,
                                applicant=applicant(citizen), form_data=form())
    for n, m in enumerate(case.item_version.materials.all()):
        if not (skip_first and n == 0):
            case_material_add(actor=citizen, case=case, material=m, name=m.name, upload=pdf(),
                              original_name=f"{m.name}.pdf")
    services.case_submit(actor=citizen, case=case)
    case.refresh_from_db()
    return case


def test_the_department_sees_online_applications_waiting_for_acceptance(
        people: dict[str, User]) -> None:
    case = submitted_case(people)
    page = client_for(people["officer"]).get(reverse("cases:workbench")).content.decode()
    assert case.number is not None
    assert "待受理的网上申请（1 件）" in page and case.number in page
    assert "6201**********7770" in page and "620102199003077770" not in page
    # Another department's officer has nothing to accept.
    other = client_for(people["hr_officer"]).get(reverse("cases:workbench")).content.decode()
    assert case.number not in other and "待受理的网上申请" not in other


def test_supplement_notice_then_acceptance_through_the_case_page(people: dict[str, User]) -> None:
    case = submitted_case(people, skip_first=True)
    first = case.item_version.materials.order_by("position", "pk").first()
    assert first is not None
    page = client_for(people["officer"]).get(reverse("cases:staff_case", args=[case.number]))
    text = page.content.decode()
    assert "出具一次性告知书" in text and "不予受理" in text

    # Acceptance is refused while a required material is missing; nothing changes.
    act(people["officer"], case, "accept")
    case.refresh_from_db()
    assert case.status == Status.SUBMITTED and case.accepted_at is None

    act(people["officer"], case, "intake_supplement", **{
        f"m{first.pk}": "on", f"r{first.pk}": "未上传，请上传签字后的扫描件"})
    case.refresh_from_db()
    notice = case.notices.get(kind=Notice.Kind.SUPPLEMENT)
    assert case.status == Status.SUPPLEMENT and case.accepted_at is None
    assert notice.body["items"][0]["reason"] == "未上传，请上传签字后的扫描件"

    citizen = people["citizen"]
    case_material_add(actor=citizen, case=case, material=first, name=first.name, upload=pdf(),
                      original_name="申请书.pdf")
    services.case_supply(actor=citizen, case=case)
    act(people["officer"], case, "accept")
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED and case.accepted_at is not None
    assert case.due_at is not None and case.notices.filter(kind=Notice.Kind.ACCEPTANCE).exists()
    assert case.tasks.filter(status="open").count() == 1
    assert case.visits == 0  # accepted online: nobody came in person


def test_refusal_needs_a_reason_and_is_named_on_the_form(people: dict[str, User]) -> None:
    case = submitted_case(people)
    response = act(people["officer"], case, "refuse", reason=" ")
    assert response.status_code == 422
    assert "须填写不予受理的理由" in response.content.decode()
    case.refresh_from_db()
    assert case.status == Status.SUBMITTED
    act(people["officer"], case, "refuse", reason="申请事项不属于本部门职权范围")
    case.refresh_from_db()
    assert case.status == Status.REFUSED
    assert case.notices.get(kind=Notice.Kind.REFUSAL).body["reason"] == "申请事项不属于本部门职权范围"


def test_another_departments_officer_cannot_accept(people: dict[str, User]) -> None:
    case = submitted_case(people)
    response = act(people["hr_officer"], case, "accept")
    assert response.status_code == 404
    case.refresh_from_db()
    assert case.status == Status.SUBMITTED and case.events.count() == 2
