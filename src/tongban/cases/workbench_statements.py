"""The inbox's statements, compiled once per person and tab instead of built by the ORM on every
request (``core.prepared``).

The unfiltered first page of a tab — what an officer opens all day — is determined by who asks:
its SQL holds the person's id, role and departments and nothing else (no instant, no cursor). So
each such statement is compiled once per (database, person, role, departments, tab) and kept
(at most ``KEPT`` of them per process, the oldest forgotten first): the three tabs' capped counts
in one statement, the item and step filters' choices in another, and the page's rows (a
``prepared.Lookup`` whose one parameter is a constant in the select list, ``ANCHOR``). The
statements are the ORM's own SQL, so they give what the ORM gives; pages with a filter, a
search or a cursor are built by the ORM as before.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet, Value

from tongban.core import prepared
from tongban.core.keyset import Cursor, Page

KEPT = 1024
# The one parameter of a page's prepared lookup: a constant selected beside the columns (an
# attribute of each row, unread), so that the statement's conditions stay the ORM's.
ANCHOR = "prepared_anchor"


class Kept:
    """Values made once per key and kept (at most ``KEPT``; then the oldest is dropped)."""

    def __init__(self) -> None:
        self._values: dict[Hashable, Any] = {}

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        value = self._values.get(key)
        if value is None:
            if len(self._values) >= KEPT:
                # Another thread may change the dict meanwhile: then nothing is dropped.
                with contextlib.suppress(RuntimeError, StopIteration):
                    self._values.pop(next(iter(self._values)), None)
            value = self._values[key] = make()
        return value

    def clear(self) -> None:
        self._values.clear()


def _sql(qs: QuerySet[Any], using: str) -> tuple[str, list[Any]]:
    sql, params = qs.query.get_compiler(using=using).as_sql()
    return sql, list(params)


def _run(statement: tuple[str, str | None, list[Any]], using: str) -> list[tuple[Any, ...]]:
    sql, qmark, params = statement
    with connections[using].cursor() as cursor:
        prepared.execute(cursor, sql, qmark, params)
        return list(cursor.fetchall())


_counts = Kept()
_choices = Kept()
_pages = Kept()


def capped_counts(key: Hashable, build: Callable[[], list[QuerySet[Any]]], cap: int, *,
                  using: str = DEFAULT_DB_ALIAS) -> list[int]:
    """How many rows each queryset of ``build()`` has, counted up to ``cap + 1`` (as
    ``core.keyset.capped_count``), in one statement."""
    def make() -> tuple[str, str | None, list[Any]]:
        parts, params = [], []
        for i, qs in enumerate(build()):
            sql, found = _sql(qs.order_by().values("pk")[:cap + 1], using)
            parts.append(f"(SELECT COUNT(*) FROM ({sql}) counted_{i})")
            params.extend(found)
        sql = f"SELECT {', '.join(parts)}"
        return sql, prepared.qmark_of(connections[using], sql), params

    statement = _counts.get((using, key), make)
    return [int(n) for n in _run(statement, using)[0]]


def distinct_pairs(key: Hashable, build: Callable[[], list[QuerySet[Any]]], parts: int, *,
                   using: str = DEFAULT_DB_ALIAS) -> list[list[tuple[Any, Any]]]:
    """The rows of each of the ``parts`` ``values_list`` querysets of ``build()`` (two columns
    each, sliced), in one statement."""
    def make() -> tuple[str, str | None, list[Any]]:
        parts, params = [], []
        for i, qs in enumerate(build()):
            sql, found = _sql(qs, using)
            parts.append(f"SELECT {i}, * FROM ({sql}) listed_{i}")
            params.extend(found)
        sql = " UNION ALL ".join(parts)
        return sql, prepared.qmark_of(connections[using], sql), params

    statement = _choices.get((using, key), make)
    found: dict[int, list[tuple[Any, Any]]] = {}
    for which, first, second in _run(statement, using):
        found.setdefault(which, []).append((first, second))
    return [found.get(i, []) for i in range(parts)]


def rows(key: Hashable, build: Callable[[], QuerySet[Any]], limit: int, *,
         using: str = DEFAULT_DB_ALIAS) -> list[Any]:
    """The first ``limit`` model instances of ``build()`` (with its ``select_related`` and
    deferred fields), from a statement compiled once for ``key``."""
    lookup = _pages.get((using, key), lambda: prepared.Lookup(
        lambda anchor: build().annotate(**{ANCHOR: Value(anchor)})[:limit]))
    return lookup.all(0, using=using)



def first_page(key: tuple[Any, ...], build: Callable[[], QuerySet[Any]], size: int, *,
               using: str = DEFAULT_DB_ALIAS) -> Page[Any]:
    """The first page of ``build()`` by due instant as ``core.keyset.keyset_page`` reads it
    (``key="due_at"``, nullable): the rows with a due instant, soonest first, then — when they
    are fewer than a page — those without, by id; each part a statement compiled once."""
    found = rows((*key, "dated"), lambda: build().filter(due_at__isnull=False)
                 .order_by("due_at", "pk"), size + 1, using=using)
    if len(found) <= size:
        found += rows((*key, "undated"), lambda: build().filter(due_at__isnull=True)
                      .order_by("pk"), size + 1, using=using)[:size + 1 - len(found)]
    shown = found[:size]
    following = (Cursor(forward=True, value=shown[-1].due_at, pk=shown[-1].pk).encode()
                 if len(found) > size else None)
    return Page(rows=shown, next=following, previous=None)
