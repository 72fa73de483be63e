"""Login lockout: the pair (username, address) is locked, not the username everywhere nor the
address for everyone; an address spraying many names is throttled (``core.lockout``)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from tests.conftest import make_user
from tongban.accounts.models import ApiToken, Role, User

PASSWORD = "secret-pass-123"
ATTACKER, HOME, OFFICE = "203.0.113.7", "198.51.100.20", "198.51.100.30"
PAIR_LOCKED = ("该账号在当前网络地址登录失败次数过多，已暂时锁定，请30分钟后再试；"
               "从其他网络地址登录不受影响")
ADDRESS_THROTTLED = "当前网络地址尝试登录的账号过多，已暂时限制从该地址登录，请30分钟后再试"


def token(username: str, password: str, address: str) -> Any:
    return Client(REMOTE_ADDR=address).post(
        "/api/v1/auth/token", data=json.dumps({"username": username, "password": password}),
        content_type="application/json")


def login_page(username: str, password: str, address: str) -> Any:
    return Client(REMOTE_ADDR=address).post("/accounts/login/",
                                            {"username": username, "password": password})


@pytest.fixture
def citizen(db: None) -> User:
    return make_user("zhaoliu", Role.CITIZEN, real_name="赵六")


@pytest.fixture
def limits(settings: Settings) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    settings.LOGIN_ADDRESS_USERNAME_LIMIT = 4


def test_failures_from_one_address_do_not_lock_the_user_out_elsewhere(
    citizen: User, limits: None,
) -> None:
    for _ in range(2):
        assert token("zhaoliu", "wrong-password", ATTACKER).status_code == 401
    third = token("zhaoliu", "wrong-password", ATTACKER)
    assert (third.status_code, third.json()) == (429, {"detail": PAIR_LOCKED})
    # The pair stays locked, even with the right password …
    assert token("zhaoliu", PASSWORD, ATTACKER).status_code == 429
    page = login_page("zhaoliu", PASSWORD, ATTACKER)
    assert page.status_code == 429 and PAIR_LOCKED in page.content.decode()
    # … but the user logs in from their own address, on the page and for a token.
    assert token("zhaoliu", PASSWORD, HOME).status_code == 200
    assert login_page("zhaoliu", PASSWORD, HOME).status_code == 302
    assert ApiToken.objects.filter(user=citizen).count() == 1


def test_failures_on_a_name_that_does_not_exist_lock_only_that_name(
    citizen: User, limits: None,
) -> None:
    for _ in range(3):
        token("no-such-user", "wrong-password", OFFICE)
    assert token("no-such-user", "wrong-password", OFFICE).status_code == 429
    # Everyone else behind the same address still logs in.
    assert token("zhaoliu", PASSWORD, OFFICE).status_code == 200


def test_an_address_spraying_many_names_is_throttled(citizen: User, limits: None) -> None:
    for name in ("admin", "root", "test"):
        assert token(name, "123456", ATTACKER).status_code == 401
    fourth = token("zhangsan", "123456", ATTACKER)  # the fourth different name
    assert (fourth.status_code, fourth.json()) == (429, {"detail": ADDRESS_THROTTLED})
    # Any further name from there is refused, whatever the password; the page says why.
    assert token("zhaoliu", PASSWORD, ATTACKER).json() == {"detail": ADDRESS_THROTTLED}
    page = login_page("zhaoliu", PASSWORD, ATTACKER)
    assert page.status_code == 429 and ADDRESS_THROTTLED in page.content.decode()
    # The accounts themselves are not locked: from another address they log in.
    assert token("zhaoliu", PASSWORD, HOME).status_code == 200
    assert ApiToken.objects.filter(user=citizen).count() == 1


def test_behind_the_tls_proxy_the_pair_is_the_one_the_proxy_saw(
    citizen: User, limits: None, settings: Settings,
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"

    def via_proxy(username: str, password: str, client: str, forged: str = "") -> Any:
        forwarded = f"{forged}, {client}" if forged else client
        return Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=forwarded).post(
            "/api/v1/auth/token", data=json.dumps({"username": username, "password": password}),
            content_type="application/json")

    for _ in range(3):
        via_proxy("zhaoliu", "wrong-password", ATTACKER, forged=HOME)
    assert via_proxy("zhaoliu", PASSWORD, ATTACKER).status_code == 429
    # Every client reaches the application from the proxy's address; the user's own still works,
    # and the attacker's forged entry did not lock it.
    assert via_proxy("zhaoliu", PASSWORD, HOME).status_code == 200
