"""The catalog in the Django admin: drafts through the rules and services, frozen versions,
review actions, and what department staff may see."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse

from tests.catalog.bureau_factories import item_data, make_department, make_staff, publish
from tongban.accounts.models import Role, User
from tongban.audit.models import AuditRecord
from tongban.catalog import guide_rows, services
from tongban.catalog.models import Faq, Fee, Item, ItemVersion, Material, Synonym, VersionStatus
from tongban.catalog.rules import ItemData
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.organizations.models import Department

S = VersionStatus
ADD_URL = reverse("admin:catalog_itemversion_add")
CHANGELIST = reverse("admin:catalog_itemversion_changelist")


def login(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def management(prefix: str, total: int, initial: int = 0) -> dict[str, Any]:
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}


def post_data(data: ItemData, *, codes: bool = True, **overrides: Any) -> dict[str, Any]:
    """The admin form's POST for ``data`` (with its materials as inline rows)."""
    post: dict[str, Any] = {}
    if codes:
        assert data.department is not None
        post.update(department=str(data.department.pk), basic_code=data.basic_code,
                    implementation_code=data.implementation_code)
    for name in ItemData.VERSION_FIELDS:
        value = getattr(data, name)
        if name == "receiving_unit":
            value = value.pk if value else ""
        elif name == "topics":
            value = "；".join(value)
        elif name == "charges_fee":
            if not value:
                continue
            value = "on"
        post[name] = value
    post["change_note"] = "新建"
    post.update(management("materials", len(data.materials)))
    for i, m in enumerate(data.materials):
        for key in ("name", "material_type", "form", "necessity", "source", "licence_type",
                    "original_copies", "copy_copies", "notes", "legal_basis"):
            post[f"materials-{i}-{key}"] = getattr(m, key)
    post.update(management("fees", 0))
    post.update(management("faqs", 0))
    post.update(overrides)
    return post


def counts() -> tuple[int, int, int, int]:
    return (Item.objects.count(), ItemVersion.objects.count(), Material.objects.count(),
            AuditRecord.objects.count())


def test_a_draft_made_in_the_admin_goes_through_the_service(client: Client, bureau: User,
                                                            dept: Department) -> None:
    data = item_data(dept)
    post = post_data(data, implementation_code="")  # left empty: built from the codes
    post.update({**management("faqs", 1), "faqs-0-position": "1", "faqs-0-question": "要带照片吗？",
                 "faqs-0-answer": "不需要。"})
    response = login(client, bureau).post(ADD_URL, post)
    assert response.status_code == 302, response.context["adminform"].form.errors
    version = ItemVersion.objects.get()
    assert (version.item.implementation_code, version.status, version.number, version.created_by) == (
        data.implementation_code, S.DRAFT, 1, bureau)
    assert services.version_content(version) == services.data_content(data)
    assert list(Faq.objects.filter(version=version).values_list("question", flat=True)) == [
        "要带照片吗？"]
    assert AuditRecord.objects.filter(action="catalog.draft_saved").count() == 1
    assert response["Location"] == reverse("admin:catalog_itemversion_changelist")


def test_an_invalid_draft_shows_the_rule_next_to_the_field_and_saves_nothing(
        client: Client, bureau: User, dept: Department) -> None:
    before = counts()
    response = login(client, bureau).post(ADD_URL, post_data(item_data(dept), committed_limit=25))
    assert response.status_code == 200
    form = response.context["adminform"].form
    message = "承诺办结时限（25）不得超过法定办结时限（20）"
    assert form.errors == {"committed_limit": [message]}
    html = response.content.decode()
    # Rendered in the committed_limit row's own error list.
    row = html[html.index('id="id_committed_limit_error"'):]
    assert row[:row.index("</ul>")].endswith(f"<li>{message}</li>")
    assert counts() == before


def test_an_invalid_material_shows_the_rule_on_its_row(client: Client, bureau: User,
                                                       dept: Department) -> None:
    before = counts()
    overrides: dict[str, Any] = {"materials-1-copy_copies": "0"}
    post = post_data(item_data(dept), **overrides)
    response = login(client, bureau).post(ADD_URL, post)
    assert response.status_code == 200
    materials = next(fs.formset for fs in response.context["inline_admin_formsets"]
                     if fs.formset.prefix == "materials")
    assert [f.errors for f in materials.forms] == [
        {}, {"copy_copies": ["材料类型为复印件时，复印件份数至少为1、原件份数为0"]}]
    assert counts() == before


