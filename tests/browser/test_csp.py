"""The pages work under their Content-Security-Policy: no inline script, nothing from outside."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.django_db(transaction=True)
def test_pages_work_under_the_content_security_policy(
        demo_city: None, page: Any, phone_page: Any, live_url: str, login: Any,
        axe_violations: Any) -> None:
    refused: list[str] = []
    for p in (page, phone_page):
        p.on("console", lambda message: refused.append(message.text)
             if "Content Security Policy" in message.text else None)

    # The phone's menu button (shell.js) opens the folded navigation.
    response = phone_page.goto(f"{live_url}/")
    assert response.headers["content-security-policy"].startswith("default-src 'self'; "
                                                                  "script-src 'self';")
    menu = phone_page.locator(".menu-toggle")
    assert menu.get_attribute("aria-expanded") == "false"
    menu.click()
    assert menu.get_attribute("aria-expanded") == "true"

    # The supervisor's trend chart (ECharts, styled by script) renders.
    login(page, "supervisor")
    page.goto(f"{live_url}/supervision/")
    chart = page.locator("#sv-trend-chart")
    chart.locator("svg").first.wait_for()
    assert chart.get_attribute("data-rendered") == "true"
    assert axe_violations(page) == []
    assert refused == []
