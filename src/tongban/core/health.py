"""Readiness: the checks ``/readyz`` runs, registered by the apps that own what they check.

``/healthz`` says the process is alive and reaches its database (for a load balancer). ``/readyz``
says the whole installation does its work: the database answers, the queue is being worked
(``scheduling``: the oldest queued task and the most overdue schedule are younger than their
limits — a stopped ``tongban worker`` shows there, it has no heartbeat of its own), and the audit
sealer keeps up (``audit``). Each check returns ``(ok, details)``; one failing check makes the
answer 503, with every check's details in the JSON body.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

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
