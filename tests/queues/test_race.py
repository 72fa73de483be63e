"""Several windows calling at the same moment: every ticket is called by exactly one window.

Threads with a database connection each, as several clerks' requests would be (PostgreSQL:
``SELECT … FOR UPDATE SKIP LOCKED``; every database: the claim ``UPDATE … WHERE status =
'waiting'`` counts only if it changed the row).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.db import OperationalError, connection

from tests.conftest import make_user
from tongban.accounts.models import Role
from tongban.organizations.models import Division, Hall, Window
from tongban.queues import services
from tongban.queues.models import ServiceCategory, Ticket, TicketStatus

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WINDOWS = 4
TICKETS = 24


def _retrying(call: Callable[[], Any]) -> Any:
    # The in-memory SQLite test database answers "table is locked" at once instead of waiting
    # (see tests/scheduling/test_race.py); a clerk would simply press the button again.
    for _attempt in range(500):
        try:
            return call()
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
            time.sleep(0.005)
    raise AssertionError("the database stayed locked")


def test_racing_windows_never_get_the_same_ticket() -> None:
    hall = Hall.objects.create(name="并发测试大厅", division=Division.objects.get(code="620100"))
    category = ServiceCategory.objects.create(hall=hall, code="A", name="综合受理")
    windows = [Window.objects.create(hall=hall, number=str(i + 1), name="综合受理窗口",
                                     is_comprehensive=True) for i in range(WINDOWS)]
    clerks = [make_user(f"racer{i}", Role.CLERK, hall=hall) for i in range(WINDOWS)]
    for _ in range(TICKETS):
        services.ticket_take(hall=hall, category=category)

    called: list[tuple[int, str]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(WINDOWS)

    def window_loop(window: Window, clerk: Any) -> None:
        try:
            barrier.wait(timeout=30)
            while True:
                ticket = _retrying(lambda: services.ticket_call_next(actor=clerk, window=window))
                if ticket is None:
                    return
                with lock:
                    called.append((ticket.pk, window.number))
                _retrying(partial(services.ticket_finish, actor=clerk, ticket=ticket))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=window_loop, args=pair)
               for pair in zip(windows, clerks, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    pks = [pk for pk, _w in called]
    assert len(pks) == TICKETS
    assert len(set(pks)) == TICKETS  # no ticket went to two windows
    assert Ticket.objects.filter(status=TicketStatus.DONE).count() == TICKETS
    # Each ticket records the window that called it, and only that one.
    stored = dict(Ticket.objects.values_list("pk", "window__number"))
    assert all(stored[pk] == number for pk, number in called)


def test_racing_kiosks_never_hand_out_the_same_number() -> None:
    hall = Hall.objects.create(name="取号并发大厅", division=Division.objects.get(code="620100"))
    category = ServiceCategory.objects.create(hall=hall, code="B", name="企业开办")
    errors: list[BaseException] = []
    barrier = threading.Barrier(WINDOWS)

    def kiosk() -> None:
        try:
            barrier.wait(timeout=30)
            for _ in range(5):
                _retrying(lambda: services.ticket_take(hall=hall, category=category))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=kiosk) for _ in range(WINDOWS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    numbers = sorted(Ticket.objects.filter(hall=hall).values_list("number", flat=True))
    assert numbers == [f"B{i:03d}" for i in range(1, 5 * WINDOWS + 1)]
