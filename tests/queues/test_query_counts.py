"""Query counts of the queue pages (see ``tests/query_budget.py``)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.query_budget import LARGE, SMALL, Budget, client_for

pytestmark = pytest.mark.django_db


# --- queues: the halls, the hall's display, the window's page, the figures --------------------

def test_queue_lists(budget: Budget, qh: Any) -> None:
    from tongban.queues import services

    taken = iter(range(1, 100))

    def add_tickets(count: int) -> None:
        """Per row: a ticket of each category (one with a phone number), the earliest of the
        hall called to a window and served."""
        for _ in range(count):
            services.ticket_take(hall=qh.hall, category=qh.general)
            services.ticket_take(hall=qh.hall, category=qh.business,
                                 phone=f"138{next(taken):08d}")
            called = services.ticket_call_next(actor=qh.clerk, window=qh.comprehensive)
            assert called is not None
            services.ticket_start(actor=qh.clerk, ticket=called)
            services.ticket_finish(actor=qh.clerk, ticket=called)

    add_tickets(SMALL)
    anonymous, clerk = client_for(None), client_for(qh.clerk)
    hall = qh.hall.pk
    budget.add("page /queue/", anonymous, "/queue/")
    budget.add("page /queue/<hall>/take/", anonymous, f"/queue/{hall}/take/")
    budget.add("page /queue/<hall>/display/", anonymous, f"/queue/{hall}/display/")
    budget.add("page /queue/<hall>/display/board/", anonymous, f"/queue/{hall}/display/board/")
    budget.add("page /queue/<hall>/figures/", clerk, f"/queue/{hall}/figures/")
    budget.add("page /queue/window/", clerk, "/queue/window/", window=qh.comprehensive.pk)
    budget.add("api /queues/halls/<hall>/board", anonymous, f"/api/v1/queues/halls/{hall}/board")
    budget.add("api /queues/halls/<hall>/figures", clerk, f"/api/v1/queues/halls/{hall}/figures")
    budget.add("api /halls", anonymous, "/api/v1/halls")
    budget.check(lambda: add_tickets(LARGE - SMALL))
