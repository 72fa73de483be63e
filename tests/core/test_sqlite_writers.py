"""SQLite's writers queue on the writer lock (``core.sqlite_backend``) instead of sleeping in
SQLite's busy handler: held from a transaction's BEGIN to its end, across threads and processes,
given up after the connection's timeout as SQLite would."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError, connections, transaction

from tongban.core.sqlite_backend.base import DatabaseWrapper

ALIAS = "sqlite_writers_test"


@pytest.fixture(autouse=True)
def own_databases(django_db_blocker: Any) -> Iterator[None]:
    """These tests open SQLite files of their own, not the suite's database."""
    with django_db_blocker.unblock():
        yield


def file_database(path: Path, *, timeout: float = 5.0) -> DatabaseWrapper:
    return DatabaseWrapper({
        "ENGINE": "tongban.core.sqlite_backend", "NAME": str(path), "USER": "", "PASSWORD": "",
        "HOST": "", "PORT": "", "TIME_ZONE": None, "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False,
        "AUTOCOMMIT": True, "ATOMIC_REQUESTS": False, "TEST": {},
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": timeout,
                    "init_command": "PRAGMA journal_mode=WAL;"},
    }, alias=ALIAS)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "db.sqlite3"
    wrapper = file_database(path)
    connections[ALIAS] = wrapper
    with wrapper.cursor() as cursor:
        cursor.execute("CREATE TABLE t (v INTEGER)")
    yield path
    wrapper.close()
    del connections[ALIAS]


def held_elsewhere(path: Path) -> bool:
    """Whether another open file (as another process would have) finds the writer lock taken."""
    fd = os.open(f"{path}.writers", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # (closing also gives up a lock taken here)
    return False


def test_a_transaction_holds_the_writer_lock_from_begin_to_commit(database: Path) -> None:
    assert not held_elsewhere(database)
    with transaction.atomic(using=ALIAS):
        assert held_elsewhere(database)
        connections[ALIAS].cursor().execute("INSERT INTO t VALUES (1)")
    assert not held_elsewhere(database)


def test_a_rollback_gives_the_writer_lock_up_too(database: Path) -> None:
    with pytest.raises(ZeroDivisionError), transaction.atomic(using=ALIAS):
        connections[ALIAS].cursor().execute("INSERT INTO t VALUES (1)")
        1 / 0  # noqa: B018
    assert not held_elsewhere(database)
    with connections[ALIAS].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM t")
        assert cursor.fetchone()[0] == 0


def test_writers_in_threads_take_turns_and_lose_nothing(database: Path) -> None:
    errors: list[BaseException] = []

    def writer() -> None:
        connections[ALIAS] = file_database(database)
        try:
            for _ in range(50):
                with transaction.atomic(using=ALIAS), connections[ALIAS].cursor() as cursor:
                    cursor.execute("SELECT coalesce(max(v), 0) FROM t")
                    (top,) = cursor.fetchone()
                    cursor.execute("INSERT INTO t VALUES (%s)", [top + 1])
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections[ALIAS].close()

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with connections[ALIAS].cursor() as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT v), max(v) FROM t")
        assert cursor.fetchone() == (200, 200, 200)  # each read-then-write alone


def test_a_writer_gives_up_after_the_timeout_as_sqlite_would(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    fd = os.open(f"{path}.writers", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another process holds it
    wrapper: Any = file_database(path, timeout=0.3)
    connections[ALIAS] = wrapper
    try:
        with pytest.raises(OperationalError, match="database is locked"), \
                transaction.atomic(using=ALIAS):
            pass
        os.close(fd)  # the other process ends: the lock is free again
        with transaction.atomic(using=ALIAS):
            connections[ALIAS].cursor().execute("SELECT 1")
    finally:
        wrapper.close()
        del connections[ALIAS]
