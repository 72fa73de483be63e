"""取号/叫号 in a real browser: a citizen takes a ticket on a phone, the clerk calls it from the
window page, and the hall screen (htmx polling) and the citizen's ticket page show the call."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tongban.organizations.models import Hall

CITY_HALL = "兰州市政务服务中心"


def test_take_a_ticket_call_it_and_see_it_on_the_hall_screen(
        demo_city: None, page: Any, phone_page: Any, browser: Any, live_url: str, login: Any,
        axe_violations: Any) -> None:
    hall = Hall.objects.get(name=CITY_HALL)
    screen_context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                         viewport={"width": 1920, "height": 1080})
    screen = screen_context.new_page()
    try:
        # The hall screen is open before anything happens; it refreshes its board by itself.
        screen.goto(f"{live_url}/queue/{hall.pk}/display/")
        expect(screen.get_by_text("暂无叫号")).to_be_visible()

        # A citizen on a phone: the queue pages, the city hall, the 综合受理 button.
        phone_page.goto(f"{live_url}/queue/")
        phone_page.get_by_role("row", name=re.compile(CITY_HALL)).get_by_role("link", name="取号").click()
        assert phone_page.get_by_role("heading", level=1).inner_text().startswith("取号")
        assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert axe_violations(phone_page) == []
        phone_page.get_by_label("手机号码（选填）").fill("13812345678")
        phone_page.get_by_role("button", name=re.compile("综合受理")).click()
        expect(phone_page.get_by_text("A001", exact=True)).to_be_visible()
        expect(phone_page.get_by_text("138****5678")).to_be_visible()
        status = phone_page.locator("#ticket-status")
        assert "等候中" in status.inner_text() and "0 人" in status.inner_text()
        assert axe_violations(phone_page) == []

        # The clerk at the city hall chooses window 2 once, then calls the next applicant.
        login(page, "clerk", path="/accounts/staff/login/?next=/queue/window/")
        page.goto(f"{live_url}/queue/window/")
        page.get_by_label(f"{CITY_HALL}的窗口").select_option(label="2 号窗口 · 综合受理窗口")
        page.get_by_role("button", name="进入叫号").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("叫号 · 2 号窗口（综合受理窗口）")
        page.get_by_role("button", name="叫下一位").click()
        expect(page.get_by_text("已呼叫 A001 号")).to_be_visible()
        expect(page.locator(".current .ticket-number")).to_have_text("A001")
        assert axe_violations(page) == []

        # The screen and the citizen's page pick the call up by polling.
        screen.get_by_text("请 A001 号到 2 号窗口").wait_for()
        status.get_by_text("2 号窗口").wait_for()
        assert "已叫号" in status.inner_text()
        assert axe_violations(screen) == []

        # The applicant arrives; the clerk serves and finishes.
        page.get_by_role("button", name="开始办理").click()
        page.get_by_role("button", name="办结").click()
        expect(page.get_by_text("A001 号已办结")).to_be_visible()
        expect(page.get_by_text("当前没有正在办理的号码。")).to_be_visible()
    finally:
        screen_context.close()
