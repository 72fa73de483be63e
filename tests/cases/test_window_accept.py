"""A window that is not a comprehensive window (综合窗口) accepts only items of the departments it
serves, whichever door the acceptance comes through."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cases.conftest import TIME_LIMITED, WALK_IN, api_create, api_upload_all, form, item, pdf
from tongban.accounts.models import User
from tongban.cases import services
from tongban.cases.materials import case_material_add
from tongban.cases.models import Case, Channel, Status
from tongban.cases.services import ApplicantData
from tongban.core.errors import RuleViolation
from tongban.organizations.models import Department, Window

pytestmark = pytest.mark.django_db


def submitted_case(people: dict[str, User]) -> Case:
    """An online application of the market regulator's (食品经营许可), submitted, every material in."""
    citizen = people["citizen"]
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


def test_a_window_that_is_not_comprehensive_accepts_only_its_departments_items(
    people: dict[str, User]
) -> None:
    clerk = people["clerk"]
    hall = clerk.hall
    assert hall is not None
    hrss_window = Window.objects.create(hall=hall, number="7", name="人社窗口")
    hrss_window.departments.add(Department.objects.get(name="兰州市人力资源和社会保障局"))
    market_window = Window.objects.create(hall=hall, number="8", name="市场监管窗口")
    market_window.departments.add(Department.objects.get(name="兰州市市场监督管理局"))
    case = submitted_case(people)

    with pytest.raises(RuleViolation) as refused:
        services.case_accept(actor=clerk, case=case, hall=hall, window=hrss_window)
    assert [(p.field, str(p.message)) for p in refused.value.problems] == [
        ("window", "人社窗口不是综合窗口，只受理兰州市人力资源和社会保障局的事项，"
                   "不能受理兰州市市场监督管理局的事项")]
    case.refresh_from_db()
    assert (case.status, case.accepted_at) == (Status.SUBMITTED, None)

    services.case_accept(actor=clerk, case=case, hall=hall, window=market_window)
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED


def test_the_api_refuses_an_item_of_another_department_at_a_departments_window(
    api: Any, people: dict[str, User]
) -> None:
    clerk = api("clerk")
    assert people["clerk"].hall is not None
    window = Window.objects.create(hall=people["clerk"].hall, number="7", name="人社窗口")
    window.departments.add(Department.objects.get(name="兰州市人力资源和社会保障局"))
    case = api_upload_all(clerk, api_create(clerk, TIME_LIMITED, channel="window",
                                            applicant=WALK_IN))
    case = clerk.post(f"/cases/{case['id']}/submit").json()
    response = clerk.post(f"/cases/{case['number']}/accept",
                          {"expected_version": case["version"], "window": window.pk})
    assert response.status_code == 422
    assert [(p["field"], p["message"]) for p in response.json()["detail"]] == [
        ("window", "人社窗口不是综合窗口，只受理兰州市人力资源和社会保障局的事项，"
                   "不能受理兰州市市场监督管理局的事项")]
    assert Case.objects.get(pk=case["id"]).status == Status.SUBMITTED
