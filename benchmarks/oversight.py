"""Response times of the oversight pages (supervision dashboard, metrics, monthly ratings report,
power list, audit log, public per-item figures and their API) on a large database.

Fill a database first (``benchmarks/oversight_fill.py``, or ``tongban generate_load``), then:

    TONGBAN_DEBUG=1 TONGBAN_DATA_DIR=/tmp/big python benchmarks/oversight.py [--runs 15]
    TONGBAN_DEBUG=1 TONGBAN_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/big \\
        python benchmarks/oversight.py

Each page is fetched once to warm up, then ``--runs`` times with Django's test client in this
process (no HTTP server); median and 95th percentile in milliseconds, and the SQL statements of
one more fetch (counted with Django's ``CaptureQueriesContext``). Query logging is otherwise off.
Works on any database filled by ``tongban generate_load`` (after ``load_demo``): it logs in as the
demo ``supervisor`` and ``head``. ``--rollup`` runs the daily rollups first (``--rebuild``: from
the first day), as the nightly task ``rollup_figures`` would have.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--only", default="", help="substring of the page names to run")
    parser.add_argument("--skip", default="", help="comma-separated substrings of pages to skip")
    parser.add_argument("--rollup", action="store_true",
                        help="run the daily rollups first (as the task rollup_figures does)")
    parser.add_argument("--rebuild", action="store_true",
                        help="with --rollup: rebuild the rollups from the first day")
    args = parser.parse_args()
    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from tongban.accounts.models import User

    settings.DEBUG = False  # no query log
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    if args.rollup:
        from tongban.supervision import rollups

        for name in ("rollup_item_times", "rollup_department_days"):
            run = getattr(rollups, name, None)
            if run is None:  # an older version of the code, without this rollup
                continue
            started = time.monotonic()
            days = run(rebuild=args.rebuild)
            print(f"{name}: {days} days in {time.monotonic() - started:.1f} s", flush=True)
    supervisor = User.objects.get(username="supervisor")
    staff = Client()
    staff.force_login(supervisor)
    head = Client()
    head.force_login(User.objects.get(username="head"))
    anonymous = Client()
    today = timezone.localdate()
    last = today.replace(day=1) - __import__("datetime").timedelta(days=1)
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM cases_case")
        cases = cur.fetchone()[0]
        cur.execute("SELECT COUNT(*) FROM audit_auditrecord")
        audit = cur.fetchone()[0]
        cur.execute("SELECT object_id FROM audit_auditrecord WHERE object_type = 'case' "
                    "ORDER BY seq DESC LIMIT 1 OFFSET 5000")
        row = cur.fetchone()
        case_ref = row[0] if row else "1"
    print(f"{connection.vendor}: {cases:,} cases, {audit:,} audit records", flush=True)
    pages = [
        ("dashboard", staff, "/supervision/"),
        ("dashboard (head)", head, "/supervision/"),
        ("head's view", head, "/workbench/head/"),
        ("head's view, yellow", head, "/workbench/head/?state=yellow"),
        ("metrics (department)", staff, "/supervision/metrics/"),
        ("metrics (item)", staff, "/supervision/metrics/?group=item"),
        ("ratings report, this month", staff, f"/ratings/report/{today:%Y-%m}/"),
        ("ratings report, last month", staff, f"/ratings/report/{last:%Y-%m}/"),
        ("ratings report .csv", staff, f"/ratings/report/{last:%Y-%m}.csv"),
        ("ratings report .json", staff, f"/ratings/report/{last:%Y-%m}.json"),
        ("power list", anonymous, "/power-list/"),
        ("power list, page 5", anonymous, "/power-list/?page=5"),
        ("public items", anonymous, "/supervision/public/items/"),
        ("audit log", staff, "/supervision/audit/"),
        ("audit log, one case", staff, f"/supervision/audit/?object_type=case&object_id={case_ref}"),
        ("audit log, action", staff, "/supervision/audit/?action=case.decided"),
        ("audit log, actor", staff, "/supervision/audit/?actor=supervisor"),
        ("API board", staff, "/api/v1/supervision/board"),
        ("API trend", staff, "/api/v1/supervision/trend"),
        ("API metrics", staff, "/api/v1/supervision/metrics?group=item"),
        ("API public items", anonymous, "/api/v1/supervision/public/items"),
        ("API ratings report", anonymous, f"/api/v1/ratings/reports/{last:%Y}-{last:%m}"),
    ]
    print("| page | median ms | p95 ms | SQL queries |")
    print("| --- | ---: | ---: | ---: |")
    for name, client, url in pages:
        if args.only and args.only not in name:
            continue
        if any(part and part in name for part in args.skip.split(",")):
            continue
        response = client.get(url)
        if response.status_code != 200:
            print(f"| {name} | HTTP {response.status_code} | | |", flush=True)
            continue
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        statements = len(queries.captured_queries)
        times = []
        budget = time.monotonic() + 60
        for _ in range(args.runs):
            started = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            if time.monotonic() > budget:
                break
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        print(f"| {name} | {statistics.median(times):.0f} | {p95:.0f} | {statements} |",
              flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
