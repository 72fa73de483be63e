"""Request middleware of the platform.

- ``LockFailureMiddleware``: a deadlock's victim is run once more; a lock time-out answers 503.
- ``RejectNulMiddleware``: input no store can hold is refused at the door, with the faulty field
  named. PostgreSQL rejects the NUL character (U+0000) in text, so a NUL anywhere in a path, a
  query parameter, a form field, an uploaded file's name or a JSON body would otherwise end as a
  server error deep inside whichever service first stores or looks it up. No legitimate input
  contains one: the request is answered 422 before any view runs and nothing changes.
- ``ContentSecurityPolicyMiddleware``: the Content-Security-Policy header.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from .errors import DEADLOCK, LOCK_TIMEOUT, lock_failure

log = logging.getLogger(__name__)

BUSY_STATUS = 503


def busy_response(request: HttpRequest) -> HttpResponse:
    """503 for a lock not granted in time: nothing was saved, the client may retry."""
    message = _("系统繁忙，请稍后重试")
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=BUSY_STATUS,
                            json_dumps_params={"ensure_ascii": False})
    return HttpResponse(message, status=BUSY_STATUS, content_type="text/plain; charset=utf-8")


class LockFailureMiddleware:
    """Runs each view; a deadlock's victim is run once more, a lock time-out answers 503.

    A deadlock victim's transaction was rolled back whole (services write in one transaction),
    so running the view again is safe: the second run usually finds the other transaction
    committed. A second deadlock in a row is a fault (500). Only a lock not granted in time
    (``core.errors.lock_failure``) is "busy" (503); any other database error is a fault. Must
    be the last middleware, so that the others' ``process_view`` ran before the view does.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Callable[..., HttpResponse],
                     args: Any, kwargs: Any) -> HttpResponse:
        outside = connection.in_atomic_block  # a transaction the request did not open (tests)
        try:
            return view(request, *args, **kwargs)
        except OperationalError as exc:
            kind = lock_failure(exc)
            if kind == LOCK_TIMEOUT:
                return busy_response(request)
            # Run again only when the request's own transactions were all rolled back.
            if (kind != DEADLOCK or connection.in_atomic_block != outside
                    or connection.needs_rollback):
                raise
            log.warning("deadlock on %s %s; running it once more", request.method, request.path)
            # The first run read the uploads; the second must find them from their start.
            for _name, uploads in request.FILES.lists():
                for upload in uploads:
                    upload.seek(0)
        try:
            return view(request, *args, **kwargs)
        except OperationalError as exc:
            if lock_failure(exc) == LOCK_TIMEOUT:
                return busy_response(request)
            raise


NUL = "\x00"


def _json_fields(value: Any, where: str) -> Iterator[str]:
    """The dotted names of the strings (keys or values) containing NUL in a JSON document."""
    if isinstance(value, str):
        if NUL in value:
            yield where
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{where}.{key}" if where else str(key)
            if NUL in str(key):
                yield name
            else:
                yield from _json_fields(item, name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_fields(item, f"{where}.{index}" if where else str(index))


def fields_with_nul(request: HttpRequest) -> list[str]:
    """The names of the request's parts that contain NUL: ``path``, parameter or field names."""
    found: list[str] = []
    if NUL in request.path_info:
        found.append("path")
    for params in (request.GET, request.POST if request.method == "POST" else None):
        if params is None:
            continue
        for key, values in params.lists():
            if NUL in key or any(NUL in v for v in values):
                found.append(key.replace(NUL, "\\0"))
    if request.method == "POST":
        for key, files in request.FILES.lists():
            if NUL in key or any(NUL in (f.name or "") for f in files):
                found.append(key.replace(NUL, "\\0"))
    if request.content_type == "application/json" and request.body:
        try:
            document = json.loads(request.body)
        except ValueError:
            document = None  # the view answers malformed JSON itself
        found.extend(_json_fields(document, ""))
    return found


class RejectNulMiddleware:
    """Answers 422 naming the field when any text of the request contains NUL."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # A cookie cannot be named to its owner: one holding NUL is simply not read.
        for name in [n for n, v in request.COOKIES.items() if NUL in n or NUL in v]:
            del request.COOKIES[name]
        fields = fields_with_nul(request)
        if not fields:
            return self.get_response(request)
        message = _("不能含有空字符（U+0000）")
        if request.path_info.startswith("/api/"):
            return JsonResponse({"detail": [{"field": f, "message": message} for f in fields]},
                                status=422, json_dumps_params={"ensure_ascii": False})
        problems = [_("“%(field)s”不能含有空字符（U+0000）") % {"field": f} for f in fields]
        return render(request, "core/bad_input.html", {"problems": problems}, status=422)


class ContentSecurityPolicyMiddleware:
    """Adds ``settings.CONTENT_SECURITY_POLICY`` to every answer that does not set its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        return response
