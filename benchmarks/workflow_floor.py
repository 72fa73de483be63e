"""The floor of the database work of ``benchmarks/workflow.py``: its statements replayed raw.

Is twice SpiffWorkflow's figure reachable at all with the writes a case makes? This script runs
the workflow benchmark's scene and warm-up cases through tongban (Django, the case services),
copies the database, then runs ``--cases`` more cases through tongban while recording every
statement they send (SQL, parameters, transaction control) and every commit. It then replays
exactly that stream on the copy with the bare driver — ``sqlite3`` or ``psycopg`` (a client-side
binding cursor, as Django's), no Django, no Python between the statements but the loop — with
the same commits, and checks that the copy ends with the same rows as the original.

The replay's cases/s is what the database work alone allows on this machine: the rows, indexes,
commits and round trips of the six requests, with none of the services' Python. Compare it with
the recorded run's own cases/s (the same cases through tongban, with the recording's small cost)
and with SpiffWorkflow's (``benchmarks/spiff_compare.py``; ``--no-spiff`` skips it).

    python benchmarks/workflow_floor.py                   # SQLite, 1000 cases
    python benchmarks/workflow_floor.py --cases 500 --no-spiff
    python benchmarks/workflow_floor.py --database postgresql://postgres@127.0.0.1:5432/tongban_floor

A PostgreSQL database is created if missing (as in ``workflow.py``); the copy is a fresh database
named after it with ``_replay`` appended, made from it as a template and dropped at the end.

The last line printed is ``tongban_cases_per_s=<n> floor_cases_per_s=<n>`` (and
``spiff_cases_per_s=<n>`` when SpiffWorkflow ran).
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workflow  # (the benchmark beside this script: its scene and its case)

# The tables whose row counts must agree between the recorded database and its replayed copy.
CHECKED_TABLES = ("cases_case", "cases_caseevent", "audit_auditrecord", "django_tasks_database_dbtaskresult",
                  "workflows_steptask", "cases_notice")
FORMAT_QMARK = re.compile(r"(?<!%)%s")  # Django's SQLite backend's own conversion


def record(people: dict[str, Any], first: int, cases: int) -> tuple[list[tuple[Any, ...]], float]:
    """Run ``cases`` cases through tongban, recording their statements and commits; returns the
    stream and the seconds the cases took (the recording included)."""
    from django.db import connection

    stream: list[tuple[Any, ...]] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        stream.append(("sql", sql, None if params is None else list(params) if not many
                       else [list(p) for p in params], many, connection.in_atomic_block))
        return execute(sql, params, many, context)

    real_commit = connection.commit

    def commit() -> None:
        stream.append(("commit",))
        real_commit()

    times = dict.fromkeys(workflow.STEPS, 0.0)
    connection.commit = commit  # type: ignore[method-assign]
    try:
        with connection.execute_wrapper(wrapper):
            started = time.perf_counter()
            for n in range(first, first + cases):
                workflow.run_case(n, people, times)
            elapsed = time.perf_counter() - started
    finally:
        del connection.commit
    return stream, elapsed


def replay_sqlite(path: Path, stream: list[tuple[Any, ...]]) -> float:
    import sqlite3

    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
    steps = [(e[0], FORMAT_QMARK.sub("?", e[1]).replace("%%", "%"), e[2], e[3]) if e[0] == "sql"
             else e for e in stream]
    cursor = conn.cursor()
    started = time.perf_counter()
    for step in steps:
        if step[0] == "commit":
            cursor.execute("COMMIT")
            continue
        _kind, sql, params, many = step
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params or ())
            if cursor.description is not None:
                cursor.fetchall()
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def replay_postgres(url: str, stream: list[tuple[Any, ...]]) -> float:
    import psycopg

    conn = psycopg.connect(url, autocommit=True, cursor_factory=psycopg.ClientCursor)
    cursor = conn.cursor()
    started = time.perf_counter()
    open_transaction = False
    for step in stream:
        if step[0] == "commit":
            cursor.execute("COMMIT")
            open_transaction = False
            continue
        _kind, sql, params, many, atomic = step
        if atomic and not open_transaction:  # psycopg opens Django's transactions implicitly
            cursor.execute("BEGIN")
            open_transaction = True
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
            if cursor.description is not None:
                cursor.fetchall()
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def counts_sqlite(path: Path) -> dict[str, int]:
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in CHECKED_TABLES}
    finally:
        conn.close()


def counts_postgres(url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url) as conn:
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]  # type: ignore[index]
                for t in CHECKED_TABLES}


def measure(database: str, cases: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="tongban-workflow-floor-"))
    sqlite = database == "sqlite"
    if sqlite:
        database = f"sqlite:///{work / 'bench.sqlite3'}"
    workflow.configure(database, work)
    from django.db import connection

    people = workflow.scene()
    times = dict.fromkeys(workflow.STEPS, 0.0)
    for n in range(workflow.WARMUP_CASES):
        workflow.run_case(n, people, times)

    # The copy the replay starts from: the database as the recorded cases find it.
    if sqlite:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.close()
        original, copy = work / "bench.sqlite3", work / "replay.sqlite3"
        shutil.copyfile(original, copy)
    else:
        import psycopg

        connection.close()
        base, name = database.rsplit("/", 1)
        copy_url = f"{base}/{name}_replay"
        with psycopg.connect(base + "/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}_replay"')
            admin.execute(f'CREATE DATABASE "{name}_replay" TEMPLATE "{name}"')

    stream, tongban_seconds = record(people, workflow.WARMUP_CASES, cases)
    connection.close()
    statements = sum(1 for e in stream if e[0] == "sql")
    commits = sum(1 for e in stream if e[0] == "commit")
    if sqlite:
        floor_seconds = replay_sqlite(copy, stream)
        same = counts_sqlite(original) == counts_sqlite(copy)
    else:
        floor_seconds = replay_postgres(copy_url, stream)
        same = counts_postgres(database) == counts_postgres(copy_url)
        with psycopg.connect(base + "/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}_replay"')
    return {
        "database": "sqlite" if sqlite else "postgresql", "cases": cases,
        "statements_per_case": round(statements / cases, 1),
        "commits_per_case": round(commits / cases, 1),
        "tongban_cases_per_s": round(cases / tongban_seconds, 1),
        "floor_cases_per_s": round(cases / floor_seconds, 1),
        "floor_ms_per_case": round(1000 * floor_seconds / cases, 3),
        "same_rows": same,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1000, help="cases recorded and replayed")
    parser.add_argument("--database", default="sqlite",
                        help="postgresql://… URL (default: a fresh SQLite file)")
    parser.add_argument("--spiff-python", default=workflow.SPIFF_PYTHON)
    parser.add_argument("--no-spiff", action="store_true", help="do not run SpiffWorkflow")
    args = parser.parse_args()
    result = measure(args.database, args.cases)
    spiff = None if args.no_spiff else workflow.run_spiff(args.spiff_python, args.cases)
    print(f"{result['database']}: {result['cases']} cases, {result['statements_per_case']} "
          f"statements and {result['commits_per_case']} commits a case")
    print(f"  through tongban (recorded)  {result['tongban_cases_per_s']:>9} cases/s")
    print(f"  the same statements, raw    {result['floor_cases_per_s']:>9} cases/s "
          f"({result['floor_ms_per_case']} ms a case; same rows after replay: {result['same_rows']})")
    if spiff is not None:
        print(f"  SpiffWorkflow               {spiff['cases_per_s']:>9} cases/s")
    if not result["same_rows"]:
        print("CHECK FAILED: the replayed copy does not hold the same rows", file=sys.stderr)
    last = (f"tongban_cases_per_s={result['tongban_cases_per_s']} "
            f"floor_cases_per_s={result['floor_cases_per_s']}")
    if spiff is not None:
        last += f" spiff_cases_per_s={spiff['cases_per_s']}"
    print(last)
    if not result["same_rows"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
