"""Every URL declares who may use it (architecture.md, convention 11).

Pages: each view must carry ``access`` from ``tongban.core.access`` (``@public``,
``@require_login`` or ``@require_roles``). The Django admin is left out: it checks staff status
and model permissions itself. API: every django-ninja operation must either run an auth
callback (the default bearer/session auth) or be declared public with an explicit ``auth=None``,
and public operations may only read, except the few listed below.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from ninja.constants import NOT_SET
from ninja.operation import PathView

from tests.conftest import make_user
from tongban.accounts.models import Role
from tongban.core.access import ACCESS_ATTR, OPERATOR_ACCESS

# Public operations that are not reads, each with the reason.
PUBLIC_WRITES = {
    ("POST", "/api/v1/auth/token"),  # exchanging a password for a token happens before any auth
    ("POST", "/api/v1/calendar/deadline"),  # a pure computation (JSON body); it writes nothing
    ("POST", "/api/v1/licences/verify"),  # checks an uploaded licence file; it writes nothing
}
# Views of the API framework itself: the OpenAPI document, its browsable docs and the root.
NINJA_FRAMEWORK_VIEWS = {"openapi-json", "openapi-view", "api-root"}


def walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), namespace, entry


def all_urls() -> list[tuple[str, str, URLPattern]]:
    return list(walk(get_resolver().url_patterns))


def path_view(callback: Any) -> PathView | None:
    """The django-ninja PathView behind an API URL (its view closes over the PathView)."""
    if not inspect.isfunction(callback):
        return None
    for value in inspect.getclosurevars(callback).nonlocals.values():
        if isinstance(value, PathView):
            return value
    return None


def test_the_url_map_is_not_empty() -> None:
    routes = {route for route, _ns, _p in all_urls()}
    assert {"healthz", "accounts/login/", "api/v1/auth/token"} <= routes


def test_every_page_declares_access() -> None:
    undeclared = []
    for route, namespace, pattern in all_urls():
        if namespace in {"admin", "api"}:
            continue
        if getattr(pattern.callback, ACCESS_ATTR, None) is None:
            undeclared.append(f"/{route} → {pattern.lookup_str}")
    assert undeclared == [], "views without @public/@require_login/@require_roles:\n" + "\n".join(undeclared)


def api_operations() -> Iterator[tuple[str, str, Any]]:
    for route, namespace, pattern in all_urls():
        if namespace != "api":
            continue
        view = path_view(pattern.callback)
        if view is None:
            assert pattern.name in NINJA_FRAMEWORK_VIEWS, f"unknown API view /{route}"
            continue
        for operation in view.operations:
            for method in operation.methods:
                yield method, "/" + route, operation


def test_api_has_operations() -> None:
    assert ("POST", "/api/v1/auth/token") in {(m, r) for m, r, _op in api_operations()}


def test_every_api_operation_declares_auth() -> None:
    problems = []
    for method, route, operation in api_operations():
        if operation.auth_callbacks:
            continue  # the default (bearer or session) or an explicit auth
        if operation.auth_param is NOT_SET:
            problems.append(f"{method} {route}: no auth and not declared public (auth=None)")
        elif operation.auth_param is None and method != "GET" and (method, route) not in PUBLIC_WRITES:
            problems.append(f"{method} {route}: public (auth=None) but not a read")
    assert problems == []


def test_api_default_auth_is_bearer_or_session() -> None:
    me = next(op for m, r, op in api_operations() if (m, r) == ("GET", "/api/v1/auth/me"))
    assert [type(cb).__name__ for cb in me.auth_callbacks] == ["BearerAuth", "SessionAuth"]


def login_only_routes() -> list[str]:
    """Routes without parameters whose view needs a login (or a role); the operations side's
    (``/metrics``: an address or a token, no login) is tested in test_observability."""
    routes = []
    for route, namespace, pattern in all_urls():
        access = getattr(pattern.callback, ACCESS_ATTR, "")
        if (namespace not in {"admin", "api"} and access not in {"public", OPERATOR_ACCESS}
                and not pattern.pattern.converters):
            routes.append("/" + route)
    return routes


def test_there_are_restricted_pages() -> None:
    assert "/accounts/staff/" in login_only_routes()


@pytest.mark.django_db
@pytest.mark.parametrize("route", login_only_routes())
def test_anonymous_is_sent_to_login(client: Client, route: str) -> None:
    response = client.get(route)
    assert response.status_code == 302, route
    assert response["Location"].startswith("/accounts/login/?next=")


def sample_path(route: str, pattern: URLPattern) -> str:
    """A route with parameters filled in (1 for a number, ``X`` otherwise): a page that needs a
    login sends the anonymous visitor away before it looks anything up."""
    path = route
    for name, converter in pattern.pattern.converters.items():
        value = "1" if type(converter).__name__ == "IntConverter" else "X"
        path = re.sub(rf"<(\w+:)?{name}>", value, path)
    return "/" + path


def login_only_routes_with_parameters() -> list[str]:
    return [sample_path(route, pattern) for route, namespace, pattern in all_urls()
            if namespace not in {"admin", "api"} and pattern.pattern.converters
            and getattr(pattern.callback, ACCESS_ATTR, "") not in {"public", OPERATOR_ACCESS}]


def test_pages_with_parameters_are_listed() -> None:
    assert "/data/resources/X/edit/" in login_only_routes_with_parameters()


@pytest.mark.django_db
@pytest.mark.parametrize("path", login_only_routes_with_parameters())
def test_anonymous_is_sent_to_login_from_pages_with_parameters(client: Client, path: str) -> None:
    response = client.get(path)
    if response.status_code == 405:  # an action: POST only
        response = client.post(path)
    assert response.status_code == 302, path
    assert response["Location"].startswith("/accounts/login/?next=")


# Pages with parameters of the automatic decisions (秒批): the anonymous visitor is sent to log
# in (GET and POST alike), a role without access gets 403 (the parameter-less ones are walked
# by ``test_anonymous_is_sent_to_login``).
DECISION_PAGES: list[tuple[str, str, str]] = [
    ("get", "/decisions/rule-sets/1/export.json", Role.CITIZEN),
    ("post", "/decisions/rule-sets/1/publish/", Role.SUPERVISOR),
    ("post", "/decisions/rule-sets/1/retire/", Role.SUPERVISOR),
    ("post", "/decisions/rule-sets/import/", Role.SUPERVISOR),
    ("get", "/decisions/figures/", Role.CITIZEN),
    ("get", "/decisions/rule-sets/", Role.CITIZEN),
    ("post", "/decisions/cases/L20260101000001/human-review/", Role.SUPERVISOR),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "route", "refused"), DECISION_PAGES)
def test_decision_pages_send_the_anonymous_to_login_and_refuse_other_roles(
        client: Client, method: str, route: str, refused: str) -> None:
    response = getattr(client, method)(route)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")
    client.force_login(make_user("someone", refused))
    assert getattr(client, method)(route).status_code == 403
