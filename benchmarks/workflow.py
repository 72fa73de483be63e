"""Benchmark: completed cases per second through a five-step approval, via the case services.

One published 限时办结 item (10 working days) with its own workflow (审查 by an officer, then
决定 by the department head). Every case goes through the requests a real case makes, each a
separate service call committed in its own transaction:

    create   the applicant fills in the online form (a draft)
    submit   the applicant submits it                       (step 1)
    accept   the officer accepts it: clock, notice, workflow (step 2)
    review   the officer approves the review step           (step 3)
    decide   the head decides; every fifth case is denied   (step 4)
    issue    the officer delivers the result online         (step 5)

Nothing is switched off: every call checks permissions, locks the case, writes its history
event and its audit record (SHA-256 chain), computes deadlines on the working-day clock, and
queues the notification of the event in the same transaction (the database task backend, as in
production, where ``tongban worker`` sends them; no worker runs here). Settings are production's
(``DEBUG`` off: no query log).

    python benchmarks/workflow.py                    # fresh SQLite file in a temporary directory
    python benchmarks/workflow.py --cases 2000
    python benchmarks/workflow.py --database postgresql://postgres@127.0.0.1:5432/tongban_bench
    python benchmarks/workflow.py --both --database postgresql://postgres@127.0.0.1:5432/tongban_bench

A PostgreSQL database is created if missing and migrated; the run adds its own department,
item and people under fresh names and identity numbers, so the same database can be reused
(nothing is dropped).

Beside cases/s the run reports the statements and commits a case takes (counted over a few
cases after the timed ones, so that counting does not slow the timed run) and the CPU time of
this process per case. It then runs SpiffWorkflow on the same five steps
(``benchmarks/spiff_compare.py``, in a subprocess with a virtual environment that has
SpiffWorkflow: ``--spiff-python``, by default ``/tmp/spiffvenv/bin/python``, created if
missing; ``--no-spiff`` skips it) and prints the ratio of the two figures of this one run.
SpiffWorkflow is a benchmark-only tool, not a dependency of tongban.

The last line printed is ``cases_per_s=<number> steps_per_s=<number>`` for the last database
(SQLite unless only PostgreSQL was asked for), followed by ``spiff_ratio=<number>`` when
SpiffWorkflow ran (``steps_per_s`` counts the five approval steps; the draft's creation is
timed too).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
STEPS = ("create", "submit", "accept", "review", "decide", "issue")
APPROVAL_STEPS = 5
DEFAULT_CASES = 3000
WARMUP_CASES = 20
COUNTED_CASES = 10  # cases run with a statement counter after the timed ones
SPIFF_PYTHON = "/tmp/spiffvenv/bin/python"


def configure(database: str, work: Path) -> None:
    """Settings come from the environment; set it before Django is imported."""
    sys.path.insert(0, str(REPO / "src"))
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "tongban.settings",
        "TONGBAN_DATABASE_URL": database,
        "TONGBAN_DATA_DIR": str(work),
        "TONGBAN_DEBUG": "0",
        "TONGBAN_SECRET_KEY": os.environ.get("TONGBAN_SECRET_KEY", "benchmark-only-key"),
        "TONGBAN_LOG_LEVEL": "WARNING",
        "TONGBAN_TASKS_BACKEND": "database",
        "TONGBAN_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    })
    if database.startswith("postgres"):
        create_postgres_database(database)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def create_postgres_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


# --- the scene: a department, its people, a published item with its own workflow -------------

def make_uscc(serial: int) -> str:
    from stdnum.cn import uscc

    body = f"11620100MB{serial:07d}"
    return body + uscc.calc_check_digit(body + "0")


def make_id_number(serial: int) -> str:
    """A valid 公民身份号码 unique to ``serial`` (a used database already holds earlier runs')."""
    from stdnum.cn import ric

    body = f"620102{1985 + serial % 20}{1 + serial // 20 % 12:02d}{1 + serial // 240 % 28:02d}" \
           f"{1 + serial // 6720 % 999:03d}"  # sequence 001-999
    return ric.validate(body + ric.calc_check_digit(body + "0"))


def scene() -> dict[str, Any]:
    from tongban.accounts.models import Role, User
    from tongban.accounts.permissions import SYSTEM
    from tongban.cases.workflows.services import workflow_save
    from tongban.catalog import services as catalog
    from tongban.catalog.models import Item
    from tongban.catalog.rules import ItemData, MaterialData
    from tongban.core.crypto import blind_index
    from tongban.organizations.models import Department, Division
    from tongban.organizations.services import DepartmentFields, department_save

    tag = secrets.token_hex(3)  # fresh names, so that a used PostgreSQL database works too
    serial = int(tag, 16) % 10_000_000
    while Department.objects.filter(uscc=make_uscc(serial)).exists():
        serial = (serial + 1) % 10_000_000
    id_number = make_id_number(serial)
    while User.objects.filter(id_number_index=blind_index(id_number)).exists():
        serial = (serial + 1) % 10_000_000
        id_number = make_id_number(serial)
    department = department_save(actor=SYSTEM, fields=DepartmentFields(
        name=f"兰州市基准测试局{tag}", uscc=make_uscc(serial),
        division=Division.objects.get(code="620100"), level="city"))
    basic_code = "620100100001"
    data = ItemData(
        implementation_code=department.uscc + "3" + basic_code, basic_code=basic_code,
        name="基准测试许可", item_type="01", department=department, level="city",
        commitment="time_limited", legal_limit=20, legal_limit_unit="working_days",
        committed_limit=10, committed_limit_unit="working_days", required_visits=0,
        online_depth=4, handling_forms=["online"], service_objects=["natural_person"],
        result_type="licence", result_name="基准测试许可证",
        materials=[MaterialData(name="情况说明", material_type="original", form="electronic",
                                necessity="optional", source="applicant", original_copies=1)])
    draft = catalog.item_save_draft(actor=SYSTEM, data=data)
    catalog.version_submit(actor=SYSTEM, version=draft)
    catalog.version_review(actor=SYSTEM, version=draft, approve=True)
    item = Item.objects.select_related("current").get(pk=draft.item_id)
    workflow_save(actor=SYSTEM, item=item, name="审查—决定", definition={
        "start": "review", "budget_mode": "working_days",
        "steps": [
            {"key": "review", "name": "审查", "role": "officer", "budget_working_days": 6,
             "actions": ["approve", "supplement"], "next": ["decide"]},
            {"key": "decide", "name": "决定", "role": "head", "budget_working_days": 4,
             "actions": ["approve", "deny", "return"], "return_to": ["review"],
             "next": ["end"], "decides": True},
        ]})

    def person(name: str, role: str, **extra: Any) -> User:
        return User.objects.create_user(username=f"{name}-{tag}", password=None, role=role,
                                        real_name=name, **extra)

    return {
        "item": item,
        "id_number": id_number,
        "citizen": person("张三", Role.CITIZEN, id_number=id_number,
                          phone="13893100001", email="zhangsan@example.cn"),
        "officer": person("王经办", Role.OFFICER, department=department),
        "head": person("李科长", Role.HEAD, department=department),
    }


# --- one case, six requests ----------------------------------------------------------------------

def run_case(n: int, people: dict[str, Any], times: dict[str, float]) -> str:
    """One case from the online form to the delivered result; returns its final decision."""
    from tongban.cases import services
    from tongban.cases.models import Channel
    from tongban.cases.workflows.models import StepTask, TaskStatus

    citizen, officer, head = people["citizen"], people["officer"], people["head"]
    clock = time.perf_counter
    t0 = clock()
    case = services.case_create(
        actor=citizen, item=people["item"], channel=Channel.ONLINE,
        applicant=services.ApplicantData(kind="natural_person", name="张三",
                                         id_number=people["id_number"], phone="13893100001"),
        form_data={"contact_phone": "13893100001", "purpose": "开办餐饮店"})
    t1 = clock()
    services.case_submit(actor=citizen, case=case)
    t2 = clock()
    services.case_accept(actor=officer, case=case)
    t3 = clock()
    # The officer's inbox names the task; the request carries its id.
    review = StepTask.objects.get(case_id=case.pk, status=TaskStatus.OPEN)
    services.case_step(actor=officer, task=review, action="approve")
    t4 = clock()
    decide = StepTask.objects.get(case_id=case.pk, status=TaskStatus.OPEN)
    deny = n % 5 == 4
    services.case_step(actor=head, task=decide, action="deny" if deny else "approve",
                       reason="申请材料反映的条件不符合许可要求" if deny else "符合许可条件")
    t5 = clock()
    services.case_deliver(actor=officer, case=case, delivery="online")
    t6 = clock()
    for name, a, b in zip(STEPS, (t0, t1, t2, t3, t4, t5), (t1, t2, t3, t4, t5, t6), strict=True):
        times[name] += b - a
    return "deny" if deny else "approve"


# The tables a transition writes; ``--without-secondary-indexes`` drops their non-unique indexes
# (the queue's and the audit sealer's own excepted) to bound what fewer indexes could ever give.
HOT_TABLES = ("cases_case", "cases_caseevent", "cases_notice", "audit_auditrecord",
              "workflows_steptask", "django_tasks_database_dbtaskresult")
KEPT_INDEXES = ("tasks_db_new_ordering_idx", "audit_record_unsealed")


def drop_secondary_indexes() -> int:
    """An upper bound, not a configuration: the lists at 1 M cases need these indexes."""
    from django.db import connection

    dropped = 0
    with connection.cursor() as cursor:
        for table in HOT_TABLES:
            for index in connection.introspection.get_constraints(cursor, table).items():
                name, info = index
                if info["index"] and not info["unique"] and not info["primary_key"] \
                        and name not in KEPT_INDEXES:
                    cursor.execute(f'DROP INDEX {connection.ops.quote_name(name)}')
                    dropped += 1
    return dropped


def measure(database: str, cases: int, *, without_indexes: bool = False) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="tongban-workflow-bench-"))
    if database == "sqlite":
        database = f"sqlite:///{work / 'bench.sqlite3'}"
    configure(database, work)
    from django_tasks_db.models import DBTaskResult

    from tongban.audit.models import AuditRecord
    from tongban.cases.models import Case, CaseEvent, Status

    people = scene()
    dropped = drop_secondary_indexes() if without_indexes else 0
    times = dict.fromkeys(STEPS, 0.0)
    for n in range(WARMUP_CASES):
        run_case(n, people, times)
    times = dict.fromkeys(STEPS, 0.0)
    first_audit = (AuditRecord.objects.order_by("-seq").values_list("seq", flat=True).first() or 0)
    queued_before = DBTaskResult.objects.count()
    started, cpu_started = time.perf_counter(), time.process_time()
    outcomes = [run_case(n, people, times) for n in range(cases)]
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    counted = count_statements(people, cases)
    total = cases + WARMUP_CASES + COUNTED_CASES

    from tongban.audit.sealing import audit_seal

    audit_seal()  # as the worker's audit_seal schedule does moments later: chained, checkable
    mine = Case.objects.filter(item=people["item"])
    checks = {
        "delivered": mine.filter(status=Status.DELIVERED).count(),
        "denied": mine.filter(status=Status.DELIVERED, decided_at__isnull=False,
                              result_name="").count(),
        "events": CaseEvent.objects.filter(case__item=people["item"]).count(),
        "audit_records": AuditRecord.objects.filter(seq__gt=first_audit).count(),
        # Notifications wait in the task queue for ``tongban worker``, as in production.
        "queued_tasks": DBTaskResult.objects.count() - queued_before,
        "audit_chain_ok": audit_chain_ok(first_audit),
    }
    expected_denied = sum(n % 5 == 4 for n in range(WARMUP_CASES)) + outcomes.count("deny") \
        + sum(n % 5 == 4 for n in range(cases, cases + COUNTED_CASES))
    ok = (checks["delivered"] == total and checks["denied"] == expected_denied
          and checks["audit_chain_ok"] and checks["events"] == 6 * total
          and checks["queued_tasks"] >= APPROVAL_STEPS * (cases + COUNTED_CASES))
    return {
        "database": database.split(":", 1)[0],
        "cases": cases, "seconds": round(elapsed, 2),
        "cases_per_s": round(cases / elapsed, 1),
        "steps_per_s": round(cases * APPROVAL_STEPS / elapsed, 1),
        "cpu_ms_per_case": round(1000 * cpu / cases, 2),
        "ms_per_call": {name: round(1000 * t / cases, 3) for name, t in times.items()},
        **counted,
        "checks": checks, "ok": ok, "secondary_indexes_dropped": dropped,
    }