def test_editing_a_draft_in_the_admin_rewrites_it(client: Client, bureau: User,
                                                  dept: Department) -> None:
    data = item_data(dept)
    draft = services.item_save_draft(actor=bureau, data=data)
    url = reverse("admin:catalog_itemversion_change", args=[draft.pk])
    post = post_data(data, codes=False, name="改名后的事项")
    post.update(management("materials", 2, initial=2))
    for i, m in enumerate(draft.materials.all()):
        post[f"materials-{i}-id"] = m.pk
        post[f"materials-{i}-version"] = draft.pk
    post["materials-1-DELETE"] = "on"
    response = login(client, bureau).post(url, post)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.name, draft.number, ItemVersion.objects.count()) == ("改名后的事项", 1, 1)
    assert list(draft.materials.values_list("name", flat=True)) == ["申请表"]


def test_a_published_version_is_read_only_in_the_admin(client: Client, bureau: User,
                                                       dept: Department) -> None:
    version = publish(item_data(dept), actor=bureau)
    url = reverse("admin:catalog_itemversion_change", args=[version.pk])
    login(client, bureau)
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert 'name="_save"' not in page.content.decode()
    before = services.version_content(version)
    response = client.post(url, post_data(item_data(dept, name="偷改"), codes=False))
    assert response.status_code == 403
    version.refresh_from_db()
    assert services.version_content(version) == before


def run_action(client: Client, action: str, versions: list[ItemVersion], **extra: str) -> Any:
    return client.post(CHANGELIST, {"action": action,
                                    ACTION_CHECKBOX_NAME: [v.pk for v in versions], **extra})


def test_submit_publish_return_and_cancel_actions(client: Client, bureau: User,
                                                  dept: Department) -> None:
    login(client, bureau)
    first = services.item_save_draft(actor=bureau, data=item_data(dept, sequence=1))
    second = services.item_save_draft(actor=bureau, data=item_data(dept, sequence=2))
    assert run_action(client, "submit_versions", [first, second], index="0").status_code == 302
    assert {v.status for v in ItemVersion.objects.all()} == {S.UNDER_REVIEW}

    run_action(client, "publish_versions", [first], index="0")
    first.refresh_from_db()
    assert first.status == S.PUBLISHED

    # Returning asks for the note on an intermediate page first.
    page = run_action(client, "return_versions", [second], index="0")
    assert page.status_code == 200
    assert page.templates[0].name == "catalog/bureau/admin_note.html"
    second.refresh_from_db()
    assert second.status == S.UNDER_REVIEW
    run_action(client, "return_versions", [second], note="请补充设定依据", apply="确定")
    second.refresh_from_db()
    assert (second.status, second.review_note) == (S.DRAFT, "请补充设定依据")

    run_action(client, "cancel_versions", [first], note="职能调整", apply="确定")
    first.refresh_from_db()
    assert (first.status, first.review_note) == (S.CANCELLED, "职能调整")


def test_an_action_the_services_refuse_reports_why_and_changes_nothing(
        client: Client, bureau: User, dept: Department) -> None:
    draft = services.item_save_draft(actor=bureau, data=item_data(dept))
    login(client, bureau)
    response = run_action(client, "publish_versions", [draft], index="0")
    assert [str(m) for m in response.wsgi_request._messages] == [
        f"{draft}：版本状态“草稿”不能变为“已发布”"]
    draft.refresh_from_db()
    assert draft.status == S.DRAFT


def test_department_staff_see_their_own_items_and_cannot_publish(
        client: Client, dept: Department, bureau: User) -> None:
    other = make_department("兰州市其他局")
    officer = make_staff("officer", Role.OFFICER, dept)
    mine = services.item_save_draft(actor=officer, data=item_data(dept))
    theirs = services.item_save_draft(actor=bureau, data=item_data(other))
    login(client, officer)
    page = client.get(CHANGELIST)
    assert [v.pk for v in page.context["cl"].result_list] == [mine.pk]
    assert client.get(reverse("admin:catalog_itemversion_change", args=[theirs.pk])).status_code == 302

    services.version_submit(actor=officer, version=mine)
    response = run_action(client, "publish_versions", [mine], index="0")
    # (The message before it says the other department's version was not found.)
    assert [str(m) for m in response.wsgi_request._messages][-1] == f"{mine}：您无权执行此操作"
    mine.refresh_from_db()
    assert mine.status == S.UNDER_REVIEW

    # The choice of 实施主体 offers only their own department.
    form = client.get(ADD_URL).context["adminform"].form
    assert list(form.fields["department"].queryset) == [dept]


