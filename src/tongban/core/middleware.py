"""Request middleware of the platform."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
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
        try:
            return view(request, *args, **kwargs)
        except OperationalError as exc:
            if lock_failure(exc) == LOCK_TIMEOUT:
                return busy_response(request)
            raise
