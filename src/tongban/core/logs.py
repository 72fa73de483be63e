"""Structured logs: a request id on every record, and a JSON formatter.

``RequestIdMiddleware`` takes the request id from the ``X-Request-ID`` header that nginx sets
(``proxy_set_header X-Request-ID $request_id``) or makes one, keeps it in a context variable for
the time of the request and returns it in the answer's ``X-Request-ID``. ``RequestIdFilter``
(on the console handler, ``settings.LOGGING``) writes it into every log record as
``request_id``; ``JsonFormatter`` prints one JSON object per line (``TONGBAN_LOG_FORMAT=json``,
the default outside debug mode), which a log shipper reads without parsing free text.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
# A client or proxy may send any text: only a short token of safe characters is taken over (it
# ends up in log lines and a response header).
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
NO_REQUEST = "-"

request_id: ContextVar[str] = ContextVar("tongban_request_id", default=NO_REQUEST)


def current_request_id() -> str:
    """The id of the request this thread is answering (``-`` outside a request)."""
    return request_id.get()


class RequestIdMiddleware:
    """Gives each request an id (nginx's ``X-Request-ID`` when valid, else a new UUID), puts it
    on the request (``request.request_id``), on every log record and on the answer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        rid = given if _VALID.match(given) else uuid.uuid4().hex
        request.request_id = rid  # type: ignore[attr-defined]
        # Not reset on the way out: Django logs a 4xx/5xx answer ("Internal Server Error: …")
        # after the middleware has returned. Cleared when the request is finished (below).
        request_id.set(rid)
        response = self.get_response(request)
        response[HEADER] = rid
        return response


@receiver(request_finished)
def _forget_request_id(sender: Any, **kwargs: Any) -> None:
    request_id.set(NO_REQUEST)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record passing the handler (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is printed.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime",
                                                                         "request_id"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``,
    ``request_id``, ``exception`` when there is one, and the record's ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", NO_REQUEST),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
