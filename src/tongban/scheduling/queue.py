"""Enqueueing background work from inside a service's transaction."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction


def enqueue_after_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """Queue ``task`` so that it runs only if the current transaction commits.

    With the database backend the queued task is written in the caller's transaction: it
    commits with the change that caused it or not at all, and a worker cannot see it before
    the commit, so nothing is lost if the process dies right after committing. Other backends
    (the immediate one runs the task at once) are called on commit.
    """
    from django_tasks_db import DatabaseBackend

    if isinstance(task.get_backend(), DatabaseBackend) or not transaction.get_connection().in_atomic_block:
        task.enqueue(*args, **kwargs)
    else:
        transaction.on_commit(partial(task.enqueue, *args, **kwargs))
