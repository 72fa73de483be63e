"""The browser reaches the platform: the public home page renders in Chinese, without serious
accessibility violations, on a desktop and a phone-sized screen."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect


def test_home_page_in_a_real_browser(page: Any, phone_page: Any, live_url: str,
                                     axe_violations: Any) -> None:
    for tab in (page, phone_page):
        tab.goto(live_url + "/")
        assert tab.locator("html").get_attribute("lang") == "zh-CN"
        expect(tab.get_by_role("link", name="四办清单").first).to_be_visible()
        assert axe_violations(tab) == []
        # Nothing wider than the screen: no sideways scrolling on a phone.
        assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
