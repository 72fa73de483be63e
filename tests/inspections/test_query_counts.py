"""Query counts of the draw tasks (see ``tests/query_budget.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.query_budget import LARGE, SMALL, Budget, client_for
from tongban.accounts.models import User

pytestmark = pytest.mark.django_db


# --- inspections: the published draw tasks, public and for staff ------------------------------

def test_inspection_lists(budget: Budget, make_task: Callable[..., Any],
                          people: dict[str, User]) -> None:
    from tongban.inspections import services

    def add_tasks(count: int) -> None:
        """Per row: a draw task drawn and published, and one drawn only."""
        for _ in range(count):
            services.task_publish(actor=people["head"], task=services.task_draw(
                actor=people["officer"], task=make_task(count=2)))
            services.task_draw(actor=people["officer"], task=make_task(count=2))

    add_tasks(SMALL)
    for who in ("officer", "head", "supervisor", "admin"):
        client = client_for(people[who])
        budget.add(f"page /inspections/staff/ ({who})", client, "/inspections/staff/")
        budget.add(f"api /inspections/staff/tasks ({who})", client, "/api/v1/inspections/staff/tasks")
    budget.add("page /inspections/", client_for(None), "/inspections/")
    budget.add("api /inspections/tasks", client_for(None), "/api/v1/inspections/tasks")
    budget.check(lambda: add_tasks(LARGE - SMALL))
