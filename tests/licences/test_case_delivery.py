"""A case whose result is a licence issues it with the delivery, in the same transaction; the case
shows the identifiers (API and pages) and the licence names its case."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.cases.conftest import ON_THE_SPOT, TIME_LIMITED, ApiClient, form_for, item, pdf
from tests.factories import applicant_of, completed_case
from tests.licences.conftest import COMPANY_USCC
from tongban.accounts.models import User
from tongban.cases import services as case_services
from tongban.cases.materials import case_material_add
from tongban.cases.models import Case, CaseEvent, Channel, Status
from tongban.cases.services import closing
from tongban.cases.workflows.models import StepTask
from tongban.core.errors import RuleViolation
from tongban.licences.models import Licence, LicenceType

pytestmark = pytest.mark.django_db


def decided_food_case(people: dict[str, User]) -> Case:
    """食品经营许可（新办） by 张三 for 兰州示例餐饮有限公司: applied, accepted, approved."""
    citizen = people["citizen"]
    case = case_services.case_create(actor=citizen, item=item(TIME_LIMITED), channel=Channel.ONLINE,
                                     applicant=applicant_of(citizen),
                                     form_data=form_for(TIME_LIMITED))
    for m in case.item_version.materials.all():
        case_material_add(actor=citizen, case=case, material=m, name=m.name, upload=pdf(),
                          original_name=f"{m.name}.pdf")
    case_services.case_submit(actor=citizen, case=case)
    case_services.case_accept(actor=people["officer"], case=Case.objects.get(pk=case.pk))
    case_services.case_step(actor=people["officer"],
                            task=StepTask.objects.get(case=case, status="open"), action="approve")
    case_services.case_step(actor=people["head"], task=StepTask.objects.get(case=case, status="open"),
                            action="approve", reason="符合条件")
    return Case.objects.get(pk=case.pk)


def test_delivering_a_licence_result_issues_the_licence(
        people: dict[str, User], demo_forms: None, licence_types: dict[str, LicenceType],
        client: Client) -> None:
    case = decided_food_case(people)
    assert case.status == Status.APPROVED and not Licence.objects.exists()
    case_services.case_deliver(actor=people["officer"], case=case, delivery="online")
    case.refresh_from_db()
    licence = Licence.objects.get()
    assert (licence.case_id, licence.case_number) == (case.pk, case.number)
    assert licence.issued_at == case.delivered_at
    assert licence.issuer == case.department and licence.type.name == "食品经营许可证"
    assert (licence.holder_kind, licence.holder_id) == ("legal_person", COMPANY_USCC)
    deliver = CaseEvent.objects.get(case=case, action="deliver")
    assert deliver.data["licences"] == [licence.identifier]

    # The case shows it: API, the applicant's page, the officer's page.
    detail = ApiClient("zhangsan").get(f"/cases/{case.pk}").json()
    assert [lc["identifier"] for lc in detail["licences"]] == [licence.identifier]
    client.force_login(people["citizen"])
    assert licence.identifier in client.get(f"/my/cases/{case.number}/").content.decode()
    client.force_login(people["officer"])
    page = client.get(f"/workbench/cases/{case.number}/")
    assert page.status_code == 200 and licence.identifier in page.content.decode()


def test_the_licence_and_the_delivery_share_one_transaction(
        people: dict[str, User], demo_forms: None, licence_types: dict[str, LicenceType],
        monkeypatch: pytest.MonkeyPatch) -> None:
    case = decided_food_case(people)

    def broken_move(*args: Any, **kwargs: Any) -> Any:
        assert Licence.objects.count() == 1  # issued inside the delivery, not yet committed
        raise RuntimeError("the delivery failed after the licence was issued")

    monkeypatch.setattr(closing, "_move", broken_move)
    with pytest.raises(RuntimeError):
        case_services.case_deliver(actor=people["officer"], case=case, delivery="online")
    assert not Licence.objects.exists()
    assert Case.objects.get(pk=case.pk).status == Status.APPROVED


def test_a_licence_that_cannot_be_issued_refuses_the_delivery(
        people: dict[str, User], demo_forms: None, licence_types: dict[str, LicenceType]) -> None:
    food = licence_types["食品经营许可证"]
    food.fields = [*food.fields, {"key": "opening_hours", "name": "营业时间", "element": "",
                                  "required": True}]
    food.save()
    case = decided_food_case(people)
    with pytest.raises(RuleViolation) as refused:
        case_services.case_deliver(actor=people["officer"], case=case, delivery="online")
    assert [p.field for p in refused.value.problems] == ["surface.opening_hours"]
    assert Case.objects.get(pk=case.pk).status == Status.APPROVED
    assert not Licence.objects.exists()


def test_an_on_the_spot_case_issues_at_the_window(
        people: dict[str, User], licence_types: dict[str, LicenceType]) -> None:
    types = {t.name for t in LicenceType.objects.all()}
    assert "营业执照" in types
    case = completed_case(people, ON_THE_SPOT)
    assert case.status == Status.DELIVERED
    licence = Licence.objects.get(case_id=case.pk)
    assert licence.type.name == "营业执照" and licence.holder_name == "张三"


def test_items_without_a_library_type_issue_nothing(people: dict[str, User]) -> None:
    case = completed_case(people, ON_THE_SPOT)  # no licence types loaded
    assert case.status == Status.DELIVERED and not Licence.objects.exists()
