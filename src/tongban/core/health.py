"""Readiness: the checks ``/readyz`` runs, registered by the apps that own what they check.

``/healthz`` says the process is alive and reaches its database (for a load balancer). ``/readyz``
says the whole installation does its work: the database answers, the queue is being worked
(``scheduling``: the oldest queued task and the most overdue schedule are younger than their
limits — a stopped ``tongban worker`` shows there, it has no heartbeat of its own), and the audit
sealer keeps up (``audit``). Each check returns ``(ok, details)``; one failing check makes the
answer 503. The details of each check are for operators only (the monitoring networks or the
metrics token, ``access.operator_allowed``); anyone else reads ``ready`` / ``not_ready``.

``/readyz`` is public and probed every few seconds by load balancers: its answer is the result
of :func:`readiness` kept for ``READY_CACHE_SECONDS`` in each process (:func:`cached_readiness`),
so a flood of probes runs the checks at most once per process in that time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection

log = logging.getLogger(__name__)

Check = Callable[[], tuple[bool, dict[str, Any]]]

_checks: dict[str, Check] = {}


def register_check(name: str, check: Check) -> None:
    """Add (or replace) the readiness check ``name``."""
    _checks[name] = check


def database_check() -> tuple[bool, dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return True, {"vendor": connection.vendor}


register_check("database", database_check)


def readiness() -> tuple[bool, dict[str, Any]]:
    """Runs every check; a check that raises counts as failed (its error named, not its
    traceback: the answer may be seen by a load balancer's operator only)."""
    results: dict[str, Any] = {}
    ready = True
    for name, check in list(_checks.items()):
        try:
            ok, details = check()
        except Exception as exc:  # any failure of a check means "not ready", whatever its type
            log.warning("readiness check %s failed: %s", name, exc)
            ok, details = False, {"error": type(exc).__name__}
        results[name] = {"ok": ok, **details}
        ready = ready and ok
    return ready, results


_clock = time.monotonic  # replaced by the tests
_lock = threading.Lock()
_last: tuple[float, bool, dict[str, Any]] | None = None


def cached_readiness() -> tuple[bool, dict[str, Any], bool]:
    """:func:`readiness`, at most once per ``READY_CACHE_SECONDS`` in this process (0: every
    call); the third value says whether the checks ran for this call (else: the kept answer).
    One thread runs the checks, the others wait for its answer rather than run them too."""
    global _last
    max_age = float(getattr(settings, "READY_CACHE_SECONDS", 2.0))
    with _lock:
        now = _clock()
        if _last is not None and max_age > 0 and now - _last[0] < max_age:
            return _last[1], _last[2], False
        ready, results = readiness()
        _last = (_clock(), ready, results)
        return ready, results, True


def forget() -> None:
    """Drop the kept answer (the tests, between states)."""
    global _last
    with _lock:
        _last = None
