"""The supervisor's dashboard in a real browser: live counts, the ECharts trend chart, the
drill-down to an overdue case, the metrics page and the public per-item figures."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tongban.accounts.permissions import SYSTEM
from tongban.cases.models import Case
from tongban.catalog.models import Item
from tongban.supervision.models import Kind
from tongban.supervision.services import supervision_record_open

FOOD_LICENCE = "11620100051317876B3000100139001"  # 食品经营许可（新办）, 限时办结


@pytest.mark.django_db(transaction=True)
def test_supervisor_dashboard_chart_and_drill_down(
        demo_city: None, page: Any, phone_page: Any, live_url: str, login: Any,
        axe_violations: Any) -> None:
    it = Item.objects.select_related("current").get(implementation_code=FOOD_LICENCE)
    assert it.current is not None
    now = timezone.now()
    case = Case.objects.create(
        item=it, item_version=it.current, department=it.department, channel="online",
        status="accepted", applicant_kind="natural_person", applicant_name="张三",
        applicant_id_number="620102199003077770", number="62010020260301000001",
        accepted_at=now - dt.timedelta(days=30), due_at=now - dt.timedelta(days=2))
    supervision_record_open(kind=Kind.RED_CASE, case=case, department=it.department, person=None,
                            detail="办件62010020260301000001已超过办结时限仍未办结", actor=SYSTEM)

    login(page, "supervisor")
    page.goto(f"{live_url}/supervision/")
    expect(page.get_by_role("heading", level=1)).to_have_text("电子监察")
    chart = page.locator("#sv-trend-chart")
    chart.locator("svg").first.wait_for()
    assert chart.get_attribute("data-rendered") == "true"
    expect(page.get_by_role("table", name=re.compile("每周数字"))).to_be_visible()
    expect(page.get_by_text("办件红牌超期 1").first).to_be_visible()
    assert axe_violations(page) == []

    # Drill down from the department's red figure to the case.
    row = page.get_by_role("row", name=re.compile("兰州市市场监督管理局"))
    row.get_by_role("link", name="兰州市市场监督管理局 1").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("办件明细")
    expect(page.get_by_text("62010020260301000001")).to_be_visible()

    page.goto(f"{live_url}/supervision/metrics/")
    expect(page.get_by_text("即收即办事项办结件数 ÷ 办结件数").first).to_be_visible()
    assert axe_violations(page) == []

    # The public figures on a phone, without logging in.
    phone_page.goto(f"{live_url}/supervision/public/items/")
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("事项办理情况公示")
    card = phone_page.locator("li.card").filter(has_text=FOOD_LICENCE)
    expect(card.get_by_role("heading", name="食品经营许可（新办）")).to_be_visible()
    assert "平均实际用时" in card.inner_text() and "承诺时限" in card.inner_text()
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert axe_violations(phone_page) == []

    # The supervisor on a phone: the dashboard fits, and closes the record with an opinion.
    login(phone_page, "supervisor")
    phone_page.goto(f"{live_url}/supervision/")
    phone_page.locator("#sv-trend-chart svg").first.wait_for()
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    phone_page.get_by_role("link", name="全部监察记录").click()
    phone_page.get_by_role("link", name=re.compile(r"\d{4}-\d{2}-\d{2}")).first.click()
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("办件红牌超期")
    assert axe_violations(phone_page) == []
    phone_page.get_by_label("办结意见").fill("已督促部门限期办结")
    phone_page.get_by_role("button", name="办结").click()
    expect(phone_page.get_by_text("监察记录已办结")).to_be_visible()
    expect(phone_page.get_by_text("已督促部门限期办结")).to_be_visible()
