"""The draft form of the resource catalog (/data/resources/new/, /data/resources/<code>/edit/):
a data officer drafts field by field with its data items, the service's problems come back beside
what they name and nothing is saved, only the department (or the data bureau) may draft, and
提交审核 sends the version to review."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from tongban.accounts.models import User
from tongban.audit.models import AuditRecord
from tongban.exchange.models import Resource, ResourceStatus, ResourceVersion
from tongban.exchange.services.resources import (
    ItemData,
    ResourceData,
    resource_save_draft,
    resource_version_review,
    resource_version_submit,
)
from tongban.organizations.models import Department

pytestmark = pytest.mark.usefixtures("person_elements")

NEW = "/data/resources/new/"


def entry(items: list[dict[str, Any]], **fields: str) -> dict[str, str]:
    """The posted form: a 库表 resource of persons, its items as rows, ``fields`` overriding."""
    data = {"code": "LZ-GA-0002", "name": "居民身份证信息", "classification": "basic",
            "category_code": "101002", "summary": "居民身份证的签发信息", "format": "数据库表",
            "share_type": "conditional", "share_condition": "用于政务服务办理",
            "share_basis": "", "share_method": "table", "endpoint_url": "",
            "open_type": "none", "open_condition": "", "update_cycle": "daily",
            "network": "extranet", "related_items": "", "related_resources": "",
            "items-TOTAL_FORMS": str(len(items)), "items-INITIAL_FORMS": "0",
            "items-MIN_NUM_FORMS": "0", "items-MAX_NUM_FORMS": "200", "save": "1"}
    for n, item in enumerate(items):
        for name, value in item.items():
            if value is True:
                data[f"items-{n}-{name}"] = "on"
            elif value is not False:
                data[f"items-{n}-{name}"] = value
    data.update(fields)
    return data


TWO_ITEMS = [{"key": "id_number", "name": "公民身份号码", "element": "DE00002", "is_subject": True},
             {"key": "name", "name": "姓名", "element": "de00001 姓名", "is_source": True}]


def error_of(html: str, field_id: str) -> str:
    """The error list Django renders beside a field (``id="<field id>_error"``)."""
    match = re.search(rf'<ul class="errorlist" id="{field_id}_error">(.*?)</ul>', html, re.S)
    return match.group(1) if match else ""


def test_an_officer_drafts_a_resource_with_two_items_and_sees_it_in_its_list(
        client: Client, police: Department, police_data_officer: User) -> None:
    client.force_login(police_data_officer)
    mine = client.get("/data/resources/mine/").content.decode()
    assert 'href="/data/resources/new/"' in mine and "新建资源" in mine
    page = client.get(NEW)
    assert page.status_code == 200
    html = page.content.decode()
    assert "兰州市公安局" in html and 'list="published-elements"' in html
    assert '<option value="DE00002">公民身份号码</option>' in html

    # 添加信息项: one more row, nothing checked, nothing saved, what was typed kept.
    more = client.post(NEW, {**entry(TWO_ITEMS[:1]), "add_item": "1"}).content.decode()
    assert 'name="items-TOTAL_FORMS" value="2"' in more and 'value="居民身份证信息"' in more
    assert 'name="items-1-key"' in more and "errorlist" not in more
    assert not Resource.objects.exists()

    saved = client.post(NEW, entry(TWO_ITEMS))
    assert saved.status_code == 302 and saved["Location"] == "/data/resources/mine/"
    version = ResourceVersion.objects.get(resource__code="LZ-GA-0002")
    assert version.status == ResourceStatus.DRAFT and version.resource.provider == police
    assert version.created_by == police_data_officer
    assert [(f.key, f.element.identifier, f.is_subject, f.is_source)
            for f in version.fields.order_by("position")] == [
        ("id_number", "DE00002", True, False), ("name", "DE00001", False, True)]
    assert AuditRecord.objects.filter(action="data_resource.drafted",
                                      object_id=str(version.pk)).exists()
    mine = client.get("/data/resources/mine/").content.decode()
    assert "居民身份证信息" in mine and "草稿已保存" in mine
    assert 'href="/data/resources/LZ-GA-0002/edit/">编辑草稿' in mine


@pytest.mark.parametrize(("changes", "field_id", "message"), [
    ({"share_type": "none", "share_condition": ""}, "id_share_basis", "不予共享依据"),
    ({"items-1-element": "DE99999"}, "id_items-1-element", "“DE99999”不存在"),
    ({"items-1-key": "id_number"}, "id_items-1-key", "字段名“id_number”重复"),
    ({"category_code": "201002"}, "id_category_code", "的“类”应为 1"),
])
def test_a_bad_value_is_refused_beside_its_field_and_nothing_is_saved(
        client: Client, police_data_officer: User, changes: dict[str, str], field_id: str,
        message: str) -> None:
    client.force_login(police_data_officer)
    refused = client.post(NEW, entry(TWO_ITEMS, **changes))
    assert refused.status_code == 200
    html = refused.content.decode()
    assert message in error_of(html, field_id)
    assert "未保存：请按提示修改标红的内容后再保存。" in html
    assert f'aria-describedby="{field_id}_error"' in html or \
        f'aria-describedby="{field_id}_helptext {field_id}_error"' in html
    assert 'value="居民身份证信息"' in html and 'value="公民身份号码"' in html  # kept
    assert not Resource.objects.exists() and not ResourceVersion.objects.exists()


def test_items_as_a_whole_and_a_taken_code_are_told_above_the_rows_and_at_the_code(
        client: Client, police: Department, police_data_officer: User) -> None:
    client.force_login(police_data_officer)
    html = client.post(NEW, entry([{"key": "", "name": "", "element": ""}])).content.decode()
    assert "资源至少须有一个信息项" in html.split('id="items-errors"')[1].split("</div>")[0]
    no_subject = client.post(NEW, entry([TWO_ITEMS[1]])).content.decode()
    assert "须有一个主体标识信息项" in no_subject
    resource_save_draft(actor=police_data_officer, data=ResourceData(
        code="LZ-GA-0002", name="旧资源", provider=police, classification="basic",
        category_code="101002", summary="x", format="数据库表", share_type="unconditional",
        share_method="file", update_cycle="daily", items=[ItemData("name", "姓名", "DE00001")]))
    taken = client.post(NEW, entry(TWO_ITEMS)).content.decode()
    assert "资源代码“LZ-GA-0002”已被使用" in error_of(taken, "id_code")
    assert ResourceVersion.objects.get().name == "旧资源"


def draft(officer: User, department: Department, code: str = "LZ-GA-0002") -> ResourceVersion:
    return resource_save_draft(actor=officer, data=ResourceData(
        code=code, name="居民身份证信息", provider=department, classification="basic",
        category_code="101002", summary="身份证", format="数据库表", share_type="conditional",
        share_condition="办理政务服务", share_method="table", update_cycle="daily",
        items=[ItemData("id_number", "公民身份号码", "DE00002", is_subject=True)]))


def edited(version: ResourceVersion, **changes: str) -> dict[str, str]:
    """The posted edit form of a stored draft (its one item kept, a second added)."""
    data = entry(TWO_ITEMS, **changes)
    data["items-INITIAL_FORMS"] = "1"
    data.pop("code")  # disabled on the edit page
    return data


def test_the_officer_edits_its_draft_and_submits_it_to_review(
        client: Client, police: Department, police_data_officer: User) -> None:
    version = draft(police_data_officer, police)
    client.force_login(police_data_officer)
    page = client.get("/data/resources/LZ-GA-0002/edit/").content.decode()
    assert 'value="居民身份证信息"' in page and 'value="id_number"' in page
    assert 'name="code"' in page and "disabled" in page.split('name="code"')[1].split(">")[0]
    refused = client.post("/data/resources/LZ-GA-0002/edit/",
                          {**edited(version, share_condition=""), "submit": "1"})
    assert "有条件共享的资源须填写共享条件" in error_of(refused.content.decode(),
                                                   "id_share_condition")
    version.refresh_from_db()
    assert version.status == ResourceStatus.DRAFT and version.fields.count() == 1
    sent = client.post("/data/resources/LZ-GA-0002/edit/",
                       {**edited(version, name="居民身份证签发信息"), "submit": "1"})
    assert sent.status_code == 302
    version.refresh_from_db()
    assert version.status == ResourceStatus.UNDER_REVIEW and version.name == "居民身份证签发信息"
    assert version.fields.count() == 2 and version.submitted_at is not None
    assert "已保存并提交审核" in client.get("/data/resources/mine/").content.decode()
    # Under review it cannot be edited: back to the list with the reason.
    again = client.get("/data/resources/LZ-GA-0002/edit/", follow=True).content.decode()
    assert "正在审核中，审核完成前不能修改" in again


def test_a_rejected_version_is_edited_back_to_a_draft_and_a_published_one_starts_the_next(
        client: Client, police: Department, police_data_officer: User,
        bureau_data_officer: User) -> None:
    version = draft(police_data_officer, police)
    resource_version_submit(actor=police_data_officer, version=version)
    resource_version_review(actor=bureau_data_officer, version=version, approve=False,
                            note="摘要过于简单")
    client.force_login(police_data_officer)
    mine = client.get("/data/resources/mine/").content.decode()
    assert 'href="/data/resources/LZ-GA-0002/edit/">编辑草稿' in mine
    page = client.get("/data/resources/LZ-GA-0002/edit/").content.decode()
    assert "摘要过于简单" in page
    client.post("/data/resources/LZ-GA-0002/edit/", edited(version, summary="居民身份证的签发信息"))
    version.refresh_from_db()
    assert version.status == ResourceStatus.DRAFT and version.summary == "居民身份证的签发信息"

    resource_version_submit(actor=police_data_officer, version=version)
    resource_version_review(actor=bureau_data_officer, version=version, approve=True)
    page = client.get("/data/resources/LZ-GA-0002/edit/").content.decode()
    assert "保存后形成下一版草稿" in page
    client.post("/data/resources/LZ-GA-0002/edit/", edited(version, name="居民身份证信息（二）"))
    versions = list(ResourceVersion.objects.order_by("version"))
    assert [(v.version, v.status) for v in versions] == [
        (1, ResourceStatus.PUBLISHED), (2, ResourceStatus.DRAFT)]


def test_only_the_department_or_the_data_bureau_may_draft(
        client: Client, police: Department, police_data_officer: User,
        market_data_officer: User, bureau_data_officer: User, citizen: User) -> None:
    version = draft(police_data_officer, police)
    edit = "/data/resources/LZ-GA-0002/edit/"
    assert client.get(NEW)["Location"].startswith("/accounts/login/?next=")
    assert client.get(edit)["Location"].startswith("/accounts/login/?next=")
    client.force_login(citizen)
    assert client.get(NEW).status_code == 403 and client.get(edit).status_code == 403
    client.force_login(market_data_officer)
    assert client.get(edit).status_code == 403
    assert client.post(edit, {**edited(version, name="改名"), "submit": "1"}).status_code == 403
    assert client.get("/data/resources/LZ-XX-0404/edit/").status_code == 404
    # Its own new resource naming another department's code is refused, not a 403 page.
    taken = client.post(NEW, entry(TWO_ITEMS)).content.decode()
    assert "已被使用" in error_of(taken, "id_code")
    version.refresh_from_db()
    assert version.name == "居民身份证信息" and version.status == ResourceStatus.DRAFT

    # The data bureau may draft for any department: it chooses the provider of a new one.
    client.force_login(bureau_data_officer)
    assert client.get(edit).status_code == 200
    client.post(edit, edited(version, name="居民身份证信息（数据局修改）"))
    version.refresh_from_db()
    assert version.name == "居民身份证信息（数据局修改）"
    assert 'name="provider"' in client.get(NEW).content.decode()
    client.post(NEW, entry(TWO_ITEMS, code="LZ-GA-0003", provider=str(police.pk)))
    assert Resource.objects.get(code="LZ-GA-0003").provider == police
