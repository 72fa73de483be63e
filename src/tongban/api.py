"""The one NinjaAPI at /api/v1/: assembles each app's router.

Every operation declares its auth: ``auth=None`` for public reads (explicitly), otherwise the
default bearer/session auth below; the services then check the concrete permission.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.utils.encoding import force_str
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.constants import NOT_SET
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from tongban.accounts.services import token_authenticate
from tongban.cases.services import CaseConflict
from tongban.core.errors import LOCK_TIMEOUT, AccessDenied, RuleViolation, lock_failure
from tongban.core.schemas import ErrorOut, ProblemsOut


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(NinjaSessionAuth):
    """The browser's session; its CSRF check applies only to a request that has a logged-in session.

    A request without one (anonymous, or a bearer token that is not valid) is simply not
    authenticated and gets 401, not a CSRF 403.
    """

    def _get_key(self, request: HttpRequest) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return super()._get_key(request)

    def __call__(self, request: HttpRequest) -> Any:
        key = self._get_key(request)
        return self.authenticate(request, key) if key is not None else None


api = NinjaAPI(
    title="tongban API",
    version="1",
    urls_namespace="api",
    auth=[BearerAuth(), SessionAuth()],
    docs_url="/docs",
)


@api.exception_handler(RuleViolation)
def rule_violation(request: HttpRequest, exc: RuleViolation) -> HttpResponse:
    exc.run_on_rollback()  # records of the refused attempt left for after a rollback
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
    # An auth class that knows why (an exchange key revoked or expired) says so; ninja's own
    # refusal carries its English default, answered with ours.
    said = exc.message if exc.message != AuthenticationError().message else ""
    return api.create_response(request, {"detail": said or _("需要登录或有效的访问令牌")},
                               status=401)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        # The only 400 is a body that is not JSON (or not the form the operation reads).
        problem = {"field": "body", "message": _("请求体不是有效的JSON"), "loc": ["body"],
                   "type": "json_invalid", "msg": str(exc)}
        return api.create_response(request, {"detail": [problem]}, status=422)
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


# Where a value was read from; the field is named without it (and without the body's argument name).
_SOURCES = {"body", "query", "path", "form", "file", "header", "cookie"}


def _field(loc: list[Any]) -> str:
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    if len(parts) > 1 and parts[0] in {"payload", "query", "filters", "data", "body"}:
        parts = parts[1:]
    return ".".join(str(p) for p in parts)


def _message(error: dict[str, Any]) -> str:
    """The validator's complaint in the request's language (Chinese by default)."""
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    messages = {
        "missing": _("缺少此项"),
        "greater_than_equal": _("不能小于%(ge)s") % ctx if "ge" in ctx else "",
        "less_than_equal": _("不能大于%(le)s") % ctx if "le" in ctx else "",
        "greater_than": _("须大于%(gt)s") % ctx if "gt" in ctx else "",
        "less_than": _("须小于%(lt)s") % ctx if "lt" in ctx else "",
        "int_parsing": _("须为整数"),
        "int_type": _("须为整数"),
        "int_from_float": _("须为整数"),
        "float_parsing": _("须为数字"),
        "bool_parsing": _("须为true或false"),
        "string_type": _("须为文字"),
        "string_too_long": _("不能超过%(max_length)s个字符") % ctx if "max_length" in ctx else "",
        "string_too_short": _("至少%(min_length)s个字符") % ctx if "min_length" in ctx else "",
        "too_long": _("最多%(max_length)s项") % ctx if "max_length" in ctx else "",
        "date_parsing": _("须为日期（YYYY-MM-DD）"),
        "date_from_datetime_parsing": _("须为日期（YYYY-MM-DD）"),
        "datetime_parsing": _("须为时刻（ISO 8601）"),
        "datetime_from_date_parsing": _("须为时刻（ISO 8601）"),
        "literal_error": _("须为以下之一：%(expected)s") % ctx if "expected" in ctx else "",
        "enum": _("须为以下之一：%(expected)s") % ctx if "expected" in ctx else "",
        "json_invalid": _("请求体不是有效的JSON"),
    }
    message = messages.get(kind) or force_str(error.get("msg", ""))
    return message.removeprefix("Value error, ")


@api.exception_handler(ValidationError)
def invalid_input(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    # Each faulty field is named (``field``) with a message in the request's language; ``loc``,
    # ``type`` and ``msg`` keep the validator's own words. The input itself is not echoed back.
    detail = [{"field": _field(list(e.get("loc", []))), "message": _message(e),
               "loc": list(e.get("loc", [])), "type": e.get("type", ""),
               "msg": force_str(e.get("msg", ""))} for e in exc.errors]
    return api.create_response(request, {"detail": detail}, status=422)


def _register() -> None:
    from tongban.accounts.api import router as accounts_router
    from tongban.audit.api import router as audit_router
    from tongban.cases.api import router as cases_router
    from tongban.cases.notifications.api import router as notifications_router
    from tongban.cases.workflows.api import router as workflows_router
    from tongban.catalog.api import router as catalog_router
    from tongban.clock.api import router as clock_router
    from tongban.decisions.api import router as decisions_router
    from tongban.exchange.api import routers as exchange_routers
    from tongban.inspections.api import router as inspections_router
    from tongban.licences.api import router as licences_router
    from tongban.organizations.api import router as organizations_router
    from tongban.queues.api import router as queues_router
    from tongban.ratings.api import router as ratings_router
    from tongban.supervision.api import router as supervision_router

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
    for data_router in exchange_routers:
        api.add_router("/", data_router)
    api.add_router("/", licences_router)
    api.add_router("/", decisions_router)


def _document_errors() -> None:
    """Document, on every operation, each error status it can answer, with the shared bodies.

    401 and 403 wherever a login is needed (403 also when a session's CSRF token is missing or
    the service refuses the account), 404 where the path names an object, 422 where there is any
    input, 503 everywhere (the database was busy; the request changed nothing and may be retried).
    Statuses an operation declares itself keep its own schema, except 422, which is always the
    problems list the handlers above answer.
    """
    routers = [entry[1] for entry in api._routers]
    while routers:
        router = routers.pop()
        routers.extend(entry[1] for entry in router._routers)
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                _document_operation(path, operation)


def _document_operation(path: str, operation: Any) -> None:
    # With more than one status declared, a plain return means 200: operations that answer
    # anything else return Status(...) or an HttpResponse.
    models = operation.response_models
    wanted: dict[int, Any] = {503: ErrorOut}
    # Operations that say nothing get the API's login (bound later, when routed).
    if operation.auth_param is NOT_SET or operation.auth_param:
        wanted.update({401: ErrorOut, 403: ErrorOut})
    if re.search(r"{[^}]+}", path):
        wanted[404] = ErrorOut
    if operation.models:
        wanted[422] = ProblemsOut
    for status, schema in wanted.items():
        if status == 422 or status not in models:
            models[status] = operation._create_response_model(schema)


_register()
_document_errors()
