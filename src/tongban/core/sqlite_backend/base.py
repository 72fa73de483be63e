"""Django's SQLite backend, with writers that queue for the write lock instead of sleeping.

Every transaction begins ``IMMEDIATE`` (settings): it takes SQLite's one write lock at its start.
A writer that finds it taken waits in SQLite's busy handler, which sleeps 1, 2, 5, 10, 15, 20,
25 … up to 100 ms between tries and does not wake when the lock is released. With a few
requests writing at once (eight clients submitting cases, two server processes of five threads)
most of that wait is sleep: the machine sat 30 % idle, a submission's p99 was 650 ms.

Here a transaction first takes the *writer lock*: within a process a ``threading.Lock``, across
processes an exclusive ``flock`` on ``<database>.writers`` (the kernel releases it when a process
dies, even by SIGKILL). A thread waiting on it is woken the moment the holder commits or rolls
back. The wait has the same limit as SQLite's (the connection's ``timeout``); past it the
transaction fails as SQLite's would (``OperationalError: database is locked``, which the API
answers with 503). Statements outside a transaction (autocommit writes) still use SQLite's own
busy handler, as before. An in-memory database (tests) has no file to lock and no other process:
nothing changes there.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base

# One lock per database file and process: the threads of a process queue on it.
_thread_locks: dict[str, threading.Lock] = {}
_registry_lock = threading.Lock()


def _thread_lock(path: str) -> threading.Lock:
    with _registry_lock:
        return _thread_locks.setdefault(path, threading.Lock())


class WriterLock:
    """The writer lock of one database file for one connection (see the module docstring)."""

    def __init__(self, database: str, timeout: float) -> None:
        self.path = f"{database}.writers"
        self.timeout = timeout
        self.threads = _thread_lock(self.path)
        self.fd: int | None = None
        self.held = False

    def acquire(self) -> None:
        deadline = time.monotonic() + self.timeout
        if not self.threads.acquire(timeout=self.timeout):
            raise OperationalError("database is locked")
        try:
            if self.fd is None:
                self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._flock(deadline)
        except BaseException:
            self.threads.release()
            raise
        self.held = True

    def _flock(self, deadline: float) -> None:
        # Another process: no blocking flock with a time limit exists, so poll, briefly (one
        # waiting thread per process polls: the others wait on the thread lock).
        pause = 0.0001
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # type: ignore[arg-type]
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OperationalError("database is locked") from None
                time.sleep(pause)
                pause = min(pause * 2, 0.002)

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        try:
            fcntl.flock(self.fd, fcntl.LOCK_UN)  # type: ignore[arg-type]
        finally:
            self.threads.release()

    def close(self) -> None:
        self.release()
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class DatabaseWrapper(base.DatabaseWrapper):
    """Django's SQLite ``DatabaseWrapper``; a transaction holds the writer lock from its
    ``BEGIN`` to its commit or rollback."""

    writer_lock: WriterLock | None = None
    transaction_mode: str | None

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        connection = super().get_new_connection(conn_params)
        if self.writer_lock is None and not self.is_in_memory_db() and self.transaction_mode:
            self.writer_lock = WriterLock(str(self.settings_dict["NAME"]),
                                          float(conn_params.get("timeout", 5)))
        return connection

    def _start_transaction_under_autocommit(self) -> None:
        lock = self.writer_lock
        if lock is None:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]  # (a private hook, not in the stubs)
            return
        lock.acquire()
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]  # (a private hook, not in the stubs)
        except BaseException:
            lock.release()
            raise

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]  # (a private hook, not in the stubs)
        finally:
            self._release_writer()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]  # (a private hook, not in the stubs)
        finally:
            self._release_writer()

    def _set_autocommit(self, autocommit: bool) -> None:
        super()._set_autocommit(autocommit)  # type: ignore[misc]  # (a private hook, not in the stubs)
        if autocommit:  # back to autocommit: no transaction is open any more
            self._release_writer()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]  # (a private hook, not in the stubs)
        finally:
            if self.writer_lock is not None:
                self.writer_lock.close()
                self.writer_lock = None

    def _release_writer(self) -> None:
        if self.writer_lock is not None:
            self.writer_lock.release()