# Statements that commit nothing when sent outside a transaction (``BEGIN`` opens one).
READS = ("SELECT", "BEGIN", "SAVEPOINT", "RELEASE")


def count_statements(people: dict[str, Any], first: int) -> dict[str, Any]:
    """Statements and commits per case over ``COUNTED_CASES`` more cases (not timed).

    Statements: every SQL statement the six requests send, transaction control (``BEGIN``,
    savepoints) included, and the two reads of the inbox that name the open task. Commits: the
    transactions committed, plus any write outside a transaction (committed on its own).
    """
    from django.db import connection

    statements: list[str] = []
    commits = 0

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal commits
        statements.append(sql)
        if not connection.in_atomic_block and sql.split(None, 1)[0].upper() not in READS:
            commits += 1
        return execute(sql, params, many, context)

    real_commit = connection.commit

    def commit() -> None:
        nonlocal commits
        commits += 1
        real_commit()

    times = dict.fromkeys(STEPS, 0.0)
    connection.commit = commit  # type: ignore[method-assign]
    try:
        with connection.execute_wrapper(wrapper):
            for n in range(first, first + COUNTED_CASES):
                run_case(n, people, times)
    finally:
        del connection.commit  # back to the class's method
    control = sum(1 for s in statements
                  if s.split(None, 1)[0].upper() in ("BEGIN", "SAVEPOINT", "RELEASE"))
    return {"statements_per_case": round(len(statements) / COUNTED_CASES, 1),
            "transaction_control_per_case": round(control / COUNTED_CASES, 1),
            "commits_per_case": round(commits / COUNTED_CASES, 1)}


