"""Several nodes on one PostgreSQL (docs/deployment.md), tested as deployed: nginx in front of
two ``tongban serve`` nodes and two ``tongban worker`` processes, on a PostgreSQL server of the
test's own, under a mixed load through nginx.

- A node and a worker are killed with SIGKILL mid-load: no half-written case, no lost or
  doubled notification, no schedule fired twice, every request done or cleanly refused.
- The PostgreSQL server is restarted mid-load: requests during the outage are refused cleanly,
  and the same nodes and workers (none restarted) serve and work again afterwards.

Both run only when the suite runs on PostgreSQL (the platform's production database); they
need nginx and the PostgreSQL server binaries (scripts/system.sh installs nginx).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings

from .cluster import Cluster, Unavailable, deployment, wait_for
from .load import (
    Load,
    check_calls,
    check_cases,
    check_notifications,
    check_schedules,
    drain_queue,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
                       reason="several nodes share one PostgreSQL: runs in the PostgreSQL suite "
                              "(TONGBAN_DATABASE_URL=postgresql://…); SQLite is one process's file"),
]

# Requests the load must have done before a fault, and after it, so that the fault falls
# mid-load and the platform is seen to work on afterwards (counts, not durations).
BEFORE_FAULT = 6
AFTER_FAULT = 6


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    try:
        with deployment() as running:
            yield running
    except Unavailable as missing:
        pytest.skip(str(missing))


def _wait_for_writes(load: Load, *, after: float, count: int, what: str) -> None:
    def enough() -> bool:
        done = load.count(after=after)
        return done["create"] + done["submit"] + done["accept"] >= count
    wait_for(enough, timeout=180, what=what, every=0.2)


def _report(cluster: Cluster, load: Load) -> str:
    return (f"answers: {sorted(load.statuses().items())}\n"
            + "\n".join(f"--- {name}\n{cluster.log_tail(name)}"
                        for name in ("node0", "node1", "worker0", "worker1")))


def test_killing_a_node_and_a_worker_mid_load_loses_and_doubles_nothing(cluster: Cluster) -> None:
    cluster.ensure_running()
    load = Load(cluster)
    load.start()
    try:
        _wait_for_writes(load, after=0, count=BEFORE_FAULT, what="load before the kill")
        cluster.kill(cluster.nodes[0])
        cluster.kill(cluster.workers[0])
        killed_at = time.monotonic()
        # nginx leaves the dead node out; the surviving node and worker carry on.
        _wait_for_writes(load, after=killed_at, count=AFTER_FAULT, what="load after the kill")
    finally:
        load.stop()
    assert cluster.nodes[1].poll() is None and cluster.workers[1].poll() is None

    drain_queue(cluster)
    check_cases(cluster)
    lost_answers = check_calls(cluster, load)
    notified = check_notifications(cluster)
    ticks = check_schedules(cluster)
    done = load.count()
    assert done["create"] and done["submit"] and done["accept"] and done["read"], _report(cluster, load)
    print(f"\ndone {dict(done)}, refused {dict(load.count(ok=False))}, done with the answer lost "
          f"{lost_answers}, notified events {notified}, test schedule fired {ticks}×")


def test_postgresql_restarted_under_load_recovers_without_restarting_the_platform(
        cluster: Cluster) -> None:
    cluster.ensure_running()
    processes: list[Any] = [*cluster.nodes.values(), *cluster.workers.values()]
    load = Load(cluster)
    load.start()
    try:
        _wait_for_writes(load, after=0, count=BEFORE_FAULT, what="load before the restart")
        cluster.pg.restart()
        restarted_at = time.monotonic()
        # The same processes serve and work again: nodes reconnect (CONN_HEALTH_CHECKS), the
        # workers' loops wait the outage out.
        _wait_for_writes(load, after=restarted_at, count=AFTER_FAULT, what="load after the restart")
    finally:
        load.stop()
    assert all(p.poll() is None for p in processes), "a node or worker ended with the database"
    assert [*cluster.nodes.values(), *cluster.workers.values()] == processes

    drain_queue(cluster)  # both workers' loops run tasks again
    check_cases(cluster)
    check_calls(cluster, load)
    check_notifications(cluster)
    check_schedules(cluster)
    after = load.count(after=restarted_at)
    assert after["create"] and after["read"], _report(cluster, load)