def test_citizens_and_clerks_cannot_use_the_catalog_admin(client: Client, dept: Department,
                                                          citizen: User) -> None:
    clerk = make_staff("clerk", Role.CLERK, dept)
    for user in (clerk, citizen):
        login(client, user)
        response = client.get(ADD_URL)
        assert response.status_code in (302, 403)
        assert client.post(ADD_URL, post_data(item_data(dept))).status_code in (302, 403)
    assert counts()[:3] == (0, 0, 0)


def test_items_are_read_only_with_their_versions_and_history_link(
        client: Client, bureau: User, dept: Department) -> None:
    v1 = publish(item_data(dept), actor=bureau)
    services.item_save_draft(actor=bureau, data=item_data(dept, committed_limit=3))
    login(client, bureau)
    url = reverse("admin:catalog_item_change", args=[v1.item_id])
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    html = page.content.decode()
    history = reverse("catalog:bureau_item_history", args=[v1.item.implementation_code])
    assert f'href="{history}"' in html
    versions = next(fs.formset for fs in page.context["inline_admin_formsets"])
    assert [f.instance.number for f in versions.forms] == [2, 1]
    assert client.get(reverse("admin:catalog_item_add")).status_code == 403


def test_synonyms_are_edited_in_the_admin(client: Client, bureau: User) -> None:
    login(client, bureau)
    response = client.post(reverse("admin:catalog_synonym_add"),
                           {"term": "暂住证", "synonyms": "居住证；流动人口居住登记"})
    assert response.status_code == 302
    assert Synonym.objects.get(term="暂住证").synonym_list() == ["居住证", "流动人口居住登记"]


def test_a_draft_cannot_be_added_while_a_version_is_under_review(client: Client, bureau: User,
                                                                 dept: Department) -> None:
    data = item_data(dept)
    pending = services.item_save_draft(actor=bureau, data=data)
    services.version_submit(actor=bureau, version=pending)
    before = counts()
    response = login(client, bureau).post(ADD_URL, post_data(item_data(dept, name="改名")))
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "该事项有一个审核中的版本，请先审核或退回后再修改"]
    assert counts() == before
    # The version under review itself is shown read-only.
    page = client.get(reverse("admin:catalog_itemversion_change", args=[pending.pk]))
    assert page.context["has_change_permission"] is False


def fee_and_faq_post(draft: ItemVersion, data: ItemData) -> dict[str, Any]:
    """The change form's POST of ``draft`` as stored (its materials, fees and FAQ as rows)."""
    post = post_data(data, codes=False)
    post.update(management("materials", draft.materials.count(), initial=draft.materials.count()))
    for i, m in enumerate(draft.materials.all()):
        post[f"materials-{i}-id"] = m.pk
        post[f"materials-{i}-version"] = draft.pk
    fees, faqs = list(draft.fees.all()), list(draft.faqs.all())
    post.update(management("fees", len(fees), initial=len(fees)))
    for i, f in enumerate(fees):
        post.update({f"fees-{i}-id": f.pk, f"fees-{i}-version": draft.pk, f"fees-{i}-name": f.name,
                     f"fees-{i}-amount": str(f.amount), f"fees-{i}-unit": f.unit,
                     f"fees-{i}-basis": f.basis})
    post.update(management("faqs", len(faqs), initial=len(faqs)))
    for i, q in enumerate(faqs):
        post.update({f"faqs-{i}-id": q.pk, f"faqs-{i}-version": draft.pk,
                     f"faqs-{i}-position": q.position, f"faqs-{i}-question": q.question,
                     f"faqs-{i}-answer": q.answer})
    return post


def add_row(post: dict[str, Any], prefix: str, **values: Any) -> None:
    n = int(post[f"{prefix}-TOTAL_FORMS"])
    post[f"{prefix}-TOTAL_FORMS"] = str(n + 1)
    post.update({f"{prefix}-{n}-{k}": v for k, v in values.items()})


