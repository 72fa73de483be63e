"""A calendar change reaches every process at once: a second process that already holds the
calendar computes the next deadline on the changed one, with no waiting for a cache to expire.

The second process is a real one (``python`` with the platform's settings) sharing the test's
database, so the test needs committed data (``transaction=True``); on SQLite the in-memory test
database is copied into a file both processes open, as the platform does.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

import pytest
from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteDatabaseWrapper

from tests.conftest import make_user
from tongban.accounts.models import Role
from tongban.clock import selectors, services

SHANGHAI = dt.timezone(dt.timedelta(hours=8))

# The second process: computes the due instant of a 3-working-day case accepted on Monday
# 21 December 2026 at 10:00 each time it reads a line, on the calendar as it then stands.
CHILD = """
import datetime as dt, sys
import django
django.setup()
from tongban.clock import selectors
from tongban.clock.deadline import compute_deadline
start = dt.datetime(2026, 12, 21, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
for line in sys.stdin:
    due = compute_deadline(start=start, category="time_limited", limit=3,
                           calendar=selectors.work_calendar(), hours=selectors.office_hours())
    print(due.due.isoformat(), flush=True)
"""


@pytest.fixture
def shared_database_url(transactional_db: None, tmp_path: Path) -> Iterator[str]:
    """A database URL another process can open, pointing at the test's database."""
    settings_dict = connection.settings_dict
    if connection.vendor != "sqlite":
        user = quote(settings_dict.get("USER") or "")
        password = quote(settings_dict.get("PASSWORD") or "")
        auth = f"{user}:{password}@" if password else f"{user}@" if user else ""
        host = settings_dict.get("HOST") or ""
        port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
        yield f"postgresql://{auth}{host}{port}/{settings_dict['NAME']}"
        return
    if not cast("SQLiteDatabaseWrapper", connection).is_in_memory_db():
        yield f"sqlite:///{settings_dict['NAME']}"
        return
    memory_name = settings_dict["NAME"]
    keeper = sqlite3.connect(memory_name, uri=True)  # the in-memory database lives meanwhile
    path = tmp_path / "tongban.sqlite3"
    target = sqlite3.connect(path)
    connection.ensure_connection()
    connection.connection.backup(target)
    target.close()
    settings_dict["NAME"] = str(path)
    connection.close()
    try:
        yield f"sqlite:///{path}"
    finally:
        connection.close()
        settings_dict["NAME"] = memory_name
        connection.ensure_connection()
        keeper.close()


class Child:
    def __init__(self, database_url: str, data_dir: Path) -> None:
        env = {**os.environ, "TONGBAN_DATABASE_URL": database_url,
               "TONGBAN_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "tongban.settings",
               "TONGBAN_DEBUG": "1"}
        self.process = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, env=env)

    def due(self) -> dt.datetime:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("due\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()  # blocks until the answer (or the child died)
        if not line:
            assert self.process.stderr is not None
            pytest.fail(f"the second process ended: {self.process.stderr.read()}")
        return dt.datetime.fromisoformat(line.strip())

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_calendar_edit_reaches_another_process_at_once(shared_database_url: str,
                                                         tmp_path: Path) -> None:
    admin = make_user("bureau", Role.ADMIN)
    selectors.forget_calendar()
    child = Child(shared_database_url, tmp_path)
    try:
        # Tuesday 22, Wednesday 23, Thursday 24 December: due at the close of the third.
        assert child.due() == dt.datetime(2026, 12, 24, 17, 30, tzinfo=SHANGHAI)
        services.calendar_day_save(actor=admin, date=dt.date(2026, 12, 23), kind="holiday",
                                   name="临时放假")
        # The child already holds the calendar; it sees the new holiday on its next deadline.
        assert child.due() == dt.datetime(2026, 12, 25, 17, 30, tzinfo=SHANGHAI)
        services.calendar_day_delete(actor=admin, date=dt.date(2026, 12, 23))
        assert child.due() == dt.datetime(2026, 12, 24, 17, 30, tzinfo=SHANGHAI)
    finally:
        child.close()


@pytest.mark.django_db
def test_an_unchanged_calendar_costs_one_primary_key_read(
        django_assert_num_queries: Any) -> None:
    selectors.forget_calendar()
    selectors.work_calendar()  # loads this process's copy
    with django_assert_num_queries(1) as captured:
        selectors.work_calendar()
    assert "clock_calendarversion" in captured.captured_queries[0]["sql"]
    with django_assert_num_queries(1), selectors.calendar_scope():
        for _ in range(20):
            selectors.work_calendar()
