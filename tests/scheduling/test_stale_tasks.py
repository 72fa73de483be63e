"""A task left RUNNING by a worker that died is run again after its lease, once.

The worker is a real ``tongban worker`` process, killed with SIGKILL in the middle of a task.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.scheduling.test_race import REPO, _database_url, _env
from tongban.scheduling.services import tasks_reclaim_stale

LEASE = 3600


def _run(env: dict[str, str], code: str) -> Any:
    """Run Python ``code`` (after ``django.setup()``) in a process; its printed JSON."""
    out = subprocess.run([sys.executable, "-c", "import django, json; django.setup()\n" + code],
                         check=True, env=env, cwd=REPO, capture_output=True, text=True,
                         timeout=120).stdout
    return json.loads(out.strip().splitlines()[-1])


def _worker(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tongban.manage", "worker", "--no-scheduler",
                           *args], check=True, env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=120)


STATE = """
from django_tasks_db.models import DBTaskResult
from tongban.cases.notifications.models import Notification
row = DBTaskResult.objects.get()
print(json.dumps([row.status, len(row.worker_ids),
                  list(Notification.objects.values_list("recipient__username", "key"))]))
"""


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_task_whose_worker_was_killed_is_delivered_once_after_the_lease(
    tmp_path: Path,
) -> None:
    env = {**_env(_database_url(tmp_path), tmp_path), "TONGBAN_TASK_LEASE_SECONDS": str(LEASE),
           "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}"}
    gate = tmp_path / "gate"
    gate.mkdir()
    (gate / "hold").touch()
    _run(env, f"""
from tongban.accounts.models import User
from tests.scheduling.killable import notify_when_released
DBTaskResult = __import__("django_tasks_db.models", fromlist=["DBTaskResult"]).DBTaskResult
DBTaskResult.objects.all().delete()
user = User.objects.create_user(username="wangwu", password="secret-pass-123", role="citizen",
                                real_name="王五")
notify_when_released.enqueue(user.pk, {str(gate)!r})
print(json.dumps(True))
""")

    # The first worker claims the task and is killed while it runs.
    first = subprocess.Popen([sys.executable, "-m", "tongban.manage", "worker", "--no-scheduler",
                              "--interval", "0.1"], env=env, cwd=REPO,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while not (gate / "started").exists():
            assert first.poll() is None, "the worker ended before it ran the task"
            assert time.monotonic() < deadline, "the worker never started the task"
            time.sleep(0.05)
        assert int((gate / "started").read_text()) == first.pid
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    (gate / "hold").unlink()
    assert _run(env, STATE) == ["RUNNING", 1, []]

    # Within the lease a second worker leaves it alone: the first might still be running it.
    _worker(env, "--batch")
    assert _run(env, STATE) == ["RUNNING", 1, []]

    # Once the lease has run out (its start moved back by the lease), the next worker runs it.
    _run(env, f"""
import datetime as dt
from django.db.models import F
from django_tasks_db.models import DBTaskResult
DBTaskResult.objects.update(started_at=F("started_at") - dt.timedelta(seconds={LEASE + 1}))
print(json.dumps(True))
""")
    second = _worker(env, "--batch")
    assert "超过租期仍未完成的任务：重新排队 1 个，标记失败 0 个" in second.stdout
    assert _run(env, STATE) == ["SUCCESSFUL", 2, [["wangwu", "killable:greeting"]]]

    # Delivered exactly once: nothing is left to run, and running it again sends nothing twice.
    _worker(env, "--batch")
    assert _run(env, STATE) == ["SUCCESSFUL", 2, [["wangwu", "killable:greeting"]]]
    assert _run(env, """
from tests.scheduling.killable import notify_when_released
from tongban.accounts.models import User
print(json.dumps(notify_when_released.call(User.objects.get().pk, "/nonexistent")))
""") == 0


def _running(*, started_ago: int, claims: int) -> DBTaskResult[Any, Any]:
    from tongban.scheduling.tasks import prune_task_results

    result = prune_task_results.enqueue()
    DBTaskResult.objects.filter(pk=result.id).update(
        status="RUNNING", started_at=timezone.now() - dt.timedelta(seconds=started_ago),
        worker_ids=[f"w{i}" for i in range(claims)])
    return DBTaskResult.objects.get(pk=result.id)


@pytest.mark.django_db
def test_only_tasks_past_their_lease_are_queued_again(database_queue: None,
                                                      settings: Any) -> None:
    settings.TASK_LEASE_SECONDS, settings.TASK_MAX_ATTEMPTS = 600, 3
    fresh = _running(started_ago=599, claims=1)
    stale = _running(started_ago=601, claims=2)
    doomed = _running(started_ago=601, claims=3)

    assert tasks_reclaim_stale() == (1, 1)

    rows = {r.pk: r for r in DBTaskResult.objects.all()}
    assert [rows[t.pk].status for t in (fresh, stale, doomed)] == ["RUNNING", "READY", "FAILED"]
    assert rows[doomed.pk].exception_class_path == "tongban.scheduling.services.LeaseExpired"
    assert rows[doomed.pk].traceback == "LeaseExpired: 3 attempts outlived the lease of 600 s\n"
    # A second reclaimer (another worker) finds nothing left to do.
    assert tasks_reclaim_stale() == (0, 0)
