"""Enqueueing background work from inside a service's transaction."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.db import connections, router, transaction
from django.utils import timezone

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
    """What ``DatabaseBackend.enqueue`` does, with the row written by one statement prepared per
    task: every case transition queues one, and building the ORM's task-result object for it
    (its ``__init__``, each field's ``pre_save``, django-tasks-db's ``pre_save`` receiver) cost
    more than writing the row. The row is the same; ``tests/scheduling`` check that ``tongban
    worker`` runs it. When someone listens to ``task_enqueued`` (which is sent the task-result
    object) the row is written through the model instead; django-tasks' own receiver, which
    only logs, does not count (its line is logged here).
    (django-tasks-db 0.13, pinned: the columns are its ``_task_to_db_task``'s.)
    """
    if _someone_listens(type(backend)):
        _enqueue_through_model(backend, task, args, kwargs)
        return
    statement = _statements.get((task, backend.alias))
    if statement is None:
        statement = _statements[(task, backend.alias)] = _QueueRow(backend, task)
    row_id = statement.write(backend, args, kwargs)
    if _library_log.isEnabledFor(logging.DEBUG):  # what django-tasks' own receiver logs
        _library_log.debug("Task id=%s path=%s enqueued backend=%s", row_id, task.module_path,
                           backend.alias)


# django-tasks connects its own receiver to ``task_enqueued`` when it is imported: a debug log
# line, written above without the task-result object. Any other receiver gets the object.
_library_log = logging.getLogger("django_tasks")


def _someone_listens(sender: type[Any]) -> bool:
    from django_tasks.signals import log_task_enqueued, task_enqueued

    if not task_enqueued.has_listeners(sender):
        return False
    sync, asynchronous = task_enqueued._live_receivers(sender)
    return any(receiver is not log_task_enqueued for receiver in [*sync, *asynchronous])


class _QueueRow:
    """The INSERT of a task's queue rows: the columns that are the same for every row of the
    task (status, priority, path, queue, backend, run after, empty results) converted once."""

    def __init__(self, backend: Any, task: Any) -> None:
        from django_tasks_db.models import DBTaskResult, get_date_max

        backend.validate_task(task)  # as enqueue() does; the signature does not change
        self.using = router.db_for_write(DBTaskResult)
        connection = connections[self.using]
        meta = DBTaskResult._meta
        self.fields = {f.attname: f for f in meta.local_concrete_fields}
        constant = {
            "priority": task.priority, "task_path": task.module_path,
            "queue_name": task.queue_name, "backend_name": backend.alias,
            # What django-tasks-db's own pre_save receiver (``set_run_after``) would do.
            "run_after": task.run_after or get_date_max(),
        }
        self.variable = ("id", "enqueued_at", "args_kwargs")
        self.template: list[Any] = []
        for name, f in self.fields.items():
            if name in self.variable:
                self.template.append(None)
                continue
            value = constant[name] if name in constant else f.get_default()
            self.template.append(f.get_db_prep_save(value, connection))
        self.slots = [list(self.fields).index(name) for name in self.variable]
        quote = connection.ops.quote_name
        self.sql = (f"INSERT INTO {quote(meta.db_table)} "
                    f"({', '.join(quote(str(f.column)) for f in self.fields.values())}) "
                    f"VALUES ({', '.join(['%s'] * len(self.fields))})")
        self.qmark = prepared.qmark_of(connection, self.sql)

    def write(self, backend: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        from django_tasks.utils import normalize_json

        connection = connections[self.using]
        # The case services queue plain ids: normalizing them would change nothing.
        payload = ({"args": list(args), "kwargs": {}}
                   if not kwargs and all(type(a) in (int, str) for a in args)
                   else normalize_json({"args": args, "kwargs": kwargs}))
        fields = self.fields
        params = list(self.template)
        row_id = backend._get_id()
        for slot, name, value in zip(self.slots, self.variable, (
                row_id, timezone.now(), payload), strict=True):
            params[slot] = fields[name].get_db_prep_save(value, connection)
        prepared.run(connection, self.sql, self.qmark, params)
        return row_id


_statements: dict[tuple[Any, str], _QueueRow] = {}


def _enqueue_through_model(backend: Any, task: Any, args: tuple[Any, ...],
                           kwargs: dict[str, Any]) -> None:
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
        run_after=task.run_after or get_date_max(), backend_name=backend.alias)
    prepared.insert(row, signals_done=True)
    task_enqueued.send(type(backend), task_result=row.task_result)
