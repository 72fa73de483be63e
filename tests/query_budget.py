"""Query-count baselines of the list pages and the API lists (NetBox's ``query_counts.json``).

Each app's ``test_query_counts.py`` takes the ``budget`` fixture, logs in as the role that reads
the lists, builds a small set of what they show (2 rows), requests every page and API list once
to warm the caches and once to count its SQL queries, adds more rows (6 in all) and counts
again. A list fails when

- its count grows with the rows: a query per row (an N+1 — fetch the related rows with
  ``select_related``/``prefetch_related`` or an annotation in the selector), or
- its count is above its baseline in ``tests/query_counts.json``.

After a change that deliberately adds or saves queries, rewrite the baselines with
``pytest -k query_counts --update-query-counts`` (or ``TONGBAN_UPDATE_QUERY_COUNTS=1``), once
on SQLite and once on PostgreSQL, and commit the file:
a count the two databases legitimately disagree on is stored per vendor
(``{"sqlite": 9, "postgresql": 10}``), otherwise as one number.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tongban.accounts.models import User

BASELINES = Path(__file__).resolve().parent / "query_counts.json"
VENDORS = ("sqlite", "postgresql")
SMALL, LARGE = 2, 6



def updating(config: pytest.Config) -> bool:
    return bool(config.getoption("--update-query-counts")
                or os.environ.get("TONGBAN_UPDATE_QUERY_COUNTS") == "1")


def baseline(name: str) -> int | None:
    """The stored count of ``name`` for the database the tests run on."""
    entries = json.loads(BASELINES.read_text(encoding="utf-8")) if BASELINES.exists() else {}
    entry = entries.get(name)
    if isinstance(entry, dict):
        entry = entry.get(connection.vendor)
    return entry


def record(counts: dict[str, int]) -> None:
    """Write ``counts`` into the baselines (under a lock: test workers run in parallel)."""
    vendor = connection.vendor
    with open(BASELINES, "a+", encoding="utf-8") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        file.seek(0)
        text = file.read()
        entries: dict[str, Any] = json.loads(text) if text.strip() else {}
        for name, count in counts.items():
            entry = entries.get(name)
            if isinstance(entry, dict):
                entry = {**entry, vendor: count}
            elif entry is not None and entry != count:
                # Measured before on the other database: the two now disagree.
                entry = {**{v: entry for v in VENDORS if v != vendor}, vendor: count}
            else:
                entry = count
            if isinstance(entry, dict) and set(entry) == set(VENDORS) \
                    and len(set(entry.values())) == 1:
                entry = count
            entries[name] = entry
        file.seek(0)
        file.truncate()
        file.write(json.dumps(dict(sorted(entries.items())), ensure_ascii=False, indent=2) + "\n")


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@dataclass
class Target:
    name: str
    client: Client
    url: str
    params: dict[str, Any] = field(default_factory=dict)


def count_queries(target: Target) -> tuple[int, list[str]]:
    """The queries of one request, after a first request has warmed the caches."""
    target.client.get(target.url, target.params)
    with CaptureQueriesContext(connection) as context:
        response = target.client.get(target.url, target.params)
    assert response.status_code == 200, (target.name, response.status_code, response.content[:300])
    return len(context.captured_queries), [q["sql"] for q in context.captured_queries]


def shapes(sql: list[str]) -> Counter[str]:
    return Counter(re.sub(r"\b\d+\b|'[^']*'|%s", "?", statement) for statement in sql)


def added(small: list[str], large: list[str]) -> str:
    """The queries the larger dataset ran more often than the smaller one."""
    extra = shapes(large) - shapes(small)
    return "; ".join(f"+{times}× {shape[:400]}" for shape, times in extra.most_common(3))


class Budget:
    """The lists one test measures: ``budget.add(name, client, url)``, then
    ``budget.check(grow)`` with ``grow`` adding ``LARGE - SMALL`` rows of each list."""

    def __init__(self, update: bool) -> None:
        self.update = update
        self.targets: list[Target] = []

    def add(self, name: str, client: Client, url: str, **params: Any) -> None:
        assert name not in {t.name for t in self.targets}, name
        self.targets.append(Target(name, client, url, params))

    def check(self, grow: Callable[[], None]) -> None:
        small = {t.name: count_queries(t) for t in self.targets}
        grow()
        large = {t.name: count_queries(t) for t in self.targets}
        problems = []
        for name, (count, sql) in large.items():
            before, before_sql = small[name]
            if count != before:
                problems.append(f"{name}: {before} queries with {SMALL} rows, {count} with {LARGE} "
                                f"(an N+1?): {added(before_sql, sql)}")
        if self.update:
            record({name: count for name, (count, _sql) in large.items()})
        else:
            for name, (count, _sql) in large.items():
                stored = baseline(name)
                if stored is None:
                    problems.append(f"{name}: no baseline in {BASELINES.name} (measured {count}); "
                                    "run with --update-query-counts")
                elif count > stored:
                    problems.append(f"{name}: {count} queries, over its baseline of {stored}")
        assert problems == [], "\n".join(problems)
