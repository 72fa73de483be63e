"""An account applies only in its holder's own name (or its company's), or as the agent with an
authorisation record — never in anyone else's; window staff still register any walk-in. The
rule is the case service's, so the API, the portal and any other door get it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cases.conftest import TIME_LIMITED, WALK_IN, ApiClient, form, item
from tests.conftest import make_uscc, make_user
from tongban.accounts.models import Role, User
from tongban.audit.models import AuditRecord
from tongban.cases import services
from tongban.cases.models import Case, CaseEvent, Channel
from tongban.cases.services import AgentData, ApplicantData
from tongban.core.errors import RuleViolation

pytestmark = pytest.mark.django_db

COMPANY_USCC = make_uscc(91)
OTHER_USCC = make_uscc(92)


def problems(response: Any) -> list[tuple[str, str]]:
    assert response.status_code == 422, response.content
    return [(p["field"], p["message"]) for p in response.json()["detail"]]


def nothing_created(before: int) -> bool:
    return (not Case.objects.exists() and not CaseEvent.objects.exists()
            and AuditRecord.objects.count() == before)


def body(applicant: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"item": TIME_LIMITED, "channel": "online", "applicant": applicant, "form_data": form(),
            **extra}


OTHERS_MESSAGE = "网上申请的申请人须为账户本人；为他人申请，须以代理人身份提交并提供授权委托说明"


def test_a_citizen_cannot_apply_in_another_persons_name(api: Any, people: dict[str, User]) -> None:
    citizen = api("citizen")
    before = AuditRecord.objects.count()
    response = citizen.post("/cases", body(dict(WALK_IN)))
    assert problems(response) == [("applicant.id_number", OTHERS_MESSAGE)]
    assert nothing_created(before)


def test_a_citizen_cannot_apply_in_a_companys_name(api: Any, people: dict[str, User]) -> None:
    citizen = api("citizen")
    before = AuditRecord.objects.count()
    response = citizen.post("/cases", body(
        {"kind": "legal_person", "name": "兰州示例餐饮有限公司", "id_number": COMPANY_USCC}))
    assert problems(response) == [("applicant.kind", OTHERS_MESSAGE)]
    assert nothing_created(before)


def test_a_citizen_cannot_use_their_own_number_under_another_name(
        api: Any, people: dict[str, User]) -> None:
    citizen = api("citizen")
    before = AuditRecord.objects.count()
    response = citizen.post("/cases", body(
        {"kind": "natural_person", "name": "王五", "id_number": people["citizen"].id_number}))
    assert problems(response) == [("applicant.name", "申请人须为账户本人：姓名须为“张三”")]
    assert nothing_created(before)


def test_the_agent_must_be_the_account_holder(api: Any, people: dict[str, User]) -> None:
    citizen = api("citizen")
    before = AuditRecord.objects.count()
    response = citizen.post("/cases", body(dict(WALK_IN), agent={
        "name": "李四", "id_number": people["other"].id_number, "authorization": "委托书已签"}))
    assert problems(response) == [
        ("agent.id_number", "代理人须为登录账户本人：代理人公民身份号码须与账户一致"),
        ("agent.name", "代理人须为登录账户本人：代理人姓名须为“张三”"),
    ]
    assert nothing_created(before)


def test_the_rule_is_the_case_services_not_only_the_apis(people: dict[str, User]) -> None:
    with pytest.raises(RuleViolation) as exc:
        services.case_create(actor=people["citizen"], item=item(TIME_LIMITED),
                             channel=Channel.ONLINE, form_data=form(),
                             applicant=ApplicantData(kind="natural_person", name="王五",
                                                     id_number=WALK_IN["id_number"]))
    assert [(p.field, str(p.message)) for p in exc.value.problems] == [
        ("applicant.id_number", OTHERS_MESSAGE)]
    # As the agent, with the authorisation record, it is allowed.
    case = services.case_create(
        actor=people["citizen"], item=item(TIME_LIMITED), channel=Channel.ONLINE, form_data=form(),
        applicant=ApplicantData(kind="natural_person", name="王五", id_number=WALK_IN["id_number"]),
        agent=AgentData(name="张三", id_number=people["citizen"].id_number,
                        authorization="王五委托张三办理"))
    assert (case.applicant, case.agent, case.applicant_name) == (None, people["citizen"], "王五")


def test_a_company_account_applies_only_for_its_company(people: dict[str, User]) -> None:
    make_user("huafeng", Role.ENTERPRISE, real_name="兰州华丰食品有限公司", uscc=COMPANY_USCC,
              legal_representative="李华")
    client = ApiClient("huafeng")
    before = AuditRecord.objects.count()
    other_company = {"kind": "legal_person", "name": "兰州别家有限公司", "id_number": OTHER_USCC}
    assert problems(client.post("/cases", body(other_company))) == [
        ("applicant.id_number", f"法人账户的申请人须为本单位：统一社会信用代码须为{COMPANY_USCC}")]
    assert problems(client.post("/cases", body(dict(WALK_IN)))) == [
        ("applicant.kind", "法人账户的申请人须为本单位（法人）")]
    assert problems(client.post("/cases", body(other_company, agent={
        "name": "李华", "id_number": "620102199003077770", "authorization": "委托"}))) == [
        ("agent", "法人账户不能作为代理人代他人申请；代理人须使用本人的自然人账户申请")]
    assert nothing_created(before)

    response = client.post("/cases", body(
        {"kind": "legal_person", "name": "兰州华丰食品有限公司", "id_number": COMPANY_USCC}))
    assert response.status_code == 201, response.content
    case = Case.objects.get()
    assert case.applicant is not None
    assert (case.applicant.username, case.applicant_id_number) == ("huafeng", COMPANY_USCC)


def test_window_staff_still_register_any_walk_in(api: Any, people: dict[str, User]) -> None:
    response = api("clerk").post("/cases", {**body(dict(WALK_IN)), "channel": "window"})
    assert response.status_code == 201, response.content
    assert Case.objects.get().applicant_name == "王五"