def test_fees_and_faqs_changed_in_the_admin_go_through_the_audited_services(
        client: Client, bureau: User, dept: Department) -> None:
    data = item_data(dept)
    draft = services.item_save_draft(actor=bureau, data=data)
    url = reverse("admin:catalog_itemversion_change", args=[draft.pk])
    login(client, bureau)

    post = fee_and_faq_post(draft, data)
    add_row(post, "fees", name="工本费", amount="20.00", unit="每件", basis="甘价费〔2020〕1号")
    add_row(post, "faqs", position="1", question="能否代办？", answer="可以委托他人。")
    response = client.post(url, post)
    assert response.status_code == 302
    fee, faq = Fee.objects.get(version=draft), Faq.objects.get(version=draft)
    saved = {r.action: r.detail for r in AuditRecord.objects.filter(
        action__in=["catalog.fee_saved", "catalog.faq_saved"])}
    assert saved == {
        "catalog.fee_saved": {"version": 1, "fee": fee.pk, "created": True,
                              "fields": ["amount", "basis", "name", "unit"], "name": "工本费",
                              "amount": "20.00", "unit": "每件", "basis": "甘价费〔2020〕1号"},
        "catalog.faq_saved": {"version": 1, "faq": faq.pk, "created": True,
                              "fields": ["answer", "position", "question"], "position": 1,
                              "question": "能否代办？", "answer": "可以委托他人。"},
    }
    assert not AuditRecord.objects.filter(action__startswith="admin.").exists()

    # Changing one fee's amount records that field only; deleting the FAQ records its removal.
    post = fee_and_faq_post(draft, data)
    post["fees-0-amount"] = "25.00"
    post["faqs-0-DELETE"] = "on"
    assert client.post(url, post).status_code == 302
    fee.refresh_from_db()
    assert (fee.amount, Faq.objects.filter(version=draft).exists()) == (Decimal("25.00"), False)
    changed = AuditRecord.objects.filter(action="catalog.fee_saved").order_by("-seq").first()
    assert changed is not None
    assert changed.detail == {"version": 1, "fee": fee.pk, "created": False,
                              "fields": ["amount"], "amount": "25.00"}
    deleted = AuditRecord.objects.get(action="catalog.faq_deleted")
    assert (deleted.object_id, deleted.detail) == (
        data.implementation_code, {"version": 1, "faq": faq.pk, "text": "能否代办？"})

    # Saving the rows unchanged writes and records nothing about them.
    before = AuditRecord.objects.filter(action__in=["catalog.fee_saved",
                                                    "catalog.faq_saved"]).count()
    assert client.post(url, fee_and_faq_post(draft, data)).status_code == 302
    assert AuditRecord.objects.filter(action__in=["catalog.fee_saved",
                                                  "catalog.faq_saved"]).count() == before


def test_an_invalid_fee_or_faq_is_refused_next_to_its_field(client: Client, bureau: User,
                                                            dept: Department) -> None:
    data = item_data(dept)
    draft = services.item_save_draft(actor=bureau, data=data)
    url = reverse("admin:catalog_itemversion_change", args=[draft.pk])
    post = fee_and_faq_post(draft, data)
    add_row(post, "fees", name="工本费", amount="-5", unit="每件", basis="甘价费〔2020〕1号")
    add_row(post, "faqs", position="1", question="能否代办？", answer="  ")
    before = (counts(), Fee.objects.count(), Faq.objects.count())
    response = login(client, bureau).post(url, post)
    assert response.status_code == 200
    formsets = {fs.formset.prefix: fs.formset for fs in response.context["inline_admin_formsets"]}
    assert [f.errors for f in formsets["fees"].forms] == [{"amount": ["“金额(元)”不能为负数"]}]
    assert [f.errors for f in formsets["faqs"].forms] == [{"answer": ["这个字段是必填项。"]}]
    assert (counts(), Fee.objects.count(), Faq.objects.count()) == before


def test_the_fee_and_faq_services_refuse_a_frozen_version_and_other_departments(
        bureau: User, dept: Department) -> None:
    published = publish(item_data(dept))
    before = AuditRecord.objects.count()
    try:
        guide_rows.fee_save(actor=bureau, version=published, name="工本费", amount=Decimal("1"),
                          basis="依据")
    except RuleViolation as exc:
        assert [(p.field, str(p.message)) for p in exc.problems] == [
            ("status", "只有草稿的收费项目和常见问题可以修改")]
    else:
        raise AssertionError("a published version's fees changed")
    draft = services.item_save_draft(actor=bureau, data=item_data(dept, sequence=2))
    outsider = make_staff("outsider", Role.OFFICER, make_department("兰州市其他局"))
    try:
        guide_rows.faq_save(actor=outsider, version=draft, question="问", answer="答")
    except AccessDenied:
        pass
    else:
        raise AssertionError("another department's officer changed the FAQ")
    assert (Fee.objects.count(), Faq.objects.count()) == (0, 0)
    assert AuditRecord.objects.count() == before + 1  # the second draft only