def audit_chain_ok(after_seq: int) -> bool:
    """The audit chain verifies over the records written by this run (the platform's own
    verification; the head file and checkpoints of a reused database are not this run's)."""
    from tongban.audit import verification

    result = verification.verify_chain(from_seq=after_seq + 1, check_age=False)
    record_problems = {verification.MODIFIED, verification.MISSING, verification.INSERTED,
                       verification.REORDERED}
    return result.records_checked > 0 and not any(
        p.kind in record_problems for p in result.problems)


def run_spiff(python: str, cases: int) -> dict[str, Any]:
    """``spiff_compare.py`` in a subprocess of this run (its own virtual environment)."""
    if not Path(python).exists():
        venv = Path(python).parent.parent
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "spiffworkflow"], check=True)
    out = subprocess.run([python, str(REPO / "benchmarks" / "spiff_compare.py"),
                          "--cases", str(cases)], check=True, capture_output=True, text=True)
    last = out.stdout.strip().splitlines()[-1]
    figures = dict(part.split("=") for part in last.split())
    return {"cases": cases, "cases_per_s": float(figures["cases_per_s"]),
            "steps_per_s": float(figures["steps_per_s"]),
            "cpu_ms_per_case": float(figures.get("cpu_ms_per_case", "nan"))}


def report(results: list[dict[str, Any]], spiff: dict[str, Any] | None) -> None:
    print(f"{'database':<12}{'cases':>7}{'seconds':>9}{'cases/s':>9}{'steps/s':>9}"
          f"{'cpu ms':>8}{'stmts':>7}{'commits':>8}   "
          + "  ".join(f"{s:>7}" for s in STEPS) + "   (ms per call)")
    for r in results:
        calls = "  ".join(f"{r['ms_per_call'][s]:>7.2f}" for s in STEPS)
        print(f"{r['database']:<12}{r['cases']:>7}{r['seconds']:>9}{r['cases_per_s']:>9}"
              f"{r['steps_per_s']:>9}{r['cpu_ms_per_case']:>8}{r['statements_per_case']:>7}"
              f"{r['commits_per_case']:>8}   {calls}")
    if spiff is not None:
        print(f"{'SpiffWorkflow':<12}{spiff['cases']:>7}{'':>9}{spiff['cases_per_s']:>9}"
              f"{spiff['steps_per_s']:>9}{spiff['cpu_ms_per_case']:>8}"
              "   (state loaded and saved in SQLite at each step)")
        for r in results:
            # CPU time a case, the other way round: the figure that holds on a busy machine.
            print(f"ratio {r['database']} / SpiffWorkflow: "
                  f"{r['cases_per_s'] / spiff['cases_per_s']:.2f} in cases/s, "
                  f"{spiff['cpu_ms_per_case'] / r['cpu_ms_per_case']:.2f} in CPU time a case")
    for r in results:
        print(json.dumps(r, ensure_ascii=False))
        if not r["ok"]:
            print(f"CHECK FAILED on {r['database']}: {r['checks']}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=DEFAULT_CASES, help="cases to time")
    parser.add_argument("--database", default="sqlite",
                        help="postgresql://… URL (default: a fresh SQLite file)")
    parser.add_argument("--both", action="store_true",
                        help="run on the --database PostgreSQL URL, then on SQLite")
    parser.add_argument("--spiff-python", default=SPIFF_PYTHON,
                        help="a Python with SpiffWorkflow (a virtual environment made if missing)")
    parser.add_argument("--no-spiff", action="store_true", help="do not run SpiffWorkflow")
    parser.add_argument("--without-secondary-indexes", action="store_true",
                        help="drop the written tables' non-unique indexes first (an upper bound "
                             "of the fewer-indexes lever; never a deployment)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:  # one database per process: settings are read once
        print(json.dumps(measure(args.database, args.cases,
                                 without_indexes=args.without_secondary_indexes)))
        return
    results = []
    if args.both:
        if not args.database.startswith("postgres"):
            parser.error("--both needs --database postgresql://…")
        out = subprocess.run([sys.executable, __file__, "--child", "--cases", str(args.cases),
                              "--database", args.database,
                              *(["--without-secondary-indexes"]
                                if args.without_secondary_indexes else [])],
                             check=True, capture_output=True, text=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        args.database = "sqlite"
    results.append(measure(args.database, args.cases,
                           without_indexes=args.without_secondary_indexes))
    spiff = None if args.no_spiff else run_spiff(args.spiff_python, args.cases)
    report(results, spiff)
    last = results[-1]
    if not all(r["ok"] for r in results):
        sys.exit(1)
    print(f"cases_per_s={last['cases_per_s']} steps_per_s={last['steps_per_s']}")
    if spiff is not None:
        print(f"spiff_ratio={last['cases_per_s'] / spiff['cases_per_s']:.2f} "
              f"spiff_cpu_ratio={spiff['cpu_ms_per_case'] / last['cpu_ms_per_case']:.2f}")


if __name__ == "__main__":
    main()
