"""Benchmark: the case lists at a province's size.

Two sub-commands, run against the database the environment names (``TONGBAN_DATA_DIR`` for
SQLite, ``TONGBAN_DATABASE_URL`` for PostgreSQL), which must hold the demo
(``tongban migrate && tongban load_demo``):

    python benchmarks/lists.py fill --cases 1000000     # bulk rows beside the demo's people
    python benchmarks/lists.py measure --runs 20        # p50/p95 of each list page and API list
    python benchmarks/lists.py explain                  # the query plan of each list's main query

``fill`` is a stand-in for ``tongban generate_load``: cases only in the shapes the lists read
(status, department, item, applicant and agent, the timestamps, one step task per case: open
while the case runs, done after), no events, materials or audit records. 10 % of the cases go
to the demo officer's department (兰州市市场监督管理局); the demo citizen applies for 60 and is
the agent of 10. It inserts in batches through the connection (``executemany``); the personal
fields carry one ciphertext computed once.

``measure`` requests each page with Django's test client as the demo user who reads it (first
request discarded to warm the caches) and prints milliseconds per page: p50, p95 and the
number of SQL queries. Settings are production's (``DEBUG`` off).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from typing import Any


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    import django

    django.setup()


def fill(total: int, seed: int = 11) -> None:
    from django.db import connection, transaction

    from tongban.accounts.models import User
    from tongban.cases.models import Case

    rnd = random.Random(seed)
    ops = connection.ops
    now = dt.datetime.now(dt.UTC)

    def stamp(value: dt.datetime | None) -> Any:
        return None if value is None else ops.adapt_datetimefield_value(value)

    with connection.cursor() as cur:
        cur.execute("SELECT i.id, i.current_id, i.department_id FROM catalog_item i "
                    "JOIN catalog_itemversion v ON v.id = i.current_id WHERE v.status = %s",
                    ["published"])
        items = cur.fetchall()
    mine = [row for row in items if row[2] == 1]
    others = [row for row in items if row[2] != 1]
    citizen = User.objects.get(username="citizen").pk

    # Applicants: 200 k citizens (one case in five by the same person again).
    first_user = (User.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    users = 200_000
    joined = stamp(now - dt.timedelta(days=800))
    rows = [("!", False, f"gen{first_user + i}", "", "", "", False, True, joined, "citizen",
             f"市民{i}", "", "", "", "", "", "") for i in range(users)]
    with transaction.atomic(), connection.cursor() as cur:
        cur.executemany(
            "INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name,"
            " email, is_staff, is_active, date_joined, role, real_name, id_number, uscc,"
            " legal_representative, legal_representative_id_number, id_number_index, phone)"
            " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)", rows)
    user_ids = list(User.objects.filter(username__startswith="gen").values_list("pk", flat=True))

    def prep(name: str, value: Any) -> Any:
        return Case._meta.get_field(name).get_db_prep_value(value, connection, prepared=False)

    id_number, phone, empty = (prep("applicant_id_number", "620102199001011234"),
                               prep("applicant_phone", "13800000000"),
                               prep("agent_id_number", ""))
    form_data = prep("form_data", {"reason": "申请"})
    recent = [("draft", 5), ("submitted", 5), ("pre_review", 3), ("supplement", 3),
              ("accepted", 40), ("suspended", 2), ("halted", 1), ("approved", 10),
              ("delivered", 25), ("refused", 3), ("withdrawn", 3)]
    older = [("delivered", 80), ("approved", 5), ("denied", 3), ("refused", 4),
             ("withdrawn", 5), ("terminated", 1), ("draft", 2), ("accepted", 0.3)]
    statuses = {key: ([s for s, _ in mix], [w for _, w in mix])
                for key, mix in (("recent", recent), ("older", older))}
    officers = {1: [4, 5, None, None], 3: [6, 7, None, None]}
    case_cols = ("number, channel, status, version, applicant_kind, applicant_name,"
                 " applicant_id_number, applicant_phone, agent_name, agent_id_number,"
                 " \"authorization\", idempotency_key, created_at, submitted_at, accepted_at, due_at,"
                 " due_provisional, extension_working_days, decided_at, decision_reason,"
                 " result_name, delivered_at, delivery, closed_reason, visits, excess_visits,"
                 " deadline_state, agent_id, applicant_id, department_id, hall_id, item_id,"
                 " item_version_id, receiving_unit_id, workflow_id, event_count, form_data")
    insert_case = (f"INSERT INTO cases_case ({case_cols}) VALUES "
                   f"({', '.join(['%s'] * 37)})")
    insert_task = ("INSERT INTO workflows_steptask (step_key, name, role, status, opened_at,"
                   " due_at, finished_at, outcome, deadline_state, late, assignee_id, case_id,"
                   " department_id, finished_by_id) VALUES "
                   "(%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)")
    with connection.cursor() as cur:
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM cases_case")
        next_id = cur.fetchone()[0] + 1
    batch = 20_000
    started = time.perf_counter()
    done = 0
    while done < total:
        cases: list[tuple[Any, ...]] = []
        tasks: list[tuple[Any, ...]] = []
        for n in range(done, min(total, done + batch)):
            pk = next_id + n
            age = rnd.random() * 730
            created = now - dt.timedelta(days=age)
            kinds, weights = statuses["recent" if age < 30 else "older"]
            status = rnd.choices(kinds, weights)[0]
            item, version, department = rnd.choice(mine if rnd.random() < 0.1 else others)
            applicant = rnd.choice(user_ids)
            agent = rnd.choice(user_ids) if rnd.random() < 0.1 else None
            if n < 60:
                applicant = citizen
            elif n < 70:
                agent = citizen
            window = rnd.random() < 0.3
            submitted = None if status == "draft" else created + dt.timedelta(minutes=5)
            accepted = (submitted + dt.timedelta(hours=20)
                        if submitted and status not in ("submitted", "pre_review", "supplement",
                                                         "refused", "draft") else None)
            due = accepted + dt.timedelta(days=20) if accepted else None
            decided = (accepted + dt.timedelta(days=rnd.uniform(0.5, 24))
                       if accepted and status in ("approved", "denied", "delivered") else None)
            if decided and decided > now:
                decided = now - dt.timedelta(minutes=1)
            delivered = decided + dt.timedelta(days=1) if status == "delivered" and decided \
                else None
            number = None if status == "draft" else f"{created:%Y%m%d}{pk:012d}"
            cases.append((
                number, "window" if window else "online", status, 3, "natural_person",
                f"申请人{applicant}", id_number, phone, "", empty, "", "", stamp(created),
                stamp(submitted), stamp(accepted), stamp(due), False, 0, stamp(decided), "", "",
                stamp(delivered), "", "", 1, False,
                "red" if decided and due and decided > due else "green",
                agent, applicant, department, 1 if window else None, item, version, None, None,
                3, form_data))
            if accepted:
                running = status in ("accepted", "suspended", "halted")
                assignee = rnd.choice(officers.get(department, [None])) if running else None
                task_due = accepted + dt.timedelta(days=rnd.uniform(3, 15))
                tasks.append(("review", "审查", "officer", "open" if running else "done",
                              stamp(accepted), stamp(task_due),
                              None if running else stamp(decided or task_due),
                              "" if running else "approve", "green", False, assignee, pk,
                              department, None))
        with transaction.atomic(), connection.cursor() as cur:
            cur.executemany(insert_case, cases)
            cur.executemany(insert_task, tasks)
        done += len(cases)
        print(f"{done} cases, {time.perf_counter() - started:.0f} s", flush=True)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")


PAGES: list[tuple[str, str, str, dict[str, str]]] = [
    ("citizen's case list /my/cases/", "citizen", "/my/cases/", {}),
    ("officer's inbox /workbench/ (mine)", "officer", "/workbench/", {}),
    ("officer's inbox /workbench/?tab=unclaimed", "officer", "/workbench/", {"tab": "unclaimed"}),
    ("officer's inbox /workbench/?tab=all", "officer", "/workbench/", {"tab": "all"}),
    ("head's inbox /workbench/?tab=all", "head", "/workbench/", {"tab": "all"}),
    ("head's view /workbench/head/", "head", "/workbench/head/", {}),
    ("supervisor's case list /supervision/cases/", "supervisor", "/supervision/cases/", {}),
    ("supervisor's list, red", "supervisor", "/supervision/cases/", {"state": "red"}),
    ("API /api/v1/cases (citizen)", "citizen", "/api/v1/cases", {}),
    ("API /api/v1/cases (officer)", "officer", "/api/v1/cases", {}),
    ("API /api/v1/cases (supervisor)", "supervisor", "/api/v1/cases", {}),
    ("API /api/v1/cases?status=accepted (officer)", "officer", "/api/v1/cases",
     {"status": "accepted"}),
]


def measure(runs: int, only: str = "") -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tongban.accounts.models import User

    clients: dict[str, Client] = {}
    print(f"{'page':50} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    for label, who, url, params in PAGES:
        if only and only not in label:
            continue
        if who not in clients:
            clients[who] = Client()
            clients[who].force_login(User.objects.get(username=who))
        client = clients[who]
        first = client.get(url, params)
        assert first.status_code == 200, (url, first.status_code)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            client.get(url, params)
            times.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as queries:
            client.get(url, params)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        print(f"{label:50} {statistics.median(times):8.1f} {p95:8.1f} {len(queries):8d}",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    filling = sub.add_parser("fill")
    filling.add_argument("--cases", type=int, default=1_000_000)
    timing = sub.add_parser("measure")
    timing.add_argument("--runs", type=int, default=20)
    timing.add_argument("--only", default="")
    sub.add_parser("explain")
    args = parser.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    setup()
    if args.command == "fill":
        fill(args.cases)
    elif args.command == "measure":
        measure(args.runs, args.only)
    else:
        from list_plans import explain_all

        explain_all()


if __name__ == "__main__":
    main()
