"""The demo's automatic decisions: ``load_demo`` publishes rule sets for three items (their test
cases pass), and the demo citizen 张明 applying online for 城乡居民基本养老保险参保登记 or
户口迁入 gets an automatic decision, his 户籍 read through the exchange under the human
resources bureau's grant."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from pytest_django.fixtures import Settings

from tests.cases.conftest import pdf
from tongban.accounts.models import User
from tongban.cases import services
from tongban.cases.materials import case_material_add
from tongban.cases.models import ApplicantKind, Case, Channel, Status
from tongban.cases.services import ApplicantData
from tongban.catalog.models import Item
from tongban.decisions.models import AutoDecision, Outcome, RuleSet, RuleSetStatus
from tongban.demo import decisions as demo
from tongban.exchange.models import ExchangeUse, Grant


def apply(user: User, code: str, form: dict[str, Any], capture: Any) -> Case:
    case = services.case_create(
        actor=user, item=Item.objects.get(implementation_code=code), channel=Channel.ONLINE,
        applicant=ApplicantData(kind=ApplicantKind.NATURAL, name=user.real_name,
                                id_number=user.id_number, phone=user.phone),
        form_data=form)
    for m in case.item_version.materials.all():
        case_material_add(actor=user, case=case, material=m, name=m.name, upload=pdf(),
                          original_name=f"{m.name}.pdf")
    with capture(execute=True):
        services.case_submit(actor=user, case=case)
    return Case.objects.get(pk=case.pk)


@pytest.mark.slow
@pytest.mark.django_db
def test_the_demo_rule_sets_decide_the_demo_citizens_applications(
        settings: Settings, django_capture_on_commit_callbacks: Any) -> None:
    settings.DEBUG = True
    call_command("load_demo", stdout=StringIO())
    published = RuleSet.objects.filter(status=RuleSetStatus.PUBLISHED)
    assert sorted(published.values_list("item__implementation_code", flat=True)) == sorted(
        [demo.HUKOU_MOVE_IN, demo.FOOD_CHANGE, demo.PENSION_ENROLMENT])
    assert all(len(r.tests) >= 5 for r in published)
    zhang = User.objects.get(username="citizen")

    pension = apply(zhang, demo.PENSION_ENROLMENT, dict(demo.PENSION_FORM),
                    django_capture_on_commit_callbacks)
    record = AutoDecision.objects.get(case=pension)
    assert (record.outcome, pension.status) == (Outcome.APPROVED, Status.DELIVERED), record.findings
    assert record.inputs["exchange"]["hukou"]["address"].startswith("兰州市")
    use = ExchangeUse.objects.get(case_number=pension.number)
    assert use.resource is not None
    assert use.consumer.name == demo.HRSS and use.resource.code == demo.PEOPLE

    move_in = apply(zhang, demo.HUKOU_MOVE_IN, dict(demo.HUKOU_FORM),
                    django_capture_on_commit_callbacks)
    assert move_in.status == Status.DELIVERED

    referred = apply(zhang, demo.HUKOU_MOVE_IN, {**demo.HUKOU_FORM, "housing": "租赁住房"},
                     django_capture_on_commit_callbacks)
    assert referred.status == Status.SUBMITTED
    assert AutoDecision.objects.get(case=referred).outcome == Outcome.REFERRED

    # Loading again changes nothing.
    counts = (RuleSet.objects.count(), Grant.objects.count())
    call_command("load_demo", stdout=StringIO())
    assert (RuleSet.objects.count(), Grant.objects.count()) == counts
