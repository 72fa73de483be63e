"""The one NinjaAPI at /api/v1/: assembles each app's router.

Every operation declares its auth: ``auth=None`` for public reads (explicitly), otherwise the
default bearer/session auth below; the services then check the concrete permission.
"""

from __future__ import annotations

from typing import Any

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.utils.encoding import force_str
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import HttpBearer, SessionAuth

from tongban.accounts.services import token_authenticate
from tongban.cases.services import CaseConflict
from tongban.core.errors import LOCK_TIMEOUT, AccessDenied, RuleViolation, lock_failure


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


@api.exception_handler(CaseConflict)
def case_conflict(request: HttpRequest, exc: CaseConflict) -> HttpResponse:
    # Looked up by the exception's class hierarchy, so this wins over the RuleViolation handler
    # (CaseConflict subclasses it): someone acted on the case first, or its state moved on.
    message = "；".join(force_str(p.message) for p in exc.problems)
    return api.create_response(request, {"detail": message or _("该办件已被他人处理，请刷新后重试")},
                               status=409)


@api.exception_handler(OperationalError)
def database_busy(request: HttpRequest, exc: OperationalError) -> HttpResponse:
    # Only a lock not granted in time is "busy" (503; its transaction was rolled back, the client
    # may retry). A deadlock goes on to ``core.middleware.LockFailureMiddleware``, which runs the
    # request once more; anything else is a fault (500).
    if lock_failure(exc) != LOCK_TIMEOUT:
        raise exc
    return api.create_response(request, {"detail": _("系统繁忙，请稍后重试")}, status=503)


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
    from tongban.audit.api import router as audit_router
    from tongban.cases.api import router as cases_router
    from tongban.catalog.api import router as catalog_router
    from tongban.clock.api import router as clock_router
    from tongban.inspections.api import router as inspections_router
    from tongban.notifications.api import router as notifications_router
    from tongban.organizations.api import router as organizations_router
    from tongban.queues.api import router as queues_router
    from tongban.ratings.api import router as ratings_router
    from tongban.supervision.api import router as supervision_router
    from tongban.workflows.api import router as workflows_router

    api.add_router("/auth", accounts_router)
    api.add_router("/", organizations_router)
    api.add_router("/", catalog_router)
    api.add_router("/calendar", clock_router)
    api.add_router("/", cases_router)
    api.add_router("/", workflows_router)
    api.add_router("/notifications", notifications_router)
    api.add_router("/queues", queues_router)
    api.add_router("/inspections", inspections_router)
    api.add_router("/ratings", ratings_router)
    api.add_router("/supervision", supervision_router)
    api.add_router("/audit", audit_router)


_register()
