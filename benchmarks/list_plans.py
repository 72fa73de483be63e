"""The query plans of the case lists' main queries (``python benchmarks/lists.py explain``).

Requests each page of ``lists.PAGES`` once, keeps the queries that read a page of cases or
steps (``ORDER BY`` … ``LIMIT`` on ``cases_case`` or ``workflows_steptask``) and prints each
with its plan: ``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN`` on PostgreSQL.
"""

from __future__ import annotations

import re

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tongban.accounts.models import User

MAIN = re.compile(r'FROM "(cases_case|workflows_steptask)".*ORDER BY.*LIMIT', re.S)


def explain(sql: str) -> list[str]:
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute(f"EXPLAIN QUERY PLAN {sql}")
            return [f"{'  ' * (row[1] and 1)}{row[3]}" for row in cur.fetchall()]
        cur.execute(f"EXPLAIN {sql}")
        return [row[0] for row in cur.fetchall()]


def explain_all() -> None:
    from lists import PAGES

    clients: dict[str, Client] = {}
    for label, who, url, params in PAGES:
        if who not in clients:
            clients[who] = Client()
            clients[who].force_login(User.objects.get(username=who))
        clients[who].get(url, params)
        with CaptureQueriesContext(connection) as queries:
            clients[who].get(url, params)
        print(f"\n### {label}\n")
        for query in queries.captured_queries:
            sql = query["sql"]
            if not MAIN.search(sql):
                continue
            short = re.sub(r'SELECT .*? FROM', "SELECT … FROM", sql, count=1, flags=re.S)
            print(f"```\n{short}\n--\n" + "\n".join(explain(sql)) + "\n```")
