"""With debug off: HSTS, a Content-Security-Policy, and `check --deploy` clean but for W008."""

from __future__ import annotations

import secrets

import pytest
from django.conf import settings
from django.core import checks
from django.test import Client
from pytest_django.fixtures import Settings

POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
          "img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'")


@pytest.mark.django_db
def test_https_answers_carry_hsts_and_the_content_security_policy(client: Client) -> None:
    response = client.get("/", secure=True)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert response["Content-Security-Policy"] == POLICY
    api = client.get("/api/v1/halls", secure=True)
    assert api["Content-Security-Policy"] == POLICY


@pytest.mark.django_db
def test_plain_http_gets_no_hsts_but_the_policy(client: Client) -> None:
    response = client.get("/")
    assert "Strict-Transport-Security" not in response
    assert response["Content-Security-Policy"] == POLICY


@pytest.mark.django_db
def test_an_empty_policy_sends_no_header(client: Client, settings: Settings) -> None:
    settings.CONTENT_SECURITY_POLICY = ""
    assert "Content-Security-Policy" not in client.get("/")


def test_check_deploy_leaves_only_what_the_tls_proxy_does(settings: Settings,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # The browser tests' conftest (imported whenever tests/ is collected) allows async-unsafe calls
    # for Playwright; a deployment never sets it, and async.E001 would report it.
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)
    settings.SECRET_KEY = secrets.token_urlsafe(50)
    found = checks.run_checks(include_deployment_checks=True)
    ids = sorted(m.id or "" for m in found if m.id not in settings.SILENCED_SYSTEM_CHECKS)
    assert ids == ["security.W008"]  # HTTPS redirect: the TLS-terminating proxy's job
    assert settings.SILENCED_SYSTEM_CHECKS == ["security.W021"]


def test_the_proxy_ssl_header_is_read_from_its_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    import tongban.settings as module

    monkeypatch.setenv("TONGBAN_PROXY_SSL_HEADER", "X-Forwarded-Proto: https")
    try:
        reloaded = importlib.reload(module)
        assert reloaded.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
    finally:
        monkeypatch.delenv("TONGBAN_PROXY_SSL_HEADER")
        importlib.reload(module)
    assert not hasattr(settings, "SECURE_PROXY_SSL_HEADER") or settings.SECURE_PROXY_SSL_HEADER is None
