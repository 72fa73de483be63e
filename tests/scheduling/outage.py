"""Tasks for ``test_worker``: one the loss of the database cuts off, one the database refuses."""

from __future__ import annotations

from django.db import OperationalError
from django_tasks import task


@task()
def cut_off() -> None:
    raise OperationalError("server closed the connection unexpectedly")


@task()
def refused() -> None:
    raise OperationalError("canceling statement due to lock timeout")
