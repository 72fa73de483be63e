"""Throwaway filler for the oversight-page benchmark (until ``tongban generate_load`` exists):
bulk-inserts synthetic cases (with events, clock stops), ratings, tickets and audit records into
a migrated database that has the demo loaded. Rows are plausible, not produced by the services
(audit hashes are fake; do not verify the chain of such a database).

    TONGBAN_DEBUG=1 python benchmarks/oversight_fill.py --cases 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--audit-per-case", type=float, default=6.3)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from tongban.accounts.models import User
    from tongban.catalog.models import ItemVersion, VersionStatus
    from tongban.organizations.models import Hall

    rnd = random.Random(args.seed)
    versions = list(ItemVersion.objects.filter(status=VersionStatus.PUBLISHED)
                    .values_list("pk", "item_id", "item__department_id"))
    halls = list(Hall.objects.values_list("pk", flat=True)) or [None]
    users = list(User.objects.values_list("pk", flat=True))
    now = timezone.now()
    channels = ["online", "mobile", "window", "window", "mail"]
    q = connection.ops.quote_name

    def insert(table: str, cols: list[str], rows: list[tuple]) -> None:
        sql = (f"INSERT INTO {q(table)} ({', '.join(q(c) for c in cols)}) VALUES "
               f"({', '.join(['%s'] * len(cols))})")
        with connection.cursor() as cur:
            cur.executemany(sql, rows)

    case_cols = ["number", "channel", "status", "version", "applicant_kind", "applicant_name",
                 "applicant_id_number", "applicant_phone", "agent_name", "agent_id_number",
                 "authorization", "idempotency_key", "created_at", "submitted_at", "accepted_at",
                 "due_at", "due_provisional", "extension_working_days", "decided_at",
                 "decision_reason", "result_name", "delivered_at", "delivery", "closed_reason",
                 "visits", "excess_visits", "deadline_state", "department_id", "hall_id", "item_id",
                 "item_version_id", "event_count", "form_data"]
    with connection.cursor() as cur:
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM cases_case")
        next_case = cur.fetchone()[0] + 1
        cur.execute("SELECT COALESCE(MAX(seq), 0) FROM audit_auditrecord")
        next_seq = cur.fetchone()[0] + 1
    chunk = 5000
    started = time.monotonic()
    done = 0
    audit_owed = 0.0
    while done < args.cases:
        n = min(chunk, args.cases - done)
        cases, events, stops, ratings, audits = [], [], [], [], []
        ids = list(range(next_case, next_case + n))
        for pk in ids:
            vid, item_id, dep = rnd.choice(versions)
            submitted = now - dt.timedelta(days=rnd.random() * args.days)
            channel = rnd.choice(channels)
            status = rnd.choices(["submitted", "accepted", "approved", "denied", "delivered",
                                  "refused", "withdrawn", "suspended", "supplement"],
                                 [2, 4, 30, 3, 50, 2, 2, 1, 1])[0]
            accepted = decided = due = delivered = None
            if status not in ("submitted", "refused", "withdrawn"):
                accepted = submitted + dt.timedelta(hours=rnd.random() * 30)
                due = accepted + dt.timedelta(days=rnd.choice([0.3, 3, 7, 14, 20]))
            if status in ("approved", "denied", "delivered") and accepted is not None:
                decided = accepted + dt.timedelta(days=rnd.random() * 18)
                if decided > now:
                    decided = now - dt.timedelta(minutes=1)
                    accepted = min(accepted, decided)
                if status == "delivered":
                    delivered = decided
            visits = 0 if channel in ("online", "mobile") and rnd.random() < .8 else rnd.randint(0, 3)
            cases.append((None, channel, status, 3, "person", "张三", "", "", "", "", "", "",
                          submitted, submitted, accepted, due, False, 0, decided, "", "", delivered,
                          "", "", visits, False, "green", dep,
                          rnd.choice(halls) if channel == "window" else None, item_id, vid, 3,
                          "{}"))
            for seq, (action, to) in enumerate([("submit", "submitted"), ("accept", "accepted"),
                                                ("decide", status)][: 1 + (accepted is not None)
                                                                    + (decided is not None)], 1):
                events.append((pk, seq, submitted, None, "", action, "", to, "", "{}"))
            if accepted is not None and rnd.random() < 0.05:
                s = accepted + dt.timedelta(days=1)
                stops.append((pk, "suspension", "", "", "材料补正", None, s,
                              s + dt.timedelta(days=2) if decided else None))
            if decided is not None and rnd.random() < 0.3:
                level = rnd.choices([1, 2, 3, 4, 5], [3, 4, 10, 30, 53])[0]
                ratings.append((pk, level, decided + dt.timedelta(hours=2), dep, item_id,
                                rnd.random() < 0.01))
            audit_owed += args.audit_per_case
            while audit_owed >= 1:
                audit_owed -= 1
                audits.append((next_seq, submitted, "张三", rnd.choice(
                    ["case.submitted", "case.accepted", "case.decided", "user.login"]),
                    "case", str(pk), "{}", "0" * 64, "0" * 64,
                    rnd.choice(users) if users else None, "sha256", 2))
                next_seq += 1
        with transaction.atomic():
            insert("cases_case", ["id", *case_cols], [(pk, *row) for pk, row in zip(ids, cases, strict=True)])
            insert("cases_caseevent", ["case_id", "seq", "at", "actor_id", "actor_name", "action",
                                       "from_status", "to_status", "reason", "data"], events)
            if stops:
                insert("cases_clockstop", ["case_id", "kind", "procedure", "ground", "reason",
                                           "expected_working_days", "started_at", "ended_at"],
                       stops)
            for case_id, level, at, dep, item_id, excluded in ratings:
                with connection.cursor() as cur:
                    cur.execute(
                        "INSERT INTO ratings_rating (channel, rater_name, rater_id_number, level,"
                        " indicators, text, created_at, on_staff_device, excluded,"
                        " excluded_reason, case_id, department_id, item_id, rater_phone)"
                        " VALUES ('online', '', '', %s, '{}', '', %s, %s, %s, '', %s, %s, %s, '')"
                        " RETURNING id",
                        [level, at, False, excluded, case_id, dep, item_id])
                    rating_id = cur.fetchone()[0]
                    if level <= 2:
                        responded = at + dt.timedelta(days=rnd.random() * 8)
                        cur.execute(
                            "INSERT INTO ratings_rectificationticket (state, version, opened_at,"
                            " due_at, due_provisional, overdue, response, response_text,"
                            " responded_at, callback_note, appeal_reason, appeal_decision,"
                            " appeal_note, outcome, department_id, rating_id, fix_satisfied)"
                            " VALUES ('closed', 1, %s, %s, %s, %s, 'fixed', '', %s, '', '', '',"
                            " '', 'rectified', %s, %s, %s)",
                            [at, at + dt.timedelta(days=5), False, False,
                             responded if responded < now else None, dep, rating_id,
                             rnd.choice([None, True, False])])
            insert("audit_auditrecord", ["seq", "at", "actor_name", "action", "object_type",
                                         "object_id", "detail", "prev_hash", "hash", "actor_id",
                                         "algorithm", "digest_version"], audits)
        next_case += n
        done += n
        print(f"{done} cases, {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            for table in ("cases_case", "cases_caseevent", "cases_clockstop", "ratings_rating",
                          "ratings_rectificationticket", "audit_auditrecord"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                            f" (SELECT MAX(id) FROM {table}))")
            cur.execute("ANALYZE")
    else:
        with connection.cursor() as cur:
            cur.execute("ANALYZE")


if __name__ == "__main__":
    json  # noqa: B018 (kept for ad-hoc edits)
    main()
