"""Keyset pagination (seek method) for long lists, over one or several querysets.

A page is found from the position of the last (or first) row of the page before — its sort key
and its id — never by OFFSET, so page 5,000 costs what page 1 costs and a row inserted
meanwhile shifts nothing. Each branch of a list (a query per ``OR`` that a planner would not
serve from one index: "I am the applicant" and "I am the agent") is read in index order up to
one page and the branches are merged here.

The position travels in the URL as a short opaque token (:class:`Cursor`): ``a`` (rows after
it) or ``b`` (rows before it), the key in microseconds since the epoch (``n`` for none), and
the id. Rows whose key is NULL come after all others, ordered by id.

The ``key <= v`` beside the ``key < v OR (key = v AND id < pk)`` of each page is redundant on
purpose: it gives SQLite and PostgreSQL a range to start the index scan from.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db.models import Model, Q, QuerySet

M = TypeVar("M", bound=Model)

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MICROSECOND = dt.timedelta(microseconds=1)
_TOKEN = re.compile(r"^([ab])(n|-?\d{1,18})\.(\d{1,19})$")


@dataclass(frozen=True)
class Cursor:
    """A position in a list: after (``forward``) or before the row with this key and id."""

    forward: bool
    value: dt.datetime | None
    pk: int

    def encode(self) -> str:
        key = "n" if self.value is None else str((self.value - EPOCH) // MICROSECOND)
        return f"{'a' if self.forward else 'b'}{key}.{self.pk}"

    @staticmethod
    def decode(token: str) -> Cursor:
        """The cursor of ``token``; ``ValueError`` when it is not one."""
        match = _TOKEN.match(token or "")
        if match is None:
            raise ValueError(token)
        direction, key, pk = match.groups()
        value = None if key == "n" else EPOCH + int(key) * MICROSECOND
        return Cursor(forward=direction == "a", value=value, pk=int(pk))


def cursor_or_none(token: str | None) -> Cursor | None:
    """For pages: a missing or mangled token is the first page."""
    try:
        return Cursor.decode(token or "")
    except (ValueError, OverflowError):
        return None


@dataclass
class Page(Generic[M]):
    rows: list[M]
    next: str | None  # token of the following page, None on the last
    previous: str | None  # token of the page before, None on the first

    @property
    def has_other_pages(self) -> bool:
        return self.next is not None or self.previous is not None


def _seek(qs: QuerySet[M], key: str, descending: bool, value: dt.datetime, pk: int) -> QuerySet[M]:
    if descending:
        return qs.filter(Q(**{f"{key}__lte": value}),
                         Q(**{f"{key}__lt": value}) | Q(**{key: value, "pk__lt": pk}))
    return qs.filter(Q(**{f"{key}__gte": value}),
                     Q(**{f"{key}__gt": value}) | Q(**{key: value, "pk__gt": pk}))


def _branch(qs: QuerySet[M], *, key: str, descending: bool, nullable: bool,
            cursor: Cursor | None, limit: int) -> list[M]:
    """Up to ``limit`` rows of one branch beyond ``cursor``, in scan order (the display order,
    or its reverse when going back)."""
    forward = cursor is None or cursor.forward
    desc = descending if forward else not descending
    order = (f"-{key}", "-pk") if desc else (key, "pk")
    id_order = "-pk" if desc else "pk"
    # Display order: rows with a key, then (nullable keys) rows without, by id.
    segments = ["value", "null"] if nullable else ["value"]
    if not forward:
        segments.reverse()
    if cursor is not None:
        wanted = "null" if cursor.value is None else "value"
        if wanted not in segments:
            return []  # a crafted cursor (no key on a list whose key is never empty): no rows
        segments = segments[segments.index(wanted):]
    rows: list[M] = []
    for segment in segments:
        part = qs
        if segment == "value":
            if nullable:
                part = part.filter(**{f"{key}__isnull": False})
            if cursor is not None and cursor.value is not None:
                part = _seek(part, key, desc, cursor.value, cursor.pk)
            part = part.order_by(*order)
        else:
            part = part.filter(**{f"{key}__isnull": True})
            if cursor is not None and cursor.value is None:
                part = part.filter(**{"pk__lt" if desc else "pk__gt": cursor.pk})
            part = part.order_by(id_order)
        rows.extend(part[:limit - len(rows)])
        if len(rows) >= limit:
            break
    return rows


def display_sorted(rows: list[M], *, key: str, descending: bool) -> list[M]:
    """``rows`` in the list's order: by key (then id) in its direction, rows without a key
    last."""
    ordered = sorted(rows, key=lambda r: (getattr(r, key) or EPOCH, r.pk), reverse=descending)
    return sorted(ordered, key=lambda r: getattr(r, key) is None)  # stable: keeps the above


def keyset_page(branches: Sequence[QuerySet[M]], *, key: str, descending: bool, size: int,
                cursor: Cursor | None = None, nullable: bool = False) -> Page[M]:
    """One page of the union of ``branches`` ordered by ``key`` and id (``descending`` or
    not), beyond ``cursor`` (the first page without one). Each branch costs one query (two
    when a nullable key's page spans both parts); rows found in several branches appear
    once."""
    forward = cursor is None or cursor.forward
    found: dict[int, M] = {}
    for qs in branches:
        for row in _branch(qs, key=key, descending=descending, nullable=nullable, cursor=cursor,
                           limit=size + 1):
            found.setdefault(row.pk, row)
    ordered = display_sorted(list(found.values()), key=key, descending=descending)
    more = len(ordered) > size
    rows = ordered[:size] if forward else ordered[-size:]

    def token(row: Any, ahead: bool) -> str:
        return Cursor(forward=ahead, value=getattr(row, key), pk=row.pk).encode()

    if not rows:
        return Page(rows=[], next=None, previous=None)
    if forward:
        return Page(rows=rows, next=token(rows[-1], True) if more else None,
                    previous=token(rows[0], False) if cursor is not None else None)
    return Page(rows=rows, next=token(rows[-1], True),
                previous=token(rows[0], False) if more else None)


def capped_count(qs: QuerySet[Any], cap: int) -> tuple[int, bool]:
    """How many rows ``qs`` has, counted up to ``cap`` (an index walk of at most ``cap``
    entries, not of the whole list): the count and whether it is exact."""
    n = qs.order_by()[:cap + 1].count()
    return (n, True) if n <= cap else (cap, False)
