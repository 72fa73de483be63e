"""Enqueueing background work from inside a service's transaction."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction

from tongban.core import prepared

# Tasks already checked by their backend's ``validate_task`` (it inspects the function's
# signature, which does not change while the process runs).
_validated: set[Any] = set()


def enqueue_after_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """Queue ``task`` so that it runs only if the current transaction commits.

    With the database backend the queued task is written in the caller's transaction: it
    commits with the change that caused it or not at all, and a worker cannot see it before
    the commit, so nothing is lost if the process dies right after committing. Other backends
    (the immediate one runs the task at once) are called on commit.
    """
    from django_tasks_db import DatabaseBackend

    backend = task.get_backend()
    if isinstance(backend, DatabaseBackend):
        _enqueue_in_database(backend, task, args, kwargs)
    elif not transaction.get_connection().in_atomic_block:
        task.enqueue(*args, **kwargs)
    else:
        transaction.on_commit(partial(task.enqueue, *args, **kwargs))


def _enqueue_in_database(backend: Any, task: Any, args: tuple[Any, ...],
                         kwargs: dict[str, Any]) -> None:
    """What ``DatabaseBackend.enqueue`` does, with the row written by a statement compiled once
    (``core.prepared``): every case transition queues one, and the ORM's ``create()`` cost
    more than the rest of the enqueue. The row is the same; ``tests/scheduling`` check that
    ``tongban worker`` runs it. The ``task_enqueued`` signal is sent only when someone listens.
    (django-tasks-db 0.13, pinned: the fields below are its ``_task_to_db_task``.)
    """
    from django_tasks.signals import task_enqueued
    from django_tasks.utils import normalize_json
    from django_tasks_db.models import DBTaskResult, get_date_max

    if task not in _validated:
        backend.validate_task(task)
        _validated.add(task)
    row: DBTaskResult[Any, Any] = DBTaskResult(
        id=backend._get_id(),  # the backend's id function (a UUID unless configured)
        args_kwargs=normalize_json({"args": args, "kwargs": kwargs}),
        priority=task.priority, task_path=task.module_path, queue_name=task.queue_name,
        # What django-tasks-db's own pre_save receiver (``set_run_after``) would do.
        run_after=task.run_after or get_date_max(), backend_name=backend.alias)
    prepared.insert(row, signals_done=True)
    if task_enqueued.has_listeners(type(backend)):
        task_enqueued.send(type(backend), task_result=row.task_result)
