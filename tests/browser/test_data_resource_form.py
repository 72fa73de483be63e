"""The resource draft form in a real browser: a department's data officer fills a new resource
at a desk, is told beside the field what is missing, adds a data item row, saves; then on a phone
opens the draft from 本部门资源 and submits it to review.

Screenshots of the form at 1366 px and 390 px go to ``TONGBAN_SCREENSHOTS`` (a directory) when
set, to the test's temporary directory otherwise."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tongban.exchange.models import ResourceStatus, ResourceVersion

CODE = "LZ-GA-0099"


def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("TONGBAN_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def fill_item(page: Any, n: int, key: str, name: str, element: str) -> None:
    page.get_by_label(f"第{n}项 字段名").fill(key)
    page.get_by_label(f"第{n}项 信息项名称").fill(name)
    page.get_by_label(f"第{n}项 数据元").fill(element)


@pytest.mark.django_db(transaction=True)
def test_a_data_officer_drafts_adds_an_item_saves_and_submits(
        demo_city: None, page: Any, phone_page: Any, live_url: str, login: Any,
        axe_violations: Any, tmp_path: Path) -> None:
    folder = shots(tmp_path)
    page.set_viewport_size({"width": 1366, "height": 900})
    login(page, "police_data", path="/accounts/staff/login/?next=/data/resources/mine/")
    page.goto(f"{live_url}/data/resources/mine/")
    page.get_by_role("link", name="新建资源").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("新建资源")
    assert axe_violations(page) == []

    page.get_by_label("资源代码").fill(CODE)
    page.get_by_label("资源名称").fill("流动人口居住登记信息")
    page.get_by_label("资源分类").select_option(label="基础信息资源")
    page.get_by_label("类目编码").fill("101099")
    page.get_by_label("资源摘要").fill("流动人口居住登记与居住证办理信息")
    page.get_by_label("资源格式").fill("数据库表")
    page.get_by_label("更新周期").select_option(label="每日")
    page.get_by_label("共享类型").select_option(label="不予共享")
    page.get_by_label("共享方式").select_option(label="库表")
    fill_item(page, 1, "id_number", "公民身份号码", "DE00002")
    page.get_by_label("第1项 主体标识").check()

    page.get_by_role("button", name="添加信息项").click()
    expect(page.get_by_label("第2项 字段名")).to_be_visible()
    expect(page.get_by_label("资源名称")).to_have_value("流动人口居住登记信息")  # kept
    fill_item(page, 2, "address", "居住地址", "DE00006")

    # 不予共享 without its legal basis: told beside the field, nothing saved.
    page.get_by_role("button", name="保存草稿").click()
    expect(page.locator("#id_share_basis_error")).to_contain_text("不予共享依据")
    expect(page.get_by_label("第2项 数据元")).to_have_value("DE00006")
    assert not ResourceVersion.objects.filter(resource__code=CODE).exists()
    page.screenshot(path=str(folder / "resource-form-1366-errors.png"), full_page=True)
    assert axe_violations(page) == []
    page.get_by_label("不予共享依据").fill("《中华人民共和国居民身份证法》第六条")
    page.screenshot(path=str(folder / "resource-form-1366.png"), full_page=True)
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_text("草稿已保存")).to_be_visible()
    version = ResourceVersion.objects.get(resource__code=CODE)
    assert version.status == ResourceStatus.DRAFT and version.fields.count() == 2

    # On a phone: open the draft from the list, add a third item, submit.
    login(phone_page, "police_data", path="/accounts/staff/login/?next=/data/resources/mine/")
    phone_page.goto(f"{live_url}/data/resources/mine/")
    phone_page.get_by_role("row").filter(has_text=CODE).get_by_role(
        "link", name="编辑草稿").click()
    expect(phone_page.get_by_label("第2项 字段名")).to_have_value("address")
    phone_page.get_by_role("button", name="添加信息项").click()
    fill_item(phone_page, 3, "name", "姓名", "DE00001")
    phone_page.screenshot(path=str(folder / "resource-form-390.png"), full_page=True)
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe_violations(phone_page) == []
    phone_page.get_by_role("button", name="提交审核").click()
    expect(phone_page.get_by_text("已保存并提交审核")).to_be_visible()
    version.refresh_from_db()
    assert version.status == ResourceStatus.UNDER_REVIEW and version.fields.count() == 3
