"""The resource catalog: drafts, submission, review, the entry's rules and 数源确认."""

from __future__ import annotations

import dataclasses

import pytest

from tongban.accounts.models import User
from tongban.audit.models import AuditRecord
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.exchange.models import DataElement, Resource, ResourceStatus
from tongban.exchange.selectors.resources import source_conflicts, source_outcomes
from tongban.exchange.services.resources import (
    ItemData,
    ResourceData,
    element_source_confirm,
    resource_check,
    resource_save_draft,
    resource_version_review,
    resource_version_submit,
)
from tongban.organizations.models import Department

pytestmark = pytest.mark.usefixtures("person_elements")


def population(provider: Department, **changes: object) -> ResourceData:
    data = ResourceData(
        code="LZ-GA-0001", name="户籍人口基本信息", provider=provider, classification="basic",
        category_code="101001", summary="全市户籍人口的基本信息", format="数据库表",
        share_type="conditional", share_condition="用于政务服务办理", share_method="table",
        update_cycle="daily",
        items=[ItemData("id_number", "公民身份号码", "DE00002", is_subject=True),
               ItemData("name", "姓名", "DE00001", is_source=True),
               ItemData("address", "户籍地址", "DE00006")])
    return dataclasses.replace(data, **changes)  # type: ignore[arg-type]


def messages(data: ResourceData) -> dict[str, str]:
    return {p.field: str(p.message) for p in resource_check(data)}


def test_draft_submit_approve_publishes_and_a_new_version_supersedes(
        police: Department, police_data_officer: User, bureau_data_officer: User) -> None:
    v1 = resource_save_draft(actor=police_data_officer, data=population(police))
    assert v1.status == ResourceStatus.DRAFT and v1.version == 1
    resource_version_submit(actor=police_data_officer, version=v1)
    resource_version_review(actor=bureau_data_officer, version=v1, approve=True, note="同意")
    resource = Resource.objects.get(code="LZ-GA-0001")
    v1.refresh_from_db()
    assert resource.current == v1 and v1.published_on is not None
    # An uncontested claim is confirmed by the publication.
    assert DataElement.objects.get(identifier="DE00001").source_department == police
    v2 = resource_save_draft(actor=police_data_officer,
                             data=population(police, summary="更新后的摘要"))
    assert v2.version == 2
    resource_version_submit(actor=police_data_officer, version=v2)
    resource_version_review(actor=bureau_data_officer, version=v2, approve=True, note="")
    v1.refresh_from_db()
    resource.refresh_from_db()
    assert v1.status == ResourceStatus.SUPERSEDED and resource.current == v2
    actions = list(AuditRecord.objects.filter(object_type="exchange.resourceversion")
                   .values_list("action", flat=True))
    assert actions.count("data_resource.drafted") == 2 and actions.count("data_resource.published") == 2


def test_reject_sends_back_with_the_note_and_the_draft_is_edited_again(
        police: Department, police_data_officer: User, bureau_data_officer: User) -> None:
    v1 = resource_save_draft(actor=police_data_officer, data=population(police))
    resource_version_submit(actor=police_data_officer, version=v1)
    with pytest.raises(RuleViolation):
        resource_save_draft(actor=police_data_officer, data=population(police))
    resource_version_review(actor=bureau_data_officer, version=v1, approve=False,
                            note="摘要过于简单")
    v1.refresh_from_db()
    assert v1.status == ResourceStatus.REJECTED and v1.review_note == "摘要过于简单"
    again = resource_save_draft(actor=police_data_officer, data=population(police))
    assert again.pk == v1.pk and again.status == ResourceStatus.DRAFT


def test_only_the_provider_drafts_and_only_the_bureau_reviews(
        police: Department, police_data_officer: User, market_data_officer: User) -> None:
    with pytest.raises(AccessDenied):
        resource_save_draft(actor=market_data_officer, data=population(police))
    v1 = resource_save_draft(actor=police_data_officer, data=population(police))
    resource_version_submit(actor=police_data_officer, version=v1)
    with pytest.raises(AccessDenied):
        resource_version_review(actor=police_data_officer, version=v1, approve=True)


def test_rules_name_the_field(police: Department) -> None:
    assert "category_code" in messages(population(police, category_code="21"))
    assert "“类”应为 1" in messages(population(police, category_code="201001"))["category_code"]
    assert "share_basis" in messages(population(police, share_type="none"))
    assert "share_condition" in messages(population(police, share_condition=""))
    assert "endpoint_url" in messages(population(police, share_method="interface"))
    # The platform calls a provider's address for consumers: a web address only.
    assert messages(population(police, share_method="interface",
                               endpoint_url="file:///etc/passwd"))["endpoint_url"] == (
        "接口地址须为以 https:// 或 http:// 开头的网址（如 https://data.example.gov.cn/api/hj）")
    assert "endpoint_url" not in messages(population(
        police, share_method="interface", endpoint_url="https://data.gongan.lanzhou.gov.cn/hj"))
    assert "items" in messages(population(police, items=[]))
    opened = messages(population(police, open_type="unconditional"))
    assert opened["items.0.element"] == ("开放数据不得包含个人信息：信息项“公民身份号码”绑定的数据元"
                                         "“DE00002 公民身份号码”为个人信息")
    no_subject = population(police, items=[ItemData("name", "姓名", "DE00001")])
    assert "主体标识" in messages(no_subject)["items"]
    wrong = population(police, items=[ItemData("name", "姓名", "DE00001", is_subject=True)])
    assert "DE00002" in messages(wrong)["items.0.is_subject"]
    dup = population(police, items=[ItemData("id_number", "公民身份号码", "DE00002", True),
                                    ItemData("id_number", "姓名", "DE00001")])
    assert "重复" in messages(dup)["items.1.key"]
    assert "不存在" in messages(population(police, related_items=["11620100X"]))["related_items"]
    assert "不存在" in messages(population(police, related_resources=["LZ-XX-9"]))[
        "related_resources"]
    assert messages(population(police)) == {}


def test_contested_sources_are_a_conflict_until_the_bureau_confirms(
        police: Department, police_data_officer: User, market: Department,
        market_data_officer: User, bureau_data_officer: User) -> None:
    v1 = resource_save_draft(actor=police_data_officer, data=population(police))
    resource_version_submit(actor=police_data_officer, version=v1)
    company = population(market, code="LZ-SC-0009", name="个体户经营者信息")
    v2 = resource_save_draft(actor=market_data_officer, data=company)
    resource_version_submit(actor=market_data_officer, version=v2)
    [conflict] = source_conflicts()
    assert conflict.element.identifier == "DE00001"
    assert {d.name for d, _codes in conflict.claims} == {"兰州市公安局", "兰州市市场监督管理局"}
    with pytest.raises(RuleViolation) as refused:
        resource_version_review(actor=bureau_data_officer, version=v2, approve=True)
    assert "数源尚未确认" in str(refused.value)
    element_source_confirm(actor=bureau_data_officer, identifier="DE00001", department=police,
                           reason="户籍登记为姓名的法定来源")
    assert source_conflicts() == []
    assert source_outcomes(market.pk)[0]["ours"] is False
    resource_version_review(actor=bureau_data_officer, version=v1, approve=True)
    with pytest.raises(RuleViolation) as refused:
        resource_version_review(actor=bureau_data_officer, version=v2, approve=True)
    assert "已确认的数源部门为兰州市公安局" in str(refused.value)
    with pytest.raises(AccessDenied):
        element_source_confirm(actor=market_data_officer, identifier="DE00001",
                               department=market, reason="x")
