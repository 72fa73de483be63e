"""CPU per request of a case submission, in-process: ``POST /api/v1/cases`` then
``POST /api/v1/cases/{id}/submit`` with a citizen's bearer token, through Django's test client and
the whole middleware stack, ``TONGBAN_DEBUG`` off (production settings).

Run against a data directory with the demo loaded (``tongban migrate && tongban load_demo``);
each run adds cases. Prints the statements of each call and the CPU milliseconds per call
(``time.process_time``, this process only: no server, no client processes), then with
``--profile`` a cProfile of ``--requests`` more of one call (``create`` or ``submit``).

    TONGBAN_DATA_DIR=var/demo python benchmarks/submit_cpu.py --requests 100
    TONGBAN_DATA_DIR=var/demo python benchmarks/submit_cpu.py --profile submit --lines 60
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import time
from typing import Any

os.environ.setdefault("TONGBAN_SECRET_KEY", "benchmark-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

# As benchmarks/http_bench.py submits them.
ITEM = "11620100051317876B3000100113002"  # 企业变更登记, the demo's own form
FORM = {"company_name": "兰州示例餐饮有限公司", "uscc": "91620102MA7123456T",
        "change_item": "住所", "before_change": "兰州市城关区庆阳路100号",
        "after_change": "兰州市城关区张掖路8号", "resolution_date": "2026-11-20",
        "contact_phone": "13893100001"}
CITIZEN = {"kind": "natural_person", "name": "张明", "id_number": "620102199001011233",
           "phone": "13812345678"}


class Submitter:
    def __init__(self) -> None:
        token = Client().post("/api/v1/auth/token", {"username": "citizen",
                                                     "password": "tongban-demo"},
                              content_type="application/json").json()["token"]
        self.client = Client(HTTP_AUTHORIZATION="Bearer " + token)

    def create(self) -> dict[str, Any]:
        response = self.client.post("/api/v1/cases", {"item": ITEM, "channel": "online",
                                                      "applicant": CITIZEN, "form_data": FORM},
                                    content_type="application/json")
        assert response.status_code == 201, response.content
        case: dict[str, Any] = response.json()
        return case

    def submit(self, case: dict[str, Any]) -> None:
        response = self.client.post(f"/api/v1/cases/{case['id']}/submit",
                                    {"expected_version": case["version"]},
                                    content_type="application/json")
        assert response.status_code == 200, response.content


def statements(run: Any) -> int:
    count = [0]

    def counting(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        count[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counting):
        run()
    return count[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100, help="timed submissions")
    parser.add_argument("--profile", choices=("create", "submit"))
    parser.add_argument("--lines", type=int, default=50)
    parser.add_argument("--sort", default="cumulative")
    options = parser.parse_args()
    assert not settings.DEBUG, "run with TONGBAN_DEBUG off"
    s = Submitter()
    for _ in range(5):
        s.submit(s.create())
    made: list[dict[str, Any]] = []
    create_sql = statements(lambda: made.append(s.create()))
    submit_sql = statements(lambda: s.submit(made[0]))
    n = options.requests
    start = time.process_time()
    cases = [s.create() for _ in range(n)]
    middle = time.process_time()
    for case in cases:
        s.submit(case)
    end = time.process_time()
    create_ms, submit_ms = (middle - start) / n * 1000, (end - middle) / n * 1000
    print(f"statements: create {create_sql}, submit {submit_sql}")
    print(f"CPU ms a request: create {create_ms:.1f}, submit {submit_ms:.1f}; "
          f"a submission (both) {create_ms + submit_ms:.1f}")
    if options.profile:
        todo = [s.create() for _ in range(n)] if options.profile == "submit" else []
        profile = cProfile.Profile()
        profile.enable()
        for i in range(n):
            if options.profile == "create":
                s.create()
            else:
                s.submit(todo[i])
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(options.sort).print_stats(options.lines)
        print(out.getvalue())


if __name__ == "__main__":
    main()
