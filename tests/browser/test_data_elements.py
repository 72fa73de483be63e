"""The element dictionary in a real browser: anyone on a phone finds an element and its code
list; the data bureau's data officer drafts an element and publishes it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tongban.exchange.models import DataElement, ElementStatus


@pytest.mark.django_db(transaction=True)
def test_public_dictionary_and_the_bureau_publishing(
        demo_city: None, page: Any, phone_page: Any, live_url: str, login: Any,
        axe_violations: Any) -> None:
    phone_page.goto(f"{live_url}/data/elements/")
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("数据元目录")
    phone_page.get_by_label("查找").fill("性别")
    phone_page.get_by_role("button", name="查找").click()
    phone_page.get_by_role("link", name="性别代码").click()
    expect(phone_page.get_by_role("heading", level=1)).to_contain_text("DE00003")
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert axe_violations(phone_page) == []
    phone_page.get_by_role("link", name="GB/T 2261.1 人的性别代码").click()
    expect(phone_page.get_by_text("未说明的性别")).to_be_visible()
    assert axe_violations(phone_page) == []

    login(page, "data", path="/accounts/staff/login/?next=/data/elements/manage/")
    page.goto(f"{live_url}/data/elements/new/")
    page.get_by_label("内部标识符").fill("DE09001")
    page.get_by_label("中文名称").fill("户籍迁出日期")
    page.get_by_label("说明（定义）").fill("办理户口迁出登记的日期")
    page.get_by_label("数据类型").select_option("date")
    assert axe_violations(page) == []
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已保存数据元 DE09001")).to_be_visible()
    page.get_by_role("button", name="审核通过并发布").click()
    expect(page.get_by_text("已发布数据元 DE09001")).to_be_visible()
    assert DataElement.objects.get(identifier="DE09001").status == ElementStatus.PUBLISHED
