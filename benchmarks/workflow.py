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
item and people under fresh names, so the same database can be reused (nothing is dropped).
The last line printed is ``cases_per_s=<number> steps_per_s=<number>`` for SQLite
(``steps_per_s`` counts the five approval steps; the draft's creation is timed too).
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


def scene() -> dict[str, Any]:
    from tongban.accounts.models import Role, User
    from tongban.accounts.permissions import SYSTEM
    from tongban.cases.workflows.services import workflow_save
    from tongban.catalog import services as catalog
    from tongban.catalog.models import Item
    from tongban.catalog.rules import ItemData, MaterialData
    from tongban.organizations.models import Department, Division
    from tongban.organizations.services import DepartmentFields, department_save

    tag = secrets.token_hex(3)  # fresh names, so that a used PostgreSQL database works too
    serial = int(tag, 16) % 10_000_000
    while Department.objects.filter(uscc=make_uscc(serial)).exists():
        serial = (serial + 1) % 10_000_000
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
        "citizen": person("张三", Role.CITIZEN, id_number="620102199003077770",
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
                                         id_number="620102199003077770", phone="13893100001"),
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


def measure(database: str, cases: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="tongban-workflow-bench-"))
    if database == "sqlite":
        database = f"sqlite:///{work / 'bench.sqlite3'}"
    configure(database, work)
    from django_tasks_db.models import DBTaskResult

    from tongban.audit.models import AuditRecord
    from tongban.cases.models import Case, CaseEvent, Status

    people = scene()
    times = dict.fromkeys(STEPS, 0.0)
    for n in range(WARMUP_CASES):
        run_case(n, people, times)
    times = dict.fromkeys(STEPS, 0.0)
    first_audit = (AuditRecord.objects.order_by("-seq").values_list("seq", flat=True).first() or 0)
    queued_before = DBTaskResult.objects.count()
    started = time.perf_counter()
    outcomes = [run_case(n, people, times) for n in range(cases)]
    elapsed = time.perf_counter() - started

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
    expected_denied = outcomes.count("deny") + sum(n % 5 == 4 for n in range(WARMUP_CASES))
    ok = (checks["delivered"] == cases + WARMUP_CASES and checks["denied"] == expected_denied
          and checks["audit_chain_ok"] and checks["events"] == 6 * (cases + WARMUP_CASES)
          and checks["queued_tasks"] >= APPROVAL_STEPS * cases)
    return {
        "database": database.split(":", 1)[0],
        "cases": cases, "seconds": round(elapsed, 2),
        "cases_per_s": round(cases / elapsed, 1),
        "steps_per_s": round(cases * APPROVAL_STEPS / elapsed, 1),
        "ms_per_call": {name: round(1000 * t / cases, 3) for name, t in times.items()},
        "checks": checks, "ok": ok,
    }


def audit_chain_ok(after_seq: int) -> bool:
    """Recompute the SHA-256 chain over the records written by this run."""
    from tongban.audit.models import AuditRecord
    from tongban.audit.services import record_digest

    previous = AuditRecord.objects.filter(seq=after_seq).values_list("hash", flat=True).first()
    for r in AuditRecord.objects.filter(seq__gt=after_seq).order_by("seq").iterator(2000):
        if previous is not None and r.prev_hash != previous:
            return False
        digest = record_digest(seq=r.seq, at=r.at.isoformat(), actor_id=r.actor_id,
                               action=r.action, object_type=r.object_type,
                               object_id=r.object_id, detail=r.detail, prev_hash=r.prev_hash)
        if digest != r.hash:
            return False
        previous = r.hash
    return True


def report(results: list[dict[str, Any]]) -> None:
    print(f"{'database':<12}{'cases':>7}{'seconds':>9}{'cases/s':>9}{'steps/s':>9}   "
          + "  ".join(f"{s:>7}" for s in STEPS) + "   (ms per call)")
    for r in results:
        calls = "  ".join(f"{r['ms_per_call'][s]:>7.2f}" for s in STEPS)
        print(f"{r['database']:<12}{r['cases']:>7}{r['seconds']:>9}{r['cases_per_s']:>9}"
              f"{r['steps_per_s']:>9}   {calls}")
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
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:  # one database per process: settings are read once
        print(json.dumps(measure(args.database, args.cases)))
        return
    results = []
    if args.both:
        if not args.database.startswith("postgres"):
            parser.error("--both needs --database postgresql://…")
        out = subprocess.run([sys.executable, __file__, "--child", "--cases", str(args.cases),
                              "--database", args.database],
                             check=True, capture_output=True, text=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        args.database = "sqlite"
    results.append(measure(args.database, args.cases))
    report(results)
    last = results[-1]
    if not all(r["ok"] for r in results):
        sys.exit(1)
    print(f"cases_per_s={last['cases_per_s']} steps_per_s={last['steps_per_s']}")


if __name__ == "__main__":
    main()
