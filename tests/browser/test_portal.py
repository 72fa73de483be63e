"""The portal in a real browser: registering and logging in, finding a service on a phone,
the elder-friendly mode, and axe-core on the main pages in Chinese and English."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

LIMITED = "11620100051317876B3000100139001"  # 食品经营许可（新办）
def _font_px(page: Any, selector: str) -> float:
    script = f"parseFloat(getComputedStyle(document.querySelector('{selector}')).fontSize)"
    return float(page.evaluate(script))


def _no_sideways_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def test_a_new_citizen_registers_and_logs_in_again(page: Any, live_url: str, demo_city: None,
                                                   login: Any) -> None:
    page.goto(live_url + "/")
    page.get_by_role("link", name="注册", exact=True).click()
    page.get_by_label("姓名", exact=True).fill("赵小燕")
    page.get_by_label("公民身份号码").fill("620102198503150028")
    page.get_by_label("手机号码").fill("139 1234 5678")
    page.get_by_label("用户名").fill("zhaoxy")
    page.get_by_label("密码", exact=True).fill("a-long-passphrase")
    page.get_by_label("确认密码").fill("a-long-passphrase")
    page.get_by_role("button", name="注册").click()
    page.wait_for_load_state()
    expect(page.get_by_text("注册成功，您已登录。")).to_be_visible()
    expect(page.get_by_role("link", name="赵小燕")).to_be_visible()
    page.get_by_role("button", name="退出").click()
    page.wait_for_load_state()
    login(page, "zhaoxy", "a-long-passphrase")
    expect(page.get_by_role("link", name="赵小燕")).to_be_visible()
    # A staff account at the public door is pointed to the staff page.
    page.get_by_role("button", name="退出").click()
    page.wait_for_load_state()
    login(page, "officer", path="/accounts/login/")
    expect(page.get_by_text("这是工作人员账户")).to_be_visible()
    page.get_by_role("link", name="前往工作人员登录页").click()
    expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()


def test_finding_an_item_by_search_and_by_topic_on_a_phone(phone_page: Any, live_url: str,
                                                           demo_city: None) -> None:
    page = phone_page
    page.goto(live_url + "/")
    page.get_by_label("查找事项").fill("食品经营许可")
    page.get_by_role("button", name="搜索").click()
    page.wait_for_load_state()
    assert _no_sideways_scroll(page)
    page.get_by_role("link", name="食品经营许可（新办）").first.click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", name=re.compile("食品经营许可（新办）"))).to_be_visible()
    expect(page.get_by_role("link", name="在线办理")).to_be_visible()
    expect(page.get_by_text("零跑动：无需到现场")).to_be_visible()
    assert _no_sideways_scroll(page)
    # By topic: the folded menu, 主题服务, 法人办事, the topic 准营准办.
    menu = page.get_by_role("button", name="菜单")
    assert menu.get_attribute("aria-expanded") == "false"
    expect(page.get_by_role("link", name="主题服务")).to_be_hidden()
    menu.click()
    assert menu.get_attribute("aria-expanded") == "true"
    page.get_by_role("link", name="主题服务").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="法人办事").click()
    page.wait_for_load_state()
    page.get_by_role("link", name=re.compile("^准营准办")).click()
    page.wait_for_load_state()
    expect(page.get_by_role("link", name="食品经营许可（新办）").first).to_be_visible()
    assert _no_sideways_scroll(page)
    # By life event.
    page.goto(live_url + "/topics/?for=person")
    page.get_by_role("link", name=re.compile("^结婚")).click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", name="结婚：要办的事")).to_be_visible()
    assert _no_sideways_scroll(page)


def test_elder_mode_stays_on_across_pages_and_enlarges_the_text(page: Any, phone_page: Any,
                                                               live_url: str, demo_city: None) -> None:
    for tab in (page, phone_page):
        tab.goto(live_url + "/")
        before = _font_px(tab, "main p")
        switch = tab.get_by_role("button", name="适老化模式")
        assert switch.get_attribute("aria-pressed") == "false"
        switch.click()
        tab.wait_for_load_state()
        assert tab.get_by_role("button", name="适老化模式").get_attribute("aria-pressed") == "true"
        assert _font_px(tab, "main p") >= 20 > before
        tab.goto(live_url + f"/items/{LIMITED}/")
        assert tab.get_by_role("button", name="适老化模式").get_attribute("aria-pressed") == "true"
        assert _font_px(tab, ".answer p") >= 20
        assert _font_px(tab, "h1") > _font_px(tab, ".answer p")
        assert _no_sideways_scroll(tab)
        # Switched off again on another page: normal size everywhere.
        tab.get_by_role("button", name="适老化模式").click()
        tab.wait_for_load_state()
        tab.goto(live_url + "/topics/")
        assert tab.get_by_role("button", name="适老化模式").get_attribute("aria-pressed") == "false"
        assert _font_px(tab, "main") < 20


MAIN_PAGES = ["/", "/search/?q=%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7", "/topics/", "/topics/?for=company",
              "/topics/events/marriage/", f"/items/{LIMITED}/", "/accounts/login/",
              "/accounts/staff/login/", "/accounts/register/", "/accounts/register/company/"]


def test_no_serious_accessibility_violations_in_chinese_and_english(
        page: Any, live_url: str, demo_city: None, axe_violations: Any) -> None:
    found: dict[str, Any] = {}
    for language in ("zh-CN", "en"):
        if language == "en":
            page.goto(live_url + "/")
            page.get_by_role("button", name="English").click()
            page.wait_for_load_state()
        for path in MAIN_PAGES:
            page.goto(live_url + path)
            assert page.locator("html").get_attribute("lang") == language
            assert page.locator("h1").count() == 1, path
            violations = axe_violations(page)
            if violations:
                found[f"{language} {path}"] = violations
    # The elder-friendly mode too (higher contrast must not break contrast).
    page.goto(live_url + "/")
    page.get_by_role("button", name="简体中文").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="适老化模式").click()
    page.wait_for_load_state()
    for path in ("/", f"/items/{LIMITED}/", "/accounts/register/"):
        page.goto(live_url + path)
        violations = axe_violations(page)
        if violations:
            found[f"elder {path}"] = violations
    assert found == {}
