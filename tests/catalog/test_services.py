"""The catalog's editing services: the version state machine, permissions and the audit trail."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

import pytest

from tests.catalog.bureau_factories import (
    item_data,
    make_staff,
    material,
    publish,
    with_changes,
)
from tongban.accounts.models import Role, User
from tongban.accounts.permissions import Actor
from tongban.audit.models import AuditRecord
from tongban.catalog import services
from tongban.catalog.models import (
    Faq,
    Fee,
    Item,
    ItemVersion,
    Material,
    SearchEntry,
    VersionStatus,
)
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.organizations.models import Department

S = VersionStatus


def snapshot() -> dict[str, Any]:
    """Everything the editing services may write, to prove a refused call wrote nothing."""
    return {
        "items": list(Item.objects.order_by("pk").values()),
        "versions": list(ItemVersion.objects.order_by("pk").values()),
        "materials": list(Material.objects.order_by("pk").values()),
        "audit": AuditRecord.objects.count(),
        "search": list(SearchEntry.objects.order_by("pk").values()),
    }


def status_problem(exc: pytest.ExceptionInfo[RuleViolation]) -> list[tuple[str, str]]:
    return [(p.field, str(p.message)) for p in exc.value.problems]


def test_the_state_machine_is_the_documented_one() -> None:
    transitions = services.TRANSITIONS
    assert transitions == {
        S.DRAFT: {S.UNDER_REVIEW},
        S.UNDER_REVIEW: {S.DRAFT, S.PUBLISHED},
        S.PUBLISHED: {S.SUPERSEDED, S.CANCELLED},
        S.SUPERSEDED: set(),
        S.CANCELLED: set(),
    }


# --- allowed transitions ------------------------------------------------------------------------

def test_save_draft_creates_the_item_and_version_one(officer: User, dept: Department) -> None:
    data = item_data(dept)
    draft = services.item_save_draft(actor=officer, data=data, change_note="新增事项")
    item = Item.objects.get(implementation_code=data.implementation_code)
    assert (draft.item_id, draft.number, draft.status) == (item.pk, 1, S.DRAFT)
    assert (draft.created_by_id, draft.change_note) == (officer.pk, "新增事项")
    assert item.current_id is None  # nothing public yet
    assert services.version_content(draft) == services.data_content(data)
    assert list(draft.materials.values_list("position", "name")) == [(1, "申请表"), (2, "身份证明")]


def test_saving_again_overwrites_the_draft(officer: User, dept: Department) -> None:
    data = item_data(dept)
    first = services.item_save_draft(actor=officer, data=data)
    second = services.item_save_draft(
        actor=officer, data=with_changes(data, name="改名后的事项", materials=[material("新表")]),
        change_note="改名")
    assert second.pk == first.pk
    assert ItemVersion.objects.count() == 1
    second.refresh_from_db()
    assert (second.name, second.number, second.change_note) == ("改名后的事项", 1, "改名")
    assert list(second.materials.values_list("name", flat=True)) == ["新表"]


def test_submit_moves_draft_to_review(officer: User, dept: Department) -> None:
    draft = services.item_save_draft(actor=officer, data=item_data(dept))
    submitted = services.version_submit(actor=officer, version=draft)
    draft.refresh_from_db()
    assert submitted.status == draft.status == S.UNDER_REVIEW


def test_approval_publishes_and_indexes(admin_user: User, officer: User, dept: Department) -> None:
    draft = services.item_save_draft(actor=officer, data=item_data(dept))
    services.version_submit(actor=officer, version=draft)
    published = services.version_review(actor=admin_user, version=draft, approve=True, note="同意")
    draft.refresh_from_db()
    item = draft.item
    assert (draft.status, draft.review_note, draft.published_by_id) == (
        S.PUBLISHED, "同意", admin_user.pk)
    assert draft.published_at is not None
    assert published.pk == item.current_id == draft.pk
    assert SearchEntry.objects.filter(item=item).count() == 1


def test_return_sends_the_version_back_to_draft_with_the_note(
        admin_user: User, officer: User, dept: Department) -> None:
    draft = services.item_save_draft(actor=officer, data=item_data(dept))
    services.version_submit(actor=officer, version=draft)
    services.version_review(actor=admin_user, version=draft, approve=False, note="补充设定依据")
    draft.refresh_from_db()
    assert (draft.status, draft.review_note) == (S.DRAFT, "补充设定依据")
    assert draft.item.current_id is None
    # The returned draft can be corrected and submitted again.
    services.item_save_draft(actor=officer, data=item_data(dept, legal_basis="《行政许可法》"))
    services.version_submit(actor=officer, version=draft)
    draft.refresh_from_db()
    assert (draft.status, draft.legal_basis) == (S.UNDER_REVIEW, "《行政许可法》")


def test_a_newer_publication_supersedes_the_old_one(admin_user: User, dept: Department) -> None:
    data = item_data(dept)
    v1 = publish(data, actor=admin_user)
    v2 = publish(with_changes(data, committed_limit=3), actor=admin_user, note="压缩时限")
    v1.refresh_from_db()
    assert (v1.number, v1.status, v2.number, v2.status) == (1, S.SUPERSEDED, 2, S.PUBLISHED)
    assert Item.objects.get().current_id == v2.pk
    assert ItemVersion.objects.filter(status=S.PUBLISHED).count() == 1


def test_cancel_takes_the_item_out_of_the_public_catalog(admin_user: User, dept: Department) -> None:
    version = publish(item_data(dept), actor=admin_user)
    services.item_cancel(actor=admin_user, item=version.item, reason="职能调整")
    version.refresh_from_db()
    assert (version.status, version.review_note) == (S.CANCELLED, "职能调整")
    assert not SearchEntry.objects.exists()


# --- frozen versions ----------------------------------------------------------------------------

def test_an_edit_of_a_published_item_makes_a_new_version(admin_user: User, officer: User,
                                                          dept: Department) -> None:
    data = item_data(dept)
    published = publish(data, actor=admin_user)
    before = services.version_content(published)
    start = services.version_to_data(published)
    assert services.data_content(start) == before
    draft = services.item_save_draft(actor=officer, data=with_changes(start, committed_limit=2),
                                     change_note="承诺时限压缩为2日")
    assert (draft.number, draft.status) == (2, S.DRAFT)
    published.refresh_from_db()
    assert published.status == S.PUBLISHED
    assert services.version_content(published) == before
    assert published.item.current_id == published.pk  # the public still sees version 1
    assert published.is_frozen and not draft.is_frozen


def test_a_new_draft_keeps_the_fees_and_faq_of_the_current_version(admin_user: User,
                                                                   dept: Department) -> None:
    data = item_data(dept, charges_fee=True, fee_standard="每件20元", fee_basis="某收费文件")
    draft = services.item_save_draft(actor=admin_user, data=data)
    Fee.objects.create(version=draft, name="工本费", amount=Decimal("20.00"), unit="每件",
                       basis="某收费文件")
    Faq.objects.create(version=draft, position=1, question="能否代办？", answer="可以委托他人。")
    services.version_submit(actor=admin_user, version=draft)
    v1 = services.version_review(actor=admin_user, version=draft, approve=True)
    v2 = services.item_save_draft(actor=admin_user, data=with_changes(data, committed_limit=3))
    assert v2.pk != v1.pk
    for version in (v1, v2):
        assert list(version.fees.values_list("name", "amount", "unit", "basis")) == [
            ("工本费", Decimal("20.00"), "每件", "某收费文件")]
        assert list(version.faqs.values_list("position", "question", "answer")) == [
            (1, "能否代办？", "可以委托他人。")]


@pytest.mark.parametrize("status", [S.PUBLISHED, S.SUPERSEDED, S.CANCELLED])
def test_frozen_versions_cannot_be_submitted_or_returned(admin_user: User, dept: Department,
                                                         status: str) -> None:
    data = item_data(dept)
    version = publish(data, actor=admin_user)
    if status == S.SUPERSEDED:
        publish(with_changes(data, committed_limit=3), actor=admin_user)
    elif status == S.CANCELLED:
        services.item_cancel(actor=admin_user, item=version.item, reason="撤销")
    version.refresh_from_db()
    before = snapshot()
    label = S(status).label
    with pytest.raises(RuleViolation) as exc:
        services.version_submit(actor=admin_user, version=version)
    assert status_problem(exc) == [("status", f"版本状态“{label}”不能变为“审核中”")]
    with pytest.raises(RuleViolation) as exc:
        services.version_review(actor=admin_user, version=version, approve=False, note="退回")
    assert status_problem(exc) == [("status", f"版本状态“{label}”不能变为“草稿”")]
    with pytest.raises(RuleViolation) as exc:
        services.version_review(actor=admin_user, version=version, approve=True)
    assert status_problem(exc) == [("status", f"版本状态“{label}”不能变为“已发布”")]
    assert snapshot() == before


# --- forbidden transitions ----------------------------------------------------------------------

def test_a_draft_cannot_be_published_without_review(admin_user: User, dept: Department) -> None:
    draft = services.item_save_draft(actor=admin_user, data=item_data(dept))
    before = snapshot()
    with pytest.raises(RuleViolation) as exc:
        services.version_review(actor=admin_user, version=draft, approve=True)
    assert status_problem(exc) == [("status", "版本状态“草稿”不能变为“已发布”")]
    with pytest.raises(RuleViolation) as exc:
        services.version_review(actor=admin_user, version=draft, approve=False, note="退回")
    assert status_problem(exc) == [("status", "版本状态“草稿”不能变为“草稿”")]
    assert snapshot() == before


def test_a_version_under_review_cannot_be_submitted_again_or_edited(
        officer: User, dept: Department) -> None:
    data = item_data(dept)
    draft = services.item_save_draft(actor=officer, data=data)
    services.version_submit(actor=officer, version=draft)
    before = snapshot()
    with pytest.raises(RuleViolation) as exc:
        services.version_submit(actor=officer, version=draft)
    assert status_problem(exc) == [("status", "版本状态“审核中”不能变为“审核中”")]
    with pytest.raises(RuleViolation) as exc:
        services.item_save_draft(actor=officer, data=with_changes(data, name="改名"))
    assert status_problem(exc) == [("status", "该事项有一个审核中的版本，请先审核或退回后再修改")]
    assert snapshot() == before


def test_only_a_published_item_can_be_cancelled(admin_user: User, dept: Department) -> None:
    draft = services.item_save_draft(actor=admin_user, data=item_data(dept))
    before = snapshot()
    with pytest.raises(RuleViolation) as exc:
        services.item_cancel(actor=admin_user, item=draft.item, reason="撤销")
    assert status_problem(exc) == [("status", "该事项没有已发布的版本")]
    assert snapshot() == before


def test_a_cancelled_item_cannot_be_cancelled_again(admin_user: User, dept: Department) -> None:
    version = publish(item_data(dept), actor=admin_user)
    services.item_cancel(actor=admin_user, item=version.item, reason="撤销")
    before = snapshot()
    with pytest.raises(RuleViolation) as exc:
        services.item_cancel(actor=admin_user, item=version.item, reason="再次撤销")
    assert status_problem(exc) == [("status", "该事项没有已发布的版本")]
    assert snapshot() == before


def test_return_and_cancel_need_a_reason(admin_user: User, dept: Department) -> None:
    draft = services.item_save_draft(actor=admin_user, data=item_data(dept))
    services.version_submit(actor=admin_user, version=draft)
    before = snapshot()
    with pytest.raises(RuleViolation) as exc:
        services.version_review(actor=admin_user, version=draft, approve=False, note=" ")
    assert status_problem(exc) == [("note", "退回时须填写审核意见")]
    assert snapshot() == before
    published = services.version_review(actor=admin_user, version=draft, approve=True)
    before = snapshot()
    with pytest.raises(RuleViolation) as exc:
        services.item_cancel(actor=admin_user, item=published.item, reason="")
    assert status_problem(exc) == [("reason", "取消事项须说明理由")]
    assert snapshot() == before


def test_an_invalid_draft_is_not_saved(officer: User, dept: Department) -> None:
    before = snapshot()
    with pytest.raises(RuleViolation) as exc:
        services.item_save_draft(actor=officer, data=item_data(dept, committed_limit=30))
    assert status_problem(exc) == [
        ("committed_limit", "承诺办结时限（30）不得超过法定办结时限（20）")]
    assert snapshot() == before


# --- permissions --------------------------------------------------------------------------------

@pytest.mark.parametrize("role", [Role.OFFICER, Role.HEAD])
def test_department_staff_draft_and_submit_their_own_items(dept: Department, role: str) -> None:
    user = make_staff("staff", role, dept)
    draft = services.item_save_draft(actor=user, data=item_data(dept))
    assert services.version_submit(actor=user, version=draft).status == S.UNDER_REVIEW


@pytest.mark.parametrize("role", [Role.OFFICER, Role.HEAD, Role.CLERK, Role.SUPERVISOR,
                                  Role.DATA_OFFICER, Role.CITIZEN])
def test_nobody_but_department_staff_and_the_bureau_may_draft(
        dept: Department, other_dept: Department, role: str) -> None:
    # Officers and heads belong to the other department; everyone else to this one.
    home = other_dept if role in (Role.OFFICER, Role.HEAD) else dept
    user = make_staff("someone", role, home)
    before = snapshot()
    with pytest.raises(AccessDenied):
        services.item_save_draft(actor=user, data=item_data(dept))
    assert snapshot() == before


def test_an_anonymous_or_inactive_user_may_not_draft(dept: Department) -> None:
    from django.contrib.auth.models import AnonymousUser

    inactive = make_staff("gone", Role.ADMIN, None)
    inactive.is_active = False
    before = snapshot()
    # None too: what a caller outside the types would pass.
    for actor in (AnonymousUser(), inactive, cast(Actor, None)):
        with pytest.raises(AccessDenied):
            services.item_save_draft(actor=actor, data=item_data(dept))
    assert snapshot() == before


def test_staff_of_another_department_may_not_submit(dept: Department, other_dept: Department,
                                                    officer: User) -> None:
    draft = services.item_save_draft(actor=officer, data=item_data(dept))
    stranger = make_staff("stranger", Role.HEAD, other_dept)
    before = snapshot()
    with pytest.raises(AccessDenied):
        services.version_submit(actor=stranger, version=draft)
    assert snapshot() == before


@pytest.mark.parametrize("role", [Role.OFFICER, Role.HEAD, Role.SUPERVISOR])
def test_only_the_bureau_reviews_and_cancels(dept: Department, officer: User,
                                             admin_user: User, role: str) -> None:
    user = officer if role == Role.OFFICER else make_staff("other", role, dept)
    draft = services.item_save_draft(actor=officer, data=item_data(dept))
    services.version_submit(actor=officer, version=draft)
    published = publish(item_data(dept, sequence=2), actor=admin_user)
    before = snapshot()
    for approve in (True, False):
        with pytest.raises(AccessDenied):
            services.version_review(actor=user, version=draft, approve=approve, note="意见")
    with pytest.raises(AccessDenied):
        services.item_cancel(actor=user, item=published.item, reason="撤销")
    assert snapshot() == before


def test_the_bureau_may_draft_for_any_department(admin_user: User, dept: Department,
                                                 other_dept: Department) -> None:
    for department in (dept, other_dept):
        services.item_save_draft(actor=admin_user, data=item_data(department))
    assert sorted(Item.objects.values_list("department__name", flat=True)) == [
        "兰州市其他局", "兰州市测试局"]


# --- audit --------------------------------------------------------------------------------------

def test_every_step_is_audited(admin_user: User, officer: User, dept: Department) -> None:
    data = item_data(dept)
    code = data.implementation_code
    draft = services.item_save_draft(actor=officer, data=data, change_note="新增")
    services.version_submit(actor=officer, version=draft)
    services.version_review(actor=admin_user, version=draft, approve=False, note="补充材料")
    services.version_submit(actor=officer, version=draft)
    services.version_review(actor=admin_user, version=draft, approve=True, note="同意")
    services.item_save_draft(actor=officer, data=with_changes(data, committed_limit=3))
    services.item_cancel(actor=admin_user, item=draft.item, reason="职能划转")
    records = list(AuditRecord.objects.filter(object_type="item", object_id=code)
                   .values_list("actor_id", "action", "detail"))
    assert records == [
        (officer.pk, "catalog.draft_saved", {"version": 1, "created": True, "note": "新增"}),
        (officer.pk, "catalog.submitted", {"version": 1}),
        (admin_user.pk, "catalog.returned", {"version": 1, "note": "补充材料"}),
        (officer.pk, "catalog.submitted", {"version": 1}),
        (admin_user.pk, "catalog.published", {"version": 1, "note": "同意"}),
        (officer.pk, "catalog.draft_saved", {"version": 2, "created": False, "note": ""}),
        (admin_user.pk, "catalog.cancelled", {"version": 1, "reason": "职能划转"}),
    ]
