"""供需对接: the demand's state machine on the working-day clock, grants and keys."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.conftest import make_department
from tongban.accounts.models import User
from tongban.audit.models import AuditRecord
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.exchange.models import (
    Credential,
    DataGap,
    DataRequest,
    Grant,
    RequestStatus,
    Resource,
    ShareType,
)
from tongban.exchange.selectors import sharing as selectors
from tongban.exchange.services import sharing
from tongban.organizations.models import Department

S = RequestStatus


def file(actor: User, resource: Resource, keys: list[str] | None = None) -> DataRequest:
    return sharing.data_request_file(
        actor=actor, resource=resource, field_keys=keys or ["name", "id_number", "address"],
        purpose="食品经营许可核验申请人身份", legal_basis="《食品经营许可和备案管理办法》")


def test_a_conditional_demand_goes_to_the_provider_who_grants_it(
        market_data_officer: User, bureau_data_officer: User, police_data_officer: User,
        people_resource: Resource) -> None:
    demand = file(market_data_officer, people_resource)
    assert demand.status == S.CHECKING and demand.number.startswith("XQ")
    # 2 working days for the bureau, on the clock: due at the close of a working day.
    assert demand.stage_due_at is not None and demand.stage_due_at > demand.created_at
    assert selectors.request_mark(demand) == "green"

    with pytest.raises(AccessDenied):
        sharing.data_request_check(actor=market_data_officer, request=demand)
    demand = sharing.data_request_check(actor=bureau_data_officer, request=demand)
    assert demand.status == S.AT_PROVIDER
    assert demand.stage_due_at is not None
    assert demand.stage_due_at == sharing.stage_due(demand.stage_started_at or timezone.now(), 5)

    with pytest.raises(AccessDenied):
        sharing.data_request_answer(actor=market_data_officer, request=demand, approve=True)
    with pytest.raises(RuleViolation) as refused:
        sharing.data_request_answer(actor=police_data_officer, request=demand, approve=False)
    assert {p.field for p in refused.value.problems} == {"reason", "legal_basis"}

    demand = sharing.data_request_answer(actor=police_data_officer, request=demand, approve=True,
                                         masked_keys=["id_number"])
    assert demand.status == S.GRANTED and demand.decided_at is not None
    grant = Grant.objects.get(request=demand)
    assert grant.field_keys == ["name", "id_number", "address"]
    assert grant.masked_keys == ["id_number"]
    assert [e.action for e in demand.events.all()] == ["file", "forward", "approve"]
    actions = set(AuditRecord.objects.values_list("action", flat=True))
    assert {"data_request.filed", "data_request.forwarded", "data_request.approved"} <= actions
    assert selectors.request_mark(demand) == ""

    # A decided demand cannot move again.
    with pytest.raises(RuleViolation):
        sharing.data_request_withdraw(actor=market_data_officer, request=demand)


def test_unconditional_data_is_granted_directly(
        bureau_data_officer: User, police_data_officer: User,
        company_resource: Resource) -> None:
    demand = file(police_data_officer, company_resource, ["company_name", "uscc"])
    demand = sharing.data_request_check(actor=bureau_data_officer, request=demand)
    assert demand.status == S.GRANTED
    assert Grant.objects.filter(request=demand, consumer=police_data_officer.department).exists()


def test_unpublished_resource_gives_the_provider_ten_working_days(
        market_data_officer: User, bureau_data_officer: User, people_resource: Resource) -> None:
    Resource.objects.filter(pk=people_resource.pk).update(current=None)
    people_resource.refresh_from_db()
    demand = sharing.data_request_check(actor=bureau_data_officer,
                                        request=file(market_data_officer, people_resource))
    assert demand.stage_started_at is not None
    assert demand.stage_due_at == sharing.stage_due(demand.stage_started_at, 10)


def test_a_resource_not_shared_is_refused_with_its_basis(
        market_data_officer: User, bureau_data_officer: User, people_resource: Resource) -> None:
    version = people_resource.current
    assert version is not None
    version.share_type, version.share_basis = ShareType.NONE, "《居民身份证法》第十九条"
    version.save()
    demand = sharing.data_request_check(actor=bureau_data_officer,
                                        request=file(market_data_officer, people_resource))
    assert demand.status == S.REFUSED and demand.refusal_basis == "《居民身份证法》第十九条"


def test_data_no_resource_provides_becomes_a_gap(
        market_data_officer: User, bureau_data_officer: User, people_resource: Resource,
        police: Department) -> None:
    with pytest.raises(RuleViolation) as problems:
        sharing.data_request_file(actor=market_data_officer, purpose="x", legal_basis="y")
    assert {p.field for p in problems.value.problems} == {"wanted_elements", "description"}
    demand = sharing.data_request_file(
        actor=market_data_officer, wanted_elements=["DE00001", "DE00002"],
        description="从业人员健康证明", purpose="核验健康证明", legal_basis="《食品安全法》第四十五条")
    with pytest.raises(RuleViolation):
        sharing.data_request_check(actor=bureau_data_officer, request=demand)
    health = make_department("兰州市卫生健康委员会", serial=92)
    demand = sharing.data_request_check(actor=bureau_data_officer, request=demand,
                                        responsible=health)
    assert demand.status == S.GAP
    assert DataGap.objects.get(request=demand).responsible == health
    assert list(selectors.gaps(bureau_data_officer)) == [DataGap.objects.get(request=demand)]


def test_the_requester_may_withdraw_before_a_decision(
        market_data_officer: User, police_data_officer: User, people_resource: Resource) -> None:
    demand = file(market_data_officer, people_resource)
    with pytest.raises(AccessDenied):
        sharing.data_request_withdraw(actor=police_data_officer, request=demand)
    demand = sharing.data_request_withdraw(actor=market_data_officer, request=demand, reason="不再需要")
    assert demand.status == S.WITHDRAWN


def test_filing_checks_items_and_who(
        market_data_officer: User, police_data_officer: User, people_resource: Resource) -> None:
    with pytest.raises(RuleViolation) as problems:
        file(market_data_officer, people_resource, ["name", "salary"])
    assert "salary" in str(problems.value)
    with pytest.raises(RuleViolation):  # its own resource
        file(police_data_officer, people_resource)


def test_a_stage_turns_yellow_then_red_on_the_clock(
        market_data_officer: User, people_resource: Resource) -> None:
    demand = file(market_data_officer, people_resource)
    assert demand.stage_due_at is not None
    assert selectors.request_mark(demand, now=demand.stage_due_at + dt.timedelta(minutes=1)) == "red"
    assert selectors.request_mark(demand, now=demand.stage_due_at - dt.timedelta(minutes=30)) == "yellow"


def test_keys_are_shown_once_stored_hashed_and_revocable(
        market_data_officer: User, bureau_data_officer: User, police_data_officer: User,
        people_resource: Resource) -> None:
    demand = sharing.data_request_check(actor=bureau_data_officer,
                                        request=file(market_data_officer, people_resource))
    sharing.data_request_answer(actor=police_data_officer, request=demand, approve=True)
    grant = Grant.objects.get(request=demand)
    with pytest.raises(AccessDenied):
        sharing.credential_issue(actor=police_data_officer, grant=grant, days=30)
    with pytest.raises(RuleViolation):
        sharing.credential_issue(actor=market_data_officer, grant=grant, days=0)
    credential, key = sharing.credential_issue(actor=market_data_officer, grant=grant, days=30)
    assert key.startswith("tbx_") and credential.prefix == key[:12]
    stored = Credential.objects.get(pk=credential.pk)
    assert key not in (stored.digest, stored.prefix) and len(stored.digest) == 64
    assert sharing.credential_authenticate(key) == stored
    sharing.credential_revoke(actor=market_data_officer, credential=stored)
    assert sharing.credential_authenticate(key) is None

    _, second = sharing.credential_issue(actor=market_data_officer, grant=grant, days=30)
    Credential.objects.filter(digest=sharing.key_digest(second)).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert sharing.credential_authenticate(second) is None

    with pytest.raises(RuleViolation):
        sharing.grant_revoke(actor=police_data_officer, grant=grant, reason="")
    sharing.grant_revoke(actor=police_data_officer, grant=grant, reason="用途已终止")
    with pytest.raises(RuleViolation):
        sharing.credential_issue(actor=market_data_officer, grant=grant, days=30)


def test_the_bureau_does_not_act_in_a_departments_place(
        market_data_officer: User, bureau_data_officer: User, police_data_officer: User,
        people_resource: Resource, admin_user: User) -> None:
    """Only the provider answers for its data and uploads its records; only the consumer takes
    keys (a call made with a key is recorded as the consumer's): the data bureau and the
    administrator check and revoke, and nothing changes when they try the rest."""
    from tongban.exchange.models import Credential, RecordBatch
    from tongban.exchange.services import sharing_records

    demand = sharing.data_request_check(actor=bureau_data_officer,
                                        request=file(market_data_officer, people_resource))
    for outsider in (bureau_data_officer, admin_user):
        with pytest.raises(AccessDenied):
            sharing.data_request_answer(actor=outsider, request=demand, approve=True)
        with pytest.raises(AccessDenied):
            sharing_records.records_import(
                actor=outsider, resource=people_resource, file_name="people.csv",
                content="id_number,name\n620102199001011233,张明\n".encode())
    assert DataRequest.objects.get(pk=demand.pk).status == S.AT_PROVIDER
    assert not RecordBatch.objects.exists()
    demand = sharing.data_request_answer(actor=police_data_officer, request=demand, approve=True)
    grant = Grant.objects.get(request=demand)
    for outsider in (bureau_data_officer, admin_user, police_data_officer):
        with pytest.raises(AccessDenied):
            sharing.credential_issue(actor=outsider, grant=grant, days=30)
    assert not Credential.objects.exists()
    sharing.grant_revoke(actor=bureau_data_officer, grant=grant, reason="超范围使用")
    assert Grant.objects.get(pk=grant.pk).revoked_at is not None
