"""The one NinjaAPI at /api/v1/: assembles each app's router.

Every operation declares its auth: ``auth=None`` for public reads (explicitly), otherwise the
default bearer/session auth below; the services then check the concrete permission.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import HttpBearer, SessionAuth

from tongban.accounts.services import token_authenticate
from tongban.core.errors import AccessDenied, RuleViolation


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = token_authenticate(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="tongban API",
    version="1",
    urls_namespace="api",
    auth=[BearerAuth(), SessionAuth()],
    docs_url="/docs",
)


@api.exception_handler(RuleViolation)
def rule_violation(request: HttpRequest, exc: RuleViolation) -> HttpResponse:
    return api.create_response(request, {"detail": exc.as_list()}, status=422)


@api.exception_handler(AccessDenied)
def access_denied(request: HttpRequest, exc: AccessDenied) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or _("您无权执行此操作")}, status=403)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"detail": _("需要登录或有效的访问令牌")}, status=401)


@api.exception_handler(ValidationError)
def invalid_input(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    # Pydantic's own messages, with the location of each faulty field, e.g. ["body", "limit"].
    return api.create_response(request, {"detail": exc.errors}, status=422)


def _register() -> None:
    from tongban.accounts.api import router as accounts_router
    from tongban.catalog.api import router as catalog_router
    from tongban.clock.api import router as clock_router
    from tongban.organizations.api import router as organizations_router

    api.add_router("/auth", accounts_router)
    api.add_router("/", organizations_router)
    api.add_router("/", catalog_router)
    api.add_router("/calendar", clock_router)


_register()
