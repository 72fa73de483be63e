"""The elder-friendly mode (适老化): a switch in every page's header that works without
JavaScript (a POST form and a cookie) and marks the page for the larger, simpler style."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_every_page_has_the_switch_off_by_default(client: Client) -> None:
    for url in ("/", "/topics/", "/accounts/login/", "/search/?q=社保"):
        page = client.get(url).content.decode()
        assert 'action="/accounts/elder-mode/"' in page, url
        assert 'name="elder" value="on" aria-pressed="false">适老化模式</button>' in page, url
        assert '<body class="">' in page


def test_switching_on_sets_a_cookie_and_returns_to_the_page(client: Client) -> None:
    response = client.post("/accounts/elder-mode/", {"elder": "on", "next": "/topics/?for=company"})
    assert response.status_code == 302 and response["Location"] == "/topics/?for=company"
    assert response.cookies["tongban_elder"].value == "1"
    page = client.get("/topics/").content.decode()
    assert '<body class="elder">' in page and '<html lang="zh-CN" class="elder">' in page
    assert 'name="elder" value="off" aria-pressed="true">适老化模式</button>' in page
    response = client.post("/accounts/elder-mode/", {"elder": "off", "next": "/"})
    assert response.cookies["tongban_elder"].value == ""
    assert '<body class="">' in client.get("/").content.decode()


def test_only_local_addresses_are_followed_and_only_post(client: Client) -> None:
    response = client.post("/accounts/elder-mode/", {"elder": "on", "next": "https://evil.example/"})
    assert response["Location"] == "/"
    assert client.get("/accounts/elder-mode/").status_code == 405
