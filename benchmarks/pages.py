"""How fast the pages are on a province's database (one filled by ``tongban generate_load``).

Each page is requested in-process with Django's test client, logged in as the role that reads
it: one request to warm the caches, one counted (SQL queries), then ``--requests`` timed ones
(stopping early past ``--max-seconds`` for one page). Prints a markdown table of p50/p95 in
milliseconds and the query count per page. It only GETs each URL and follows nothing, so pages
that change keep being measured.

    TONGBAN_DATA_DIR=var/bench python benchmarks/pages.py            # SQLite in DATA_DIR
    TONGBAN_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/tb_loadgen_bench \\
        TONGBAN_DATA_DIR=var/bench-pg python benchmarks/pages.py

Runs with ``TONGBAN_DEBUG`` off unless set (as production serves pages); the accounts are the
demo ones of ``tongban load_demo`` (citizen, officer, head, supervisor, admin).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
os.environ.setdefault("TONGBAN_DEBUG", "0")
os.environ.setdefault("TONGBAN_SECRET_KEY", "benchmark-only-not-a-secret")


def _pages(now: dt.datetime) -> list[tuple[str, str | None, str]]:
    """(page, username or None for anonymous, URL)."""
    from tongban.accounts.models import User
    from tongban.cases.models import Case

    citizen = User.objects.get(username="citizen")
    officer = User.objects.get(username="officer")
    own = Case.objects.filter(applicant=citizen).exclude(number=None).order_by("-pk").first()
    handled = (Case.objects.filter(department_id=officer.department_id).exclude(number=None)
               .order_by("-pk").first())
    first = now.replace(day=1) - dt.timedelta(days=1)
    return [
        ("citizen's case list", "citizen", "/my/cases/"),
        ("citizen's case detail", "citizen", f"/my/cases/{own.number if own else 0}/"),
        ("officer's inbox", "officer", "/workbench/"),
        ("staff case detail", "officer", f"/workbench/cases/{handled.number if handled else 0}/"),
        ("head's view", "head", "/workbench/head/"),
        ("supervisor's case list", "supervisor", "/supervision/cases/"),
        ("supervision dashboard", "supervisor", "/supervision/"),
        ("metrics", "supervisor", "/supervision/metrics/"),
        ("monthly ratings report", "supervisor", f"/ratings/report/{first:%Y}-{first.month}/"),
        ("audit log", "supervisor", "/supervision/audit/"),
        ("admin: audit log", "admin", "/supervision/audit/"),
        ("search", None, "/search/?q=%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7"),  # 营业执照
        ("power list with figures", None, "/power-list/"),
        ("API case list", "officer", "/api/v1/cases"),
    ]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def _login(client: Any, user: Any) -> None:
    """Logged in as ``user``; for a role that must give a second factor outside debug
    (administrators, supervisors), with a session that has passed it, as after the code page:
    a confirmed TOTP device of the account (made if it has none) is the session's device."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tongban.accounts import twofactor

    client.force_login(user)
    if twofactor.required_for(user):
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or \
            TOTPDevice.objects.create(user=user, name="benchmark", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()


def measure(requests: int, max_seconds: float) -> list[dict[str, Any]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from tongban.accounts.models import User

    rows: list[dict[str, Any]] = []
    for page, username, url in _pages(timezone.now()):
        client = Client(raise_request_exception=False)
        if username:
            _login(client, User.objects.get(username=username))
        client.get(url, secure=True)  # warm: templates, caches, the session
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, secure=True)
        # Read now: the next request's start empties the connection's query log.
        count = len(queries.captured_queries)
        times: list[float] = []
        begun = time.monotonic()
        while len(times) < requests and time.monotonic() - begun < max_seconds:
            start = time.perf_counter()
            client.get(url, secure=True)
            times.append((time.perf_counter() - start) * 1000)
        rows.append({"page": page, "role": username or "anonymous", "url": url,
                     "status": response.status_code, "n": len(times),
                     "p50": statistics.median(times), "p95": _percentile(times, 0.95),
                     "queries": count})
        print(f"  {page}: {rows[-1]['p50']:.0f} ms p50, {rows[-1]['queries']} queries",
              file=sys.stderr, flush=True)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| page | role | URL | status | requests | p50 ms | p95 ms | SQL queries |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r['page']} | {r['role']} | `{r['url']}` | {r['status']} | {r['n']} | "
                     f"{r['p50']:.0f} | {r['p95']:.0f} | {r['queries']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument("--max-seconds", type=float, default=60.0,
                        help="stop timing one page after this long (fewer requests)")
    args = parser.parse_args()

    import django

    django.setup()
    # The application loaded (and settled) as each server worker loads it.
    importlib.import_module("tongban.wsgi")
    from django.db import connection
    from django.test.utils import setup_test_environment

    from tongban.cases.models import Case

    setup_test_environment()  # the test client's host and response capture
    cases = Case.objects.count()
    print(f"{connection.vendor}, {cases:,} cases, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    rows = measure(args.requests, args.max_seconds)
    print(table(rows))


if __name__ == "__main__":
    main()
