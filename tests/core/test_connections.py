"""Kept PostgreSQL connections are checked at the start of a request without a round trip when
their socket shows nothing happened to them (``tongban.core.connections``), and a connection
the server ended is still replaced before the request's first query."""

from __future__ import annotations

import time
from collections.abc import Iterator
from unittest import mock

import psycopg
import pytest
from django.db import close_old_connections, connection
from django.test import Client

pytestmark = [
    # Kept connections are idle between requests: committed data, no test transaction around.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'",
                       reason="CONN_HEALTH_CHECKS' round trip is PostgreSQL's (Django checks a "
                              "kept SQLite connection without a query)"),
]

PAGE = "/_bench/constant"  # any page; the check is at the request's start


@pytest.fixture
def health_checks() -> Iterator[mock.MagicMock]:
    """Health checks on, as served; each ``is_usable`` (the ``SELECT 1``) counted."""
    connection.ensure_connection()
    enabled = getattr(connection, "health_check_enabled", False)  # Django's, not in the stubs
    connection.health_check_enabled = True  # type: ignore[attr-defined]
    with mock.patch.object(connection, "is_usable", wraps=connection.is_usable) as is_usable:
        yield is_usable
    connection.health_check_enabled = enabled  # type: ignore[attr-defined]


def request(client: Client) -> int:
    """One request as served: Django closes old connections first (the test client skips it)."""
    close_old_connections()
    response = client.get("/healthz")
    with connection.cursor() as cursor:  # the request's first query
        cursor.execute("SELECT pg_backend_pid()")
        pid = int(cursor.fetchone()[0])
    assert response.status_code in (200, 503)
    return pid


def test_a_quiet_kept_connection_costs_no_select_1(health_checks: mock.MagicMock) -> None:
    client = Client()
    first = request(client)
    health_checks.reset_mock()
    pids = [request(client) for _ in range(3)]
    assert health_checks.call_count == 0
    assert pids == [first] * 3


def test_a_connection_the_server_ended_is_replaced_before_the_first_query(
        health_checks: mock.MagicMock) -> None:
    client = Client()
    first = request(client)
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [first])
    # The server's last message reaches the kept connection's socket.
    deadline = time.monotonic() + 10
    from tongban.core.connections import quiet

    while quiet(connection) and time.monotonic() < deadline:
        time.sleep(0.05)
    health_checks.reset_mock()

    replaced = request(client)

    assert health_checks.call_count == 1  # the SELECT 1 ran, failed, and Django reconnected
    assert replaced != first
