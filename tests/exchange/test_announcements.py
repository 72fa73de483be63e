"""Who in the departments is told of the data layer's steps: demands at each stage, the 数源
decision, a revoked grant, a reviewed resource — in the recipients' inboxes, in Chinese
whatever language the actor used, once."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from tests.exchange.test_resources_services import population
from tests.exchange.test_sharing_demands import file
from tongban.accounts.models import User
from tongban.cases.notifications.models import Kind, Notification
from tongban.exchange.models import Grant, Resource
from tongban.exchange.selectors.resources import source_conflicts
from tongban.exchange.services import sharing
from tongban.exchange.services.resources import (
    element_source_confirm,
    resource_save_draft,
    resource_version_review,
    resource_version_submit,
)
from tongban.organizations.models import Department

pytestmark = pytest.mark.usefixtures("person_elements")


def inbox(user: User) -> list[str]:
    return [n.subject for n in Notification.objects.filter(recipient=user, kind=Kind.DATA)
            .order_by("pk")]


def test_each_stage_of_a_demand_reaches_the_department_that_must_act(
        market_data_officer: User, bureau_data_officer: User, police_data_officer: User,
        people_resource: Resource, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True), translation.override("en"):
        demand = file(market_data_officer, people_resource)
    number = demand.number
    assert inbox(bureau_data_officer) == [f"新的数据共享需求：{number}"]
    assert inbox(police_data_officer) == [] and inbox(market_data_officer) == []

    with django_capture_on_commit_callbacks(execute=True):
        demand = sharing.data_request_check(actor=bureau_data_officer, request=demand)
    assert inbox(police_data_officer) == [f"数据共享需求待答复：{number}"]
    told = Notification.objects.get(recipient=police_data_officer)
    assert "兰州市市场监督管理局申请共享贵部门的资源LZ-GA-0001" in told.body
    assert demand.stage_due_at is not None and f"{demand.stage_due_at:%Y}" in told.body
    assert inbox(market_data_officer) == [f"数据共享需求已转提供方：{number}"]

    with django_capture_on_commit_callbacks(execute=True):
        sharing.data_request_answer(actor=police_data_officer, request=demand, approve=False,
                                    reason="用途超出职责范围", legal_basis="《个人信息保护法》第三十四条")
    assert inbox(market_data_officer)[-1] == f"数据共享需求不予共享：{number}"
    refused = Notification.objects.filter(recipient=market_data_officer).order_by("pk").last()
    assert refused is not None
    assert "理由：用途超出职责范围；依据：《个人信息保护法》第三十四条" in refused.body
    # Nobody else hears of the refusal, and nothing is sent twice.
    assert len(inbox(bureau_data_officer)) == 1 and len(inbox(police_data_officer)) == 1


def test_a_grant_and_its_revocation_are_told_to_both_sides(
        market_data_officer: User, bureau_data_officer: User, police_data_officer: User,
        people_resource: Resource, django_capture_on_commit_callbacks: Any) -> None:
    demand = file(market_data_officer, people_resource)
    demand = sharing.data_request_check(actor=bureau_data_officer, request=demand)
    with django_capture_on_commit_callbacks(execute=True):
        sharing.data_request_answer(actor=police_data_officer, request=demand, approve=True)
    assert inbox(market_data_officer) == [f"数据共享需求已授权：{demand.number}"]
    with django_capture_on_commit_callbacks(execute=True):
        sharing.grant_revoke(actor=police_data_officer, grant=Grant.objects.get(request=demand),
                             reason="用途已终止")
    assert inbox(market_data_officer)[-1] == "数据共享授权已撤销：LZ-GA-0001 户籍人口基本信息"
    assert inbox(police_data_officer)[-1] == "数据共享授权已撤销：LZ-GA-0001 户籍人口基本信息"


def test_nothing_is_told_of_a_step_that_did_not_commit(
        market_data_officer: User, bureau_data_officer: User, people_resource: Resource,
        django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=False) as pending:
        file(market_data_officer, people_resource)
    assert pending and inbox(bureau_data_officer) == []


def test_a_source_confirmed_at_publication_is_contested_again_by_a_later_claim(
        police: Department, police_data_officer: User, market: Department,
        market_data_officer: User, bureau_data_officer: User,
        django_capture_on_commit_callbacks: Any) -> None:
    """A publication confirms an uncontested claim by itself; a department claiming the element
    later reopens the question for the bureau, which may move the source; both are told."""
    v1 = resource_save_draft(actor=police_data_officer, data=population(police))
    resource_version_submit(actor=police_data_officer, version=v1)
    with django_capture_on_commit_callbacks(execute=True):
        resource_version_review(actor=bureau_data_officer, version=v1, approve=True)
    assert inbox(police_data_officer) == ["资源目录已发布：LZ-GA-0001"]
    assert source_conflicts() == []  # confirmed for 公安局 at publication

    v2 = resource_save_draft(actor=market_data_officer,
                             data=population(market, code="LZ-SC-0009", name="个体户经营者信息"))
    resource_version_submit(actor=market_data_officer, version=v2)
    [conflict] = source_conflicts()
    assert conflict.element.identifier == "DE00001" and conflict.reopened
    assert conflict.element.source_department == police

    with django_capture_on_commit_callbacks(execute=True):
        element_source_confirm(actor=bureau_data_officer, identifier="DE00001",
                               department=market, reason="个体户登记为经营者姓名的法定来源")
    assert source_conflicts() == []
    for officer in (police_data_officer, market_data_officer):
        assert inbox(officer)[-1] == "数源确认：DE00001 姓名"
    told = Notification.objects.filter(recipient=police_data_officer).order_by("pk").last()
    assert told is not None and "确认兰州市市场监督管理局为数据元" in told.body
    # The publication of 市场监管局's claim now goes through.
    resource_version_review(actor=bureau_data_officer, version=v2, approve=True)


def test_a_rejected_resource_tells_its_provider_why(
        police: Department, police_data_officer: User, bureau_data_officer: User,
        django_capture_on_commit_callbacks: Any) -> None:
    v1 = resource_save_draft(actor=police_data_officer, data=population(police))
    resource_version_submit(actor=police_data_officer, version=v1)
    with django_capture_on_commit_callbacks(execute=True):
        resource_version_review(actor=bureau_data_officer, version=v1, approve=False,
                                note="摘要过于简略")
    assert inbox(police_data_officer) == ["资源目录被退回：LZ-GA-0001"]
    told = Notification.objects.get(recipient=police_data_officer)
    assert "审核意见：摘要过于简略" in told.body


def test_a_withdrawn_demand_is_told_to_whoever_holds_it(
        market_data_officer: User, bureau_data_officer: User, people_resource: Resource,
        django_capture_on_commit_callbacks: Any) -> None:
    demand = file(market_data_officer, people_resource)
    with django_capture_on_commit_callbacks(execute=True):
        sharing.data_request_withdraw(actor=market_data_officer, request=demand, reason="不再需要")
    assert inbox(bureau_data_officer)[-1] == f"数据共享需求已撤回：{demand.number}"
