"""The OpenAPI document is the contract: schemathesis calls every operation of the live WSGI app.

Each operation gets a few derandomized examples (valid and invalid input), each sent as one of
the personas that may call it or as nobody. No answer may be a server error, every status must be
documented for the operation, and every JSON body must match the documented schema.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pytest_django.fixtures import Settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tongban.accounts.models import ApiToken, User

EXAMPLES_PER_OPERATION = 15
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]

# Who calls which part of the API (the first matching path prefix wins); None is nobody.
PERSONAS: list[tuple[str, list[str | None]]] = [
    ("/api/v1/audit", ["admin", "supervisor", None]),
    ("/api/v1/supervision", ["supervisor", "head", None]),
    ("/api/v1/inspections", ["data", "admin", None]),
    ("/api/v1/ratings", ["citizen", "head", None]),
    ("/api/v1/queues", ["clerk", "supervisor", None]),
    ("/api/v1/inbox", ["officer", "head", None]),
    ("/api/v1/tasks", ["officer", "head", None]),
    ("/api/v1/extensions", ["head", None]),
    ("/api/v1/workflows", ["admin", "officer", None]),
    ("/api/v1/cases", ["citizen", "officer", "clerk", None]),
    ("/api/v1/", ["citizen", None]),
]


def _personas(path: str) -> list[str | None]:
    return next(who for prefix, who in PERSONAS if path.startswith(prefix))


def _token(user: User) -> str:
    token = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, digest=hashlib.sha256(token.encode()).hexdigest(),
                            expires_at=timezone.now() + timedelta(hours=1))
    return token


@pytest.fixture
def wsgi_app() -> Iterator[WSGIHandler]:
    """The live WSGI app, keeping the test's database connection (and transaction) across
    requests, as Django's test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.django_db
def test_every_operation_keeps_its_contract(settings: Settings, wsgi_app: WSGIHandler) -> None:
    settings.DEBUG = True  # the demo loads only in debug mode
    call_command("load_demo", stdout=StringIO())
    settings.DEBUG = False
    names = {who for _, group in PERSONAS for who in group if who}
    tokens = {name: _token(User.objects.get(username=name)) for name in names}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)

    failures: list[str] = []
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()
        operations.append(result.ok())
    assert len(operations) > 60
    for operation in operations:
        strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                             operation.as_strategy(GenerationMode.NEGATIVE))
        who = st.sampled_from(_personas(operation.path))

        @given(case=strategy, persona=who)
        @settings_for_contract
        def call(case: Any, persona: str | None) -> None:
            headers = {"Authorization": f"Bearer {tokens[persona]}"} if persona else {}
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            call()
        except BaseExceptionGroup as exc:  # every operation's failures are collected
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert failures == [], "\n\n".join(failures)


settings_for_contract = settings(
    max_examples=EXAMPLES_PER_OPERATION, derandomize=True, deadline=None, database=None,
    phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
    report_multiple_bugs=True)
