"""Several workers firing schedules at the same moment: each due run fires exactly once.

Threads with a database connection each, and separate processes, as separate workers and
nodes would be.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError, connection
from django_tasks_db.models import DBTaskResult

from tongban.scheduling.models import Schedule
from tongban.scheduling.services import schedules_fire_due

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WORKERS = 4
ROUNDS = 5
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
REPO = Path(__file__).resolve().parents[2]
PRUNE = "tongban.scheduling.tasks.prune_task_results"


def _two_schedules() -> None:
    Schedule.objects.all().delete()
    for name in ("a", "b"):
        Schedule.objects.create(name=name, task=PRUNE, interval_seconds=60, next_run_at=START)


def _fire_retrying(now: dt.datetime) -> list[str]:
    # The in-memory SQLite test database shares one cache between connections and answers
    # "table is locked" at once instead of waiting; a worker then tries again, as the
    # scheduler loop does on its next tick. PostgreSQL (and a SQLite file) simply wait.
    for _attempt in range(200):
        try:
            return schedules_fire_due(now=now)
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
            time.sleep(0.01)
    raise AssertionError("the database stayed locked")


def test_racing_threads_never_fire_a_schedule_twice(database_queue: None) -> None:
    _two_schedules()
    fired: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(now: dt.datetime, barrier: threading.Barrier) -> None:
        try:
            barrier.wait(timeout=30)
            names = _fire_retrying(now)
            with lock:
                fired.extend(names)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    for round_ in range(ROUNDS):
        now = START + dt.timedelta(seconds=60 * round_ + 1)
        barrier = threading.Barrier(WORKERS)
        threads = [threading.Thread(target=worker, args=(now, barrier)) for _ in range(WORKERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert errors == []
        # The next tick of any worker: fires a run only if no racer did (never a second time).
        fired.extend(schedules_fire_due(now=now))
    assert sorted(fired) == ["a"] * ROUNDS + ["b"] * ROUNDS
    assert DBTaskResult.objects.filter(task_path=PRUNE).count() == 2 * ROUNDS
    for schedule in Schedule.objects.all():
        assert schedule.next_run_at == START + dt.timedelta(seconds=60 * ROUNDS)


def _database_url(tmp_path: Path) -> str:
    """A database the racer processes can open: the test database on PostgreSQL, a migrated
    SQLite file otherwise (the in-memory test database is invisible to other processes)."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        return f"postgresql://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    url = f"sqlite:///{tmp_path / 'race.sqlite3'}"
    subprocess.run([sys.executable, "-m", "tongban.manage", "migrate", "-v0"], check=True,
                   env=_env(url, tmp_path), cwd=REPO, timeout=300)
    return url


def _env(url: str, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "TONGBAN_DATABASE_URL": url, "TONGBAN_DATA_DIR": str(tmp_path),
            "TONGBAN_DEBUG": "1", "DJANGO_SETTINGS_MODULE": "tongban.settings",
            "TONGBAN_TASKS_BACKEND": "database", "PYTHONPATH": str(REPO / "src")}


@pytest.mark.slow
def test_racing_processes_never_fire_a_schedule_twice(tmp_path: Path) -> None:
    url = _database_url(tmp_path)
    env = _env(url, tmp_path)
    setup = (
        "import django, datetime as dt; django.setup();"
        "from tongban.scheduling.models import Schedule;"
        "Schedule.objects.all().delete();"
        f"[Schedule.objects.create(name=n, task='{PRUNE}', interval_seconds=60,"
        " next_run_at=dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)) for n in ('a', 'b')]")
    subprocess.run([sys.executable, "-c", setup], check=True, env=env, cwd=REPO, timeout=120)
    start = time.time() + 8  # time for every racer to start Django
    racers = [subprocess.Popen([sys.executable, str(Path(__file__).with_name("racer.py")),
                                str(start), str(ROUNDS)], env=env, cwd=REPO,
                               stdout=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [r.communicate(timeout=120)[0] for r in racers]
    assert [r.returncode for r in racers] == [0, 0, 0]
    fired = sorted(n for out in outputs for line in out.splitlines() for n in json.loads(line))
    assert fired == ["a"] * ROUNDS + ["b"] * ROUNDS
    check = (
        "import django, json; django.setup();"
        "from django_tasks_db.models import DBTaskResult;"
        "from tongban.scheduling.models import Schedule;"
        "print(json.dumps([DBTaskResult.objects.count(),"
        " sorted(s.next_run_at.isoformat() for s in Schedule.objects.all())]))")
    result: Any = json.loads(subprocess.run([sys.executable, "-c", check], check=True, env=env,
                                            cwd=REPO, capture_output=True, text=True,
                                            timeout=120).stdout)
    following = (START + dt.timedelta(seconds=60 * ROUNDS)).isoformat()
    assert result == [2 * ROUNDS, [following, following]]
