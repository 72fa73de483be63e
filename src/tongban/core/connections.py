"""Kept PostgreSQL connections checked without a round trip when nothing has happened to them.

With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` on a kept connection before the first
query of every request, so that a restarted or failed-over server costs the requests in flight
and not every later one. That is one more round trip for every request — as many as the one
query of a small page. A server that ends a session (a restart, ``pg_terminate_backend``, a
backend that died) says so on the socket: it sends its last message and closes, so the idle
connection's socket becomes readable. An idle connection whose socket has nothing to read has
had nothing happen to it: :func:`skip_quiet_health_checks`, run at the start of each request
after Django's own ``close_old_connections``, marks such connections as checked; on any other
(something to read, a connection in a transaction or broken) Django's ``SELECT 1`` runs as
before and replaces the connection when it fails.

What a socket cannot show — a server host gone without closing its connections — ``SELECT 1``
would not have caught either until the network gave up; the query then fails, and Django
replaces the connection at the end of that request (``errors_occurred``).
"""

from __future__ import annotations

import select
from typing import Any

from django.core.signals import request_started
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper


def quiet(wrapper: BaseDatabaseWrapper) -> bool:
    """Whether the wrapper's PostgreSQL connection is open, idle and has nothing to read."""
    raw = wrapper.connection
    if raw is None or wrapper.vendor != "postgresql" or not hasattr(select, "poll"):
        return False
    try:
        import psycopg

        if raw.closed or raw.broken or raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            return False
        fd = raw.pgconn.socket
    except Exception:  # any doubt: let Django's own check run
        return False
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    # Nothing to read, no hang-up, no error (poll reports those two whether asked or not).
    return not poller.poll(0)


def skip_quiet_health_checks(**_: Any) -> None:
    """Mark this thread's quiet kept connections as checked for the request starting now."""
    for wrapper in connections.all(initialized_only=True):
        # Django's attributes (BaseDatabaseWrapper.connect and close_if_health_check_failed),
        # missing from its type stubs.
        if (wrapper.connection is not None and getattr(wrapper, "health_check_enabled", False)
                and not getattr(wrapper, "health_check_done", True) and quiet(wrapper)):
            wrapper.health_check_done = True  # type: ignore[attr-defined]


def connect() -> None:
    # Connected after django.db's close_old_connections (connected when django.db is
    # imported), which resets health_check_done for the request starting.
    request_started.connect(skip_quiet_health_checks, dispatch_uid="tongban_quiet_health_checks")
