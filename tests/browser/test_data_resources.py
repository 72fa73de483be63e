"""The data resource catalog in a real browser: anyone finds a resource in the public catalog;
the data bureau confirms a contested source and reviews the two claiming resources."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tongban.exchange.models import DataElement, Resource


@pytest.mark.django_db(transaction=True)
def test_public_catalog_and_the_bureau_settles_a_source_conflict(
        demo_city: None, page: Any, phone_page: Any, live_url: str, login: Any,
        axe_violations: Any) -> None:
    phone_page.goto(f"{live_url}/data/resources/?q=户籍人口")
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("政务数据资源目录")
    assert axe_violations(phone_page) == []
    phone_page.get_by_role("link", name="户籍人口基本信息").click()
    expect(phone_page.get_by_text("兰州市公安局")).to_be_visible()
    expect(phone_page.get_by_text("DE00002")).to_be_visible()
    assert axe_violations(phone_page) == []

    login(page, "data", path="/accounts/staff/login/?next=/data/resources/conflicts/")
    page.goto(f"{live_url}/data/resources/conflicts/")
    expect(page.get_by_role("heading", name="DE00007 婚姻状况代码")).to_be_visible()
    assert axe_violations(page) == []
    conflict = page.get_by_role("article").filter(has_text="DE00007")
    conflict.get_by_label("兰州市民政局").check()
    conflict.get_by_label("确认理由").fill("婚姻状况以婚姻登记档案为准")
    conflict.get_by_role("button", name="确认数源部门").click()
    expect(page.get_by_text("已确认数源部门：兰州市民政局")).to_be_visible()
    source = DataElement.objects.get(identifier="DE00007").source_department
    assert source is not None and source.name == "兰州市民政局"

    page.goto(f"{live_url}/data/resources/review/")
    assert axe_violations(page) == []
    page.get_by_role("article").filter(has_text="LZ-GA-0010").get_by_role(
        "button", name="审核通过并发布").click()
    expect(page.get_by_text("已确认的数源部门为兰州市民政局").first).to_be_visible()
    page.get_by_role("article").filter(has_text="LZ-MZ-0010").get_by_role(
        "button", name="审核通过并发布").click()
    expect(page.get_by_text("已审核")).to_be_visible()
    assert Resource.objects.get(code="LZ-MZ-0010").current is not None
