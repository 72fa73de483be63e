"""The monthly ratings report and the audit log on a database filled by ``tongban
generate_load``: wall and CPU milliseconds, SQL statements, and with ``--explain`` the plans of
the audit log's statements.

In-process with Django's test client, as ``benchmarks/pages.py`` (whose logins it uses: the
supervisor's session has passed the second factor), ``TONGBAN_DEBUG`` off. Per page one warm-up
request, one whose statements are counted, then ``--requests`` timed ones (fewer past
``--max-seconds``): p50 and p95 of the wall time and the p50 of this process's CPU time
(``time.process_time``; on PostgreSQL the server's own work is not in it).

    export PATH=.venv/bin:$PATH PYTHONPATH=src TONGBAN_DATA_DIR=var/bench
    python benchmarks/oversight_scale.py --rollup            # bring the report's rollup up first
    python benchmarks/oversight_scale.py --only audit --explain

``--rollup`` runs ``ratings.rollups.rollup_ratings`` (what the nightly task ``rollup_ratings``
does; skipped on code without it), so that the run measures what production serves. The same
script measures older code from a checkout of it (``PYTHONPATH`` pointing at its ``src``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import statistics
import sys
import time
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
os.environ.setdefault("TONGBAN_DEBUG", "0")
os.environ.setdefault("TONGBAN_SECRET_KEY", "benchmark-only-not-a-secret")


def _pages(now: dt.datetime) -> list[tuple[str, str]]:
    from django.db import connection

    last = now.date().replace(day=1) - dt.timedelta(days=1)
    with connection.cursor() as cur:
        cur.execute("SELECT object_id FROM audit_auditrecord WHERE object_type = 'case' "
                    "ORDER BY seq DESC LIMIT 1 OFFSET 5000")
        row = cur.fetchone()
    case_ref = row[0] if row else "1"
    return [
        ("ratings report, last month", f"/ratings/report/{last:%Y}-{last.month}/"),
        ("ratings report, this month", f"/ratings/report/{now:%Y}-{now.month}/"),
        ("ratings report .csv", f"/ratings/report/{last:%Y}-{last.month:02d}.csv"),
        ("ratings report .json", f"/ratings/report/{last:%Y}-{last.month:02d}.json"),
        ("audit log", "/supervision/audit/"),
        ("audit log, older page", "/supervision/audit/?before=1000000"),
        ("audit log, one case", f"/supervision/audit/?object_type=case&object_id={case_ref}"),
        ("audit log, object id only", f"/supervision/audit/?object_id={case_ref}"),
        ("audit log, action case.deny", "/supervision/audit/?action=case.deny"),
        ("audit log, action prefix case.", "/supervision/audit/?action=case."),
        ("audit log, rare prefix rating_ticket.", "/supervision/audit/?action=rating_ticket."),
        ("audit log, no such action", "/supervision/audit/?action=nothing."),
        ("audit log, actor admin", "/supervision/audit/?actor=admin"),
        ("audit log, actor system", "/supervision/audit/?actor=system"),
    ]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def _explain(sql: str, params: Any) -> str:
    from django.db import connection

    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN (ANALYZE, COSTS OFF) "
    with connection.cursor() as cur:
        cur.execute(prefix + sql, params)
        rows = cur.fetchall()
    if connection.vendor == "sqlite":
        return "\n".join(f"    {'  ' * 0}{r[-1]}" for r in rows)
    return "\n".join(f"    {r[0]}" for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--max-seconds", type=float, default=30.0)
    parser.add_argument("--only", default="", help="comma-separated substrings of page names")
    parser.add_argument("--rollup", action="store_true", help="bring the report's rollup up first")
    parser.add_argument("--explain", action="store_true",
                        help="print the plan of each statement that reads the audit log")
    args = parser.parse_args()

    import django

    django.setup()
    # The application loaded (and settled) as each server worker loads it.
    importlib.import_module("tongban.wsgi")
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.utils import timezone

    from tongban.accounts.models import User

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from pages import _login

    setup_test_environment()
    if args.rollup:
        try:
            from tongban.ratings.rollups import rollup_ratings
        except ImportError:
            print("(no ratings rollup in this code)", flush=True)
        else:
            started, cpu = time.monotonic(), time.process_time()
            days = rollup_ratings()
            print(f"rollup_ratings: {days} days in {time.monotonic() - started:.1f} s "
                  f"({time.process_time() - cpu:.1f} s CPU)", flush=True)
    print(f"{connection.vendor}, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    client = Client(raise_request_exception=False)
    _login(client, User.objects.get(username="supervisor"))
    wanted = [w for w in args.only.split(",") if w]
    print("| page | status | requests | p50 ms | p95 ms | CPU p50 ms | statements |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    plans: list[str] = []
    for name, url in _pages(timezone.now()):
        if wanted and not any(w in name for w in wanted):
            continue
        client.get(url, secure=True)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, secure=True)
        captured = list(queries.captured_queries)
        walls: list[float] = []
        cpus: list[float] = []
        begun = time.monotonic()
        while len(walls) < args.requests and time.monotonic() - begun < args.max_seconds:
            wall, cpu = time.perf_counter(), time.process_time()
            client.get(url, secure=True)
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
        print(f"| {name} | {response.status_code} | {len(walls)} | {statistics.median(walls):.0f} "
              f"| {_percentile(walls, 0.95):.0f} | {statistics.median(cpus):.0f} "
              f"| {len(captured)} |", flush=True)
        if args.explain and name.startswith("audit"):
            for q in captured:
                sql = q["sql"]
                if "audit_auditrecord" in sql and sql.lstrip().upper().startswith(("SELECT", "WITH")):
                    plans.append(f"{name}: {sql[:300]}\n{_explain_raw(sql)}")
    for plan in plans:
        print(plan, flush=True)


def _explain_raw(sql: str) -> str:
    """The plan of a captured statement (its parameters already inlined by the log)."""
    try:
        return _explain(sql, None)
    except Exception as exc:
        return f"    (not explained: {exc.__class__.__name__})"


if __name__ == "__main__":
    main()
