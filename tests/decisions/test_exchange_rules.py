"""A rule set reading the exchange: 户籍人口基本信息 read for the case under the department's
grant, the read recorded as a data use the applicant sees on their own page; without a grant
nothing is read and the case goes to a human with the reason."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.cases.conftest import SAME_DAY, item
from tests.decisions.conftest import (
    HUKOU_CONDITIONS,
    HUKOU_EXCHANGE,
    HUKOU_EXPRESSIONS,
    HUKOU_TESTS,
    hukou_grant,
)
from tongban.accounts.models import User
from tongban.audit.models import AuditRecord
from tongban.cases.models import Status
from tongban.decisions import engine
from tongban.decisions.models import AutoDecision, Outcome, RuleSet
from tongban.decisions.services.rule_sets import RuleSetData, rule_set_publish, rule_set_save
from tongban.exchange.models import ExchangeUse

pytestmark = pytest.mark.django_db

ZHANG = {"id_number": "620102199003077770", "name": "张三", "sex": "1",
         "birth_date": "1990-03-07", "ethnicity": "01", "address": "兰州市城关区皋兰路8号"}
LI = {"id_number": "620102199003070018", "name": "李四", "sex": "1",
      "birth_date": "1990-03-07", "ethnicity": "01", "address": "天水市秦州区民主路3号"}


@pytest.fixture
def hukou_rules(admin: User) -> RuleSet:
    data = RuleSetData(name="户籍核验秒批规则", jdm=engine.jdm_all_of(HUKOU_EXPRESSIONS),
                       conditions=dict(HUKOU_CONDITIONS), exchange=list(HUKOU_EXCHANGE),
                       tests=list(HUKOU_TESTS))
    return rule_set_publish(actor=admin, rule_set=rule_set_save(actor=admin, item=item(SAME_DAY),
                                                                 data=data))


def test_the_rules_read_the_exchange_and_the_read_is_on_the_citizens_page(
        people: dict[str, User], hukou_rules: RuleSet, submit: Any) -> None:
    hukou_grant(item(SAME_DAY).department, [ZHANG, LI])
    case = submit(people["citizen"])
    assert case.status == Status.DELIVERED
    record = AutoDecision.objects.get(case=case)
    assert record.inputs["exchange"]["hukou"] == {"found": True, "name": "张三",
                                                  "address": "兰州市城关区皋兰路8号"}
    assert [c["held"] for c in record.explanation] == [True, True, True]
    use = ExchangeUse.objects.get(case_number=case.number)
    assert use.found and use.field_keys == ["name", "address"] and use.person_id is None
    assert use.consumer_id == case.department_id
    assert use.audit_seq is not None
    audit = AuditRecord.objects.get(seq=use.audit_seq)
    assert audit.action == "exchange.read" and audit.detail["platform"] is True
    # The citizen sees the read against the case; another person does not.
    client = Client()
    client.force_login(people["citizen"])
    page = client.get("/data/my-data-uses/").content.decode()
    assert case.number in page and item(SAME_DAY).department.name in page
    client.force_login(people["other"])
    assert case.number not in client.get("/data/my-data-uses/").content.decode()
    # Masked on the staff panel: the address's street and the name's given name.
    client.force_login(people["officer"])
    staff = client.get(f"/workbench/cases/{case.number}/").content.decode()
    panel = staff.split('class="card auto-decision"', 1)[1].split("</section>", 1)[0]
    assert "皋兰路8号" not in panel and "兰州市城关区" in panel


def test_a_person_registered_elsewhere_goes_to_a_human(
        people: dict[str, User], hukou_rules: RuleSet, submit: Any) -> None:
    hukou_grant(item(SAME_DAY).department, [ZHANG, LI])
    case = submit(people["other"])
    assert case.status == Status.SUBMITTED
    record = AutoDecision.objects.get(case=case)
    assert record.outcome == Outcome.REFERRED
    assert {c["key"]: c["held"] for c in record.explanation} == {
        "found": True, "lanzhou": False, "name": True}
    assert ExchangeUse.objects.filter(case_number=case.number).count() == 1


def test_without_a_grant_nothing_is_read_and_a_human_decides(
        people: dict[str, User], hukou_rules: RuleSet, submit: Any) -> None:
    case = submit(people["citizen"])
    assert case.status == Status.SUBMITTED
    record = AutoDecision.objects.get(case=case)
    assert record.outcome == Outcome.REFERRED
    assert any("没有资源LZ-GA-0001" in f for f in record.findings)
    assert not ExchangeUse.objects.exists()


def test_the_automatic_actor_reads_only_through_the_platform_read_and_holds_no_other_power(
        people: dict[str, User]) -> None:
    """秒批 acts as the case's department on its cases only: not as a data officer, not as the
    bureau (it is a kind of system actor, which commands on the server use with full powers)."""
    from tongban.accounts.permissions import AutomaticActor, is_bureau_admin
    from tongban.decisions.policies import can_manage_rule_sets
    from tongban.exchange import policies

    machine = AutomaticActor(item(SAME_DAY).department_id)
    department = item(SAME_DAY).department_id
    assert not policies.can_act_for_department(machine, department)
    assert not policies.is_department_data_officer(machine, department)
    assert not is_bureau_admin(machine) and not can_manage_rule_sets(machine)
