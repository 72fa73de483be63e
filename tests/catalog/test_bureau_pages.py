"""Staff pages for the catalog: list, draft form, submission, review queue, cancellation,
version history and comparison."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.catalog.bureau_factories import (
    item_data,
    make_staff,
    material,
    publish,
    with_changes,
)
from tongban.accounts.models import Role, User
from tongban.audit.models import AuditRecord
from tongban.catalog import services
from tongban.catalog.models import Item, ItemVersion, Material, VersionStatus
from tongban.catalog.rules import ItemData
from tongban.organizations.models import Department

S = VersionStatus
NEW_URL = reverse("catalog:bureau_item_new")
LIST_URL = reverse("catalog:bureau_items")
QUEUE_URL = reverse("catalog:bureau_review_queue")


def as_user(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def url(name: str, item: Item | ItemVersion | str) -> str:
    if isinstance(item, ItemVersion):
        item = item.item
    code = item if isinstance(item, str) else item.implementation_code
    return reverse(f"catalog:{name}", args=[code])


def form_post(data: ItemData, *, codes: bool = True, extra_rows: int = 1,
              **overrides: Any) -> dict[str, Any]:
    post: dict[str, Any] = {}
    if codes:
        assert data.department is not None
        post.update(department=data.department.pk, basic_code=data.basic_code,
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
    rows = len(data.materials) + extra_rows
    post.update({"materials-TOTAL_FORMS": rows, "materials-INITIAL_FORMS": 0,
                 "materials-MIN_NUM_FORMS": 0, "materials-MAX_NUM_FORMS": 1000})
    for i, m in enumerate(data.materials):
        for key in ("name", "material_type", "form", "necessity", "source", "licence_type",
                    "original_copies", "copy_copies", "notes", "legal_basis"):
            post[f"materials-{i}-{key}"] = getattr(m, key)
    for i in range(len(data.materials), rows):  # untouched blank rows, as the browser sends them
        post.update({f"materials-{i}-original_copies": 0, f"materials-{i}-copy_copies": 0})
    post["change_note"] = "新建"
    post.update(overrides)
    return post


def field_errors(html: str, field_id: str) -> list[str]:
    """The messages rendered in the error list that belongs to one input."""
    match = re.search(rf'<ul class="errorlist" id="{re.escape(field_id)}_error">(.*?)</ul>', html,
                      re.S)
    return re.findall(r"<li>(.*?)</li>", match.group(1)) if match else []


def counts() -> tuple[int, int, int, int]:
    return (Item.objects.count(), ItemVersion.objects.count(), Material.objects.count(),
            AuditRecord.objects.count())


# --- who may enter ------------------------------------------------------------------------------

def test_staff_pages_need_an_editor_role(client: Client, dept: Department, citizen: User) -> None:
    response = client.get(LIST_URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    for user in (citizen, make_staff("clerk", Role.CLERK, dept),
                 make_staff("supervisor", Role.SUPERVISOR, None)):
        as_user(client, user)
        assert client.get(LIST_URL).status_code == 403
        assert client.post(NEW_URL, form_post(item_data(dept))).status_code == 403
    assert counts() == (0, 0, 0, 0)


def test_review_queue_and_cancel_are_for_the_bureau(client: Client, officer: User, bureau: User,
                                                    dept: Department) -> None:
    version = publish(item_data(dept), actor=bureau)
    as_user(client, officer)
    assert client.get(QUEUE_URL).status_code == 403
    assert client.post(url("bureau_item_cancel", version), {"note": "撤销"}).status_code == 403
    version.refresh_from_db()
    assert version.status == S.PUBLISHED


# --- list ---------------------------------------------------------------------------------------

def test_officers_list_their_department_and_the_bureau_all(
        client: Client, officer: User, bureau: User, dept: Department,
        other_dept: Department) -> None:
    published = publish(item_data(dept, sequence=1, name="已发布事项"), actor=bureau)
    draft = services.item_save_draft(actor=officer, data=item_data(dept, sequence=2, name="草稿事项"))
    submitted = services.item_save_draft(actor=officer,
                                         data=item_data(dept, sequence=3, name="审核中事项"))
    services.version_submit(actor=officer, version=submitted)
    services.item_save_draft(actor=bureau, data=item_data(other_dept, name="他局事项"))

    def names(client: Client, **params: Any) -> list[str]:
        page = client.get(LIST_URL, params)
        assert page.status_code == 200
        return [i.latest_name for i in page.context["page"]]

    as_user(client, officer)
    assert names(client) == ["已发布事项", "草稿事项", "审核中事项"]
    assert names(client, status="draft") == ["草稿事项"]
    assert names(client, status="under_review") == ["审核中事项"]
    assert names(client, status="published") == ["已发布事项"]
    assert names(client, q="审核") == ["审核中事项"]
    assert names(client, q=draft.item.implementation_code) == ["草稿事项"]
    html = client.get(LIST_URL).content.decode()
    assert "第1版 草稿" in html and "第1版 审核中" in html
    assert published.item.implementation_code in html

    as_user(client, bureau)
    assert sorted(names(client)) == sorted(["已发布事项", "草稿事项", "审核中事项", "他局事项"])
    assert names(client, department=other_dept.pk) == ["他局事项"]


def queries_for(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def test_list_and_history_queries_do_not_grow_with_the_items(client: Client, officer: User,
                                                             bureau: User, dept: Department) -> None:
    data = item_data(dept, sequence=1)
    publish(data, actor=bureau)
    services.item_save_draft(actor=officer, data=with_changes(data, committed_limit=3))
    as_user(client, officer)
    history = url("bureau_item_history", data.implementation_code)
    few = (queries_for(client, LIST_URL), queries_for(client, history))
    for sequence in range(2, 7):
        more = item_data(dept, sequence=sequence)
        publish(more, actor=bureau)
        services.item_save_draft(actor=officer, data=with_changes(more, committed_limit=2))
    for number in range(3):
        publish(with_changes(data, committed_limit=4 - number), actor=bureau)
    assert (queries_for(client, LIST_URL), queries_for(client, history)) == few


# --- the draft form -----------------------------------------------------------------------------

def test_a_new_draft_is_saved_through_the_service(client: Client, officer: User,
                                                  dept: Department) -> None:
    data = item_data(dept)
    response = as_user(client, officer).post(NEW_URL, form_post(data, implementation_code=""))
    assert response.status_code == 302
    assert response["Location"] == url("bureau_item_history", data.implementation_code)
    draft = ItemVersion.objects.get()
    assert (draft.status, draft.created_by, draft.change_note) == (S.DRAFT, officer, "新建")
    assert services.version_content(draft) == services.data_content(data)
    assert AuditRecord.objects.filter(action="catalog.draft_saved", actor=officer).count() == 1


def test_each_rule_message_is_shown_next_to_its_field(client: Client, officer: User,
                                                      dept: Department) -> None:
    data = item_data(dept, materials=[material("申请表"),
                                      material("营业执照", material_type="copy", original_copies=0,
                                               copy_copies=0)])
    post = form_post(data, committed_limit=25, complaint_phone=data.consultation_phone,
                     online_depth=4)
    before = counts()
    response = as_user(client, officer).post(NEW_URL, post)
    assert response.status_code == 200
    html = response.content.decode()
    assert field_errors(html, "id_committed_limit") == ["承诺办结时限（25）不得超过法定办结时限（20）"]
    assert field_errors(html, "id_complaint_phone") == ["监督投诉电话不能与咨询电话相同"]
    assert field_errors(html, "id_required_visits") == ["全程网办（Ⅳ）事项的到现场次数须为0"]
    assert field_errors(html, "id_materials-1-copy_copies") == [
        "材料类型为复印件时，复印件份数至少为1、原件份数为0"]
    assert field_errors(html, "id_materials-0-copy_copies") == []
    assert counts() == before


def test_a_wrong_implementation_code_is_reported_on_its_field(client: Client, officer: User,
                                                              dept: Department) -> None:
    data = item_data(dept)
    wrong = dept.uscc + "4" + data.basic_code
    response = as_user(client, officer).post(NEW_URL, form_post(data, implementation_code=wrong))
    assert field_errors(response.content.decode(), "id_implementation_code") == [
        f"实施编码应为实施主体统一社会信用代码+行使层级代码+基本编码，即“{data.implementation_code}”"]
    assert counts()[0] == 0


def test_an_officer_cannot_draft_for_another_department(client: Client, officer: User,
                                                        other_dept: Department) -> None:
    response = as_user(client, officer).post(NEW_URL, form_post(item_data(other_dept)))
    assert response.status_code == 200
    assert field_errors(response.content.decode(), "id_department") == [
        "所选部门不存在，或您无权为该部门编辑事项"]
    assert counts() == (0, 0, 0, 0)


def test_editing_a_published_item_starts_a_new_draft_from_it(client: Client, officer: User,
                                                             bureau: User, dept: Department) -> None:
    data = item_data(dept)
    v1 = publish(data, actor=bureau)
    before = services.version_content(v1)
    edit = url("bureau_item_edit", v1)
    as_user(client, officer)
    page = client.get(edit)
    form = page.context["form"]
    assert (form.initial["name"], form.initial["committed_limit"]) == (data.name, 5)
    assert [f.initial["name"] for f in page.context["formset"].initial_forms] == ["申请表", "身份证明"]
    assert form.fields["department"].disabled

    changed = with_changes(data, committed_limit=3,
                           materials=[*data.materials, material("委托书")])
    post = form_post(changed, codes=False, change_note="压缩承诺时限")
    response = client.post(edit, post)
    assert response.status_code == 302
    v1.refresh_from_db()
    assert v1.status == S.PUBLISHED and services.version_content(v1) == before
    v2 = ItemVersion.objects.get(number=2)
    assert (v2.status, v2.committed_limit, v2.change_note) == (S.DRAFT, 3, "压缩承诺时限")
    assert list(v2.materials.values_list("name", flat=True)) == ["申请表", "身份证明", "委托书"]


def test_save_and_submit(client: Client, officer: User, dept: Department) -> None:
    data = item_data(dept)
    response = as_user(client, officer).post(NEW_URL, {**form_post(data), "submit": "1"})
    assert response.status_code == 302
    assert ItemVersion.objects.get().status == S.UNDER_REVIEW


def test_a_version_under_review_cannot_be_edited(client: Client, officer: User,
                                                 dept: Department) -> None:
    draft = services.item_save_draft(actor=officer, data=item_data(dept))
    services.version_submit(actor=officer, version=draft)
    response = as_user(client, officer).get(url("bureau_item_edit", draft))
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "该事项有一个审核中的版本，请先审核或退回后再修改"]


def test_submit_from_the_list(client: Client, officer: User, dept: Department,
                              other_dept: Department, bureau: User) -> None:
    mine = services.item_save_draft(actor=officer, data=item_data(dept))
    theirs = services.item_save_draft(actor=bureau, data=item_data(other_dept))
    as_user(client, officer)
    assert client.post(url("bureau_item_submit", mine)).status_code == 302
    mine.refresh_from_db()
    assert mine.status == S.UNDER_REVIEW
    # Another department's item is not there for this officer; nothing changes.
    assert client.post(url("bureau_item_submit", theirs)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == S.DRAFT


# --- review and cancel --------------------------------------------------------------------------

def test_the_bureau_publishes_and_returns_from_the_queue(client: Client, officer: User,
                                                         bureau: User, dept: Department) -> None:
    first = services.item_save_draft(actor=officer, data=item_data(dept, sequence=1))
    second = services.item_save_draft(actor=officer, data=item_data(dept, sequence=2))
    for v in (first, second):
        services.version_submit(actor=officer, version=v)
    as_user(client, bureau)
    queue = client.get(QUEUE_URL)
    assert [v.pk for v in queue.context["versions"]] == [first.pk, second.pk]

    client.post(url("bureau_item_review", first), {"decision": "approve", "note": "同意"})
    first.refresh_from_db()
    assert (first.status, first.review_note, first.published_by) == (S.PUBLISHED, "同意", bureau)

    response = client.post(url("bureau_item_review", second), {"decision": "return", "note": ""})
    assert [str(m) for m in get_messages(response.wsgi_request)][-1] == f"{second.name}：退回时须填写审核意见"
    second.refresh_from_db()
    assert second.status == S.UNDER_REVIEW
    client.post(url("bureau_item_review", second), {"decision": "return", "note": "补充材料"})
    second.refresh_from_db()
    assert (second.status, second.review_note) == (S.DRAFT, "补充材料")
    assert list(client.get(QUEUE_URL).context["versions"]) == []


def test_cancel_needs_a_reason(client: Client, bureau: User, dept: Department) -> None:
    version = publish(item_data(dept), actor=bureau)
    cancel = url("bureau_item_cancel", version)
    as_user(client, bureau)
    assert client.get(cancel).status_code == 200
    response = client.post(cancel, {"note": " "})
    assert response.status_code == 200
    assert field_errors(response.content.decode(), "id_note") == ["取消事项须说明理由"]
    version.refresh_from_db()
    assert version.status == S.PUBLISHED
    assert client.post(cancel, {"note": "职能划转"}).status_code == 302
    version.refresh_from_db()
    assert (version.status, version.review_note) == (S.CANCELLED, "职能划转")


# --- history and comparison ---------------------------------------------------------------------

@pytest.fixture
def revised(officer: User, bureau: User, dept: Department) -> Item:
    """An item published twice (v1 superseded by v2) with a returned draft v3."""
    data = item_data(dept)
    publish(data, actor=bureau, note="首次发布")
    v2 = services.item_save_draft(actor=officer, change_note="压缩时限，调整材料", data=with_changes(
        data, committed_limit=3, materials=[
            material("申请表", original_copies=2), material("委托书")]))
    services.version_submit(actor=officer, version=v2)
    services.version_review(actor=bureau, version=v2, approve=True, note="同意")
    v3 = services.item_save_draft(actor=officer, data=with_changes(data, name="新名称"),
                                  change_note="改名")
    services.version_submit(actor=officer, version=v3)
    services.version_review(actor=bureau, version=v3, approve=False, note="名称不规范")
    return Item.objects.get()


def test_history_lists_every_version_with_who_when_and_notes(client: Client, officer: User,
                                                             revised: Item) -> None:
    page = as_user(client, officer).get(url("bureau_item_history", revised))
    assert page.status_code == 200
    rows = [(v.number, v.status, v.change_note, v.review_note) for v in page.context["versions"]]
    assert rows == [(3, S.DRAFT, "改名", "名称不规范"), (2, S.PUBLISHED, "压缩时限，调整材料", "同意"),
                    (1, S.SUPERSEDED, "首次发布", "")]
    html = page.content.decode()
    for text in ("草稿", "已发布", "已被新版本取代", "名称不规范", "bureau-admin", "officer"):
        assert text in html
    trail = [(e.actor, str(e.action), e.version) for e in page.context["trail"]]
    assert trail[-3:] == [("officer", "保存草稿", 3), ("officer", "提交审核", 3),
                          ("bureau-admin", "退回修改", 3)]


def test_comparing_two_versions_field_by_field(client: Client, officer: User,
                                               revised: Item) -> None:
    diff_url = url("bureau_item_diff", revised)
    page = as_user(client, officer).get(diff_url, {"a": 1, "b": 2})
    diff = page.context["diff"]
    assert [(f.label, f.old, f.new) for f in diff.changed_fields] == [("承诺办结时限", "5", "3")]
    materials = [(m.name, m.change, [(f.label, f.old, f.new) for f in m.fields])
                 for m in diff.materials]
    assert materials == [
        ("申请表", "changed", [("原件份数", "1", "2")]),
        ("委托书", "added", [(f.label, "", f.new) for f in diff.materials[1].fields]),
        ("身份证明", "removed", [(f.label, f.old, "") for f in diff.materials[2].fields]),
    ]
    html = page.content.decode()
    assert "承诺办结时限" in html and "已修改" in html and "事项名称" not in html

    default = client.get(diff_url).context["diff"]  # the latest against the one before
    assert (default.old.number, default.new.number) == (2, 3)
    assert [(f.name, f.old, f.new) for f in default.changed_fields] == [
        ("name", "测试事项1", "新名称"), ("committed_limit", "3", "5")]
    earlier = client.get(diff_url, {"b": 2}).context["diff"]  # against the one before it
    assert (earlier.old.number, earlier.new.number) == (1, 2)
    assert client.get(diff_url, {"a": 9}).status_code == 404


def test_history_of_another_departments_item_is_not_shown(client: Client, revised: Item,
                                                          other_dept: Department) -> None:
    stranger = make_staff("stranger", Role.HEAD, other_dept)
    as_user(client, stranger)
    assert client.get(url("bureau_item_history", revised)).status_code == 404
    assert client.get(url("bureau_item_diff", revised)).status_code == 404
