"""Benchmark: audited transactions per second on PostgreSQL against the number of clients.

Every client is its own process with its own database connection (as the worker threads of
several ``tongban serve`` nodes would be) and loops, for ``--seconds`` each round, over what a
busy hall does, each call a service call committed in its own transaction as a request would:

    create   an applicant fills in the online form (a draft)       audited
    submit   the applicant submits it: it gets its case number     audited
    accept   the officer accepts it: clock, notice, workflow        audited
    read     a supervisor reads the audit log (``audit.view``)      audited

Rounds run with 1, 2, 4, 8 and 16 clients (``--clients``) on one scene (``workflow.py``'s item
and people, plus a supervisor) in a fresh database (dropped and created: the scene's people have
fixed ID numbers). Printed per round: transactions/s (the four calls), cases/s (submitted and
accepted), the median and 95th percentile of one call, and how many sessions wait for a lock
(sampled every 20 ms, by kind: the one figure a busy shared machine does not distort). The
figure should rise with clients until the machine's CPU is the limit and then hold; a global
lock makes it peak early and fall.
A sealer process seals the audit records every second meanwhile (as ``tongban worker`` does),
and the chain is verified at the end.

    python benchmarks/throughput.py --database postgresql://postgres@127.0.0.1:5432/tongban_tp
    python benchmarks/throughput.py --database … --clients 1,2,4 --seconds 10

The last line printed is the JSON of every round.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workflow  # the scene and settings of the workflow benchmark

CALLS = ("create", "submit", "accept", "read")
WARMUP_ROUNDS = 3


def fresh_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def one_round(people: dict[str, Any], n: int, latencies: list[float]) -> None:
    from tongban.audit.services import audit_log_viewed
    from tongban.cases import services
    from tongban.cases.models import Channel

    clock = time.perf_counter
    t0 = clock()
    case = services.case_create(
        actor=people["citizen"], item=people["item"], channel=Channel.ONLINE,
        applicant=services.ApplicantData(kind="natural_person", name="张三",
                                         id_number=people["id_number"], phone="13893100001"),
        form_data={"contact_phone": "13893100001", "purpose": f"开办餐饮店{n}"})
    t1 = clock()
    services.case_submit(actor=people["citizen"], case=case)
    t2 = clock()
    services.case_accept(actor=people["officer"], case=case)
    t3 = clock()
    audit_log_viewed(actor=people["supervisor"], what="list", filters={"action": "case."})
    t4 = clock()
    latencies += [t1 - t0, t2 - t1, t3 - t2, t4 - t3]


def client(people: dict[str, Any], seconds: float, start: Any, out: Any) -> None:
    """One client: its own connection, a few warm-up rounds, then rounds until time is up."""
    from django.db import connections

    connections.close_all()  # never the parent's connection: a new one for this process
    latencies: list[float] = []
    for n in range(WARMUP_ROUNDS):
        one_round(people, n, latencies)
    latencies.clear()
    start.wait()
    began = time.perf_counter()
    rounds = 0
    while time.perf_counter() - began < seconds:
        one_round(people, rounds, latencies)
        rounds += 1
    out.put({"rounds": rounds, "elapsed": time.perf_counter() - began, "latencies": latencies})
    connections.close_all()


def sealer(stop: Any) -> None:
    """What ``tongban worker``'s ``audit_seal`` schedule does, every second here (where the
    platform has a sealer at all: before it, the chain was appended to in each transaction)."""
    from django.db import connections

    connections.close_all()
    try:
        from tongban.audit.sealing import audit_seal
    except ImportError:
        return
    while not stop.wait(1.0):
        audit_seal()
    audit_seal()
    connections.close_all()


def lock_sampler(stop: Any, out: Any) -> None:
    """Every 20 ms, how many of this database's sessions wait for a lock, by kind: a figure the
    machine's load does not set (a shared machine slows everything; only a lock makes
    sessions wait for one another). ``advisory``: the audit chain's lock (before); ``tuple`` and
    ``transactionid``: rows held to commit (the daily case-number counter)."""
    import collections

    from django.db import connections

    connections.close_all()
    counts: collections.Counter[str] = collections.Counter()
    samples = 0
    with connections["default"].cursor() as cursor:
        while not stop.wait(0.02):
            cursor.execute("SELECT wait_event FROM pg_stat_activity WHERE datname = "
                           "current_database() AND wait_event_type = 'Lock' "
                           "AND pid <> pg_backend_pid()")
            samples += 1
            counts.update(row[0] for row in cursor.fetchall())
    out.put({"samples": samples, "waiting": dict(counts)})
    connections.close_all()


def measure(people: dict[str, Any], clients: int, seconds: float) -> dict[str, Any]:
    from django.db import connections

    connections.close_all()
    ctx = multiprocessing.get_context("fork")
    start = ctx.Barrier(clients)
    out = ctx.Queue()
    stop = ctx.Event()
    seal = ctx.Process(target=sealer, args=(stop,))
    seal.start()
    locks_out = ctx.Queue()
    locks = ctx.Process(target=lock_sampler, args=(stop, locks_out))
    locks.start()
    procs = [ctx.Process(target=client, args=(people, seconds, start, out)) for _ in range(clients)]
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    stop.set()
    seal.join()
    waits = locks_out.get()
    locks.join()
    elapsed = max(r["elapsed"] for r in results)
    rounds = sum(r["rounds"] for r in results)
    latencies = sorted(x for r in results for x in r["latencies"])
    return {
        "clients": clients, "seconds": round(elapsed, 2), "cases": rounds,
        "tx_per_s": round(rounds * len(CALLS) / elapsed, 1),
        "cases_per_s": round(rounds / elapsed, 1),
        "call_ms_p50": round(1000 * statistics.median(latencies), 2) if latencies else None,
        "call_ms_p95": round(1000 * latencies[int(0.95 * (len(latencies) - 1))], 2)
        if latencies else None,
        # Sessions waiting for a lock, on average over the samples, by kind.
        "lock_waiters": {k: round(v / max(1, waits["samples"]), 2)
                         for k, v in sorted(waits["waiting"].items())},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="postgresql://… URL (dropped, created)")
    parser.add_argument("--clients", default="1,2,4,8,16")
    parser.add_argument("--seconds", type=float, default=15.0, help="per round")
    args = parser.parse_args()
    if not args.database.startswith("postgres"):
        parser.error("--database must be a postgresql:// URL")
    fresh_database(args.database)
    work = Path(tempfile.mkdtemp(prefix="tongban-throughput-bench-"))
    workflow.configure(args.database, work)
    from tongban.accounts.models import Role, User

    people = workflow.scene()
    people["supervisor"] = User.objects.create_user(
        username=f"supervisor-{people['officer'].username}", password=None,
        role=Role.SUPERVISOR, real_name="赵监察")
    rounds = []
    for clients in (int(c) for c in args.clients.split(",")):
        r = measure(people, clients, args.seconds)
        rounds.append(r)
        print(f"clients={r['clients']:>3}  tx/s={r['tx_per_s']:>7}  cases/s={r['cases_per_s']:>6}"
              f"  call p50={r['call_ms_p50']} ms  p95={r['call_ms_p95']} ms"
              f"  waiting for locks={r['lock_waiters']}", flush=True)
    from tongban.audit.models import AuditRecord
    from tongban.audit.verification import verify_chain

    result = verify_chain(check_age=False)
    print(json.dumps({"rounds": rounds, "audit_records": AuditRecord.objects.count(),
                      "chain_intact": result.intact, "unsealed": result.as_dict().get("pending")}))


if __name__ == "__main__":
    main()
