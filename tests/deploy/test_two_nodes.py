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


@pytest.fixture
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


# One test, two faults in turn: setting the deployment up (a database migrated, the demo
# loaded) is most of its time, and one test keeps it to one deployment under pytest-xdist.
def test_two_nodes_lose_and_double_nothing_when_a_node_a_worker_or_postgresql_fails(
        cluster: Cluster) -> None:
    _kill_a_node_and_a_worker_mid_load(cluster)
    _restart_postgresql_mid_load(cluster)


def _kill_a_node_and_a_worker_mid_load(cluster: Cluster) -> None:
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

    drain_queue(cluster)  # the killed worker's task, if it had one, is queued again and run
    check_cases(cluster)
    lost_answers = check_calls(cluster, load)
    notified = check_notifications(cluster)
    ticks = check_schedules(cluster)
    done = load.count()
    assert done["create"] and done["submit"] and done["accept"] and done["read"], _report(cluster, load)
    print(f"\nkill: done {dict(done)}, refused {dict(load.count(ok=False))}, done with the answer "
          f"lost {lost_answers}, notified events {notified}, test schedule fired {ticks}×")


def _restart_postgresql_mid_load(cluster: Cluster) -> None:
    cluster.ensure_running()  # a new node and worker in place of the killed ones
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

    drain_queue(cluster)
    check_cases(cluster)
    check_calls(cluster, load)
    check_notifications(cluster)
    check_schedules(cluster)
    after = load.count(after=restarted_at)
    assert after["create"] and after["read"], _report(cluster, load)
    waited = sum(cluster.log_tail(f"worker{i}", size=10**6).count("数据库不可用") for i in range(2))
    print(f"\nrestart: done {dict(load.count())}, refused {dict(load.count(ok=False))}, done after "
          f"the restart {dict(after)}, worker loops that waited the outage out {waited}")
