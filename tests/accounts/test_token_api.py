"""Bearer tokens: POST /api/v1/auth/token and their use on GET /api/v1/auth/me."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from tongban.accounts.models import ApiToken, User


def _issue(client: Client, username: str, password: str) -> Any:
    return client.post("/api/v1/auth/token", data=json.dumps({"username": username, "password": password}),
                       content_type="application/json")


@pytest.mark.django_db
def test_right_password_gives_a_token_usable_as_bearer(client: Client, citizen: User) -> None:
    response = _issue(client, "citizen", "secret-pass-123")
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    me = Client().get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.json() == {"username": "citizen", "real_name": "citizen", "role": "citizen",
                         "department": None}


@pytest.mark.django_db
def test_token_is_stored_only_as_its_sha256(client: Client, citizen: User) -> None:
    token = _issue(client, "citizen", "secret-pass-123").json()["token"]
    record = ApiToken.objects.get(user=citizen)
    assert record.digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in record.digest
    assert not ApiToken.objects.filter(digest=token).exists()


@pytest.mark.django_db
def test_token_expiry_is_iso8601_with_offset(client: Client, citizen: User) -> None:
    body = _issue(client, "citizen", "secret-pass-123").json()
    assert body["expires_at"].endswith("+08:00")


@pytest.mark.django_db
def test_wrong_password_is_401_with_a_clear_message(client: Client, citizen: User) -> None:
    response = _issue(client, "citizen", "wrong-password")
    assert response.status_code == 401
    assert response.json() == {"detail": "用户名或密码错误"}
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_me_without_token_is_401(client: Client) -> None:
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.json() == {"detail": "需要登录或有效的访问令牌"}


@pytest.mark.django_db
def test_expired_token_is_401(client: Client, citizen: User) -> None:
    token = _issue(client, "citizen", "secret-pass-123").json()["token"]
    ApiToken.objects.filter(user=citizen).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = Client().get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


@pytest.mark.django_db
def test_token_of_a_deactivated_account_is_401(client: Client, citizen: User) -> None:
    token = _issue(client, "citizen", "secret-pass-123").json()["token"]
    User.objects.filter(pk=citizen.pk).update(is_active=False)
    response = Client().get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


@pytest.mark.django_db
def test_repeated_failures_lock_the_account_out(client: Client, citizen: User,
                                                settings: Settings) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        assert _issue(client, "citizen", "wrong-password").status_code == 401
    third = _issue(client, "citizen", "wrong-password")
    assert third.status_code == 429
    assert third.json() == {"detail": "该账号在当前网络地址登录失败次数过多，已暂时锁定，请30分钟后再试；"
                                      "从其他网络地址登录不受影响"}
    # Locked out: even the right password is refused now, and no token is issued.
    locked = _issue(client, "citizen", "secret-pass-123")
    assert locked.status_code == 429
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_login_page_is_locked_out_by_the_same_counter(client: Client, citizen: User,
                                                      settings: Settings) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        _issue(client, "citizen", "wrong-password")
    response = client.post("/accounts/login/", {"username": "citizen", "password": "secret-pass-123"})
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_used_token_is_refused_from_the_next_request_once_revoked(client: Client,
                                                                     citizen: User) -> None:
    """Nothing of a token is kept between requests (``token_authenticate`` reads it each time):
    deleting it, deactivating its account or changing the account's role counts at once."""
    token = _issue(client, "citizen", "secret-pass-123").json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert Client().get("/api/v1/auth/me", headers=headers).json()["role"] == "citizen"
    User.objects.filter(pk=citizen.pk).update(role="enterprise")
    assert Client().get("/api/v1/auth/me", headers=headers).json()["role"] == "enterprise"
    User.objects.filter(pk=citizen.pk).update(is_active=False)
    assert Client().get("/api/v1/auth/me", headers=headers).status_code == 401
    User.objects.filter(pk=citizen.pk).update(is_active=True)
    assert Client().get("/api/v1/auth/me", headers=headers).status_code == 200
    ApiToken.objects.filter(user=citizen).delete()
    assert Client().get("/api/v1/auth/me", headers=headers).status_code == 401


def _me(token: str) -> Any:
    return Client().get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})


@pytest.mark.django_db
def test_a_token_used_before_and_then_expired_is_401(client: Client, citizen: User) -> None:
    token = _issue(client, "citizen", "secret-pass-123").json()["token"]
    assert _me(token).status_code == 200
    ApiToken.objects.filter(user=citizen).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _me(token).status_code == 401
