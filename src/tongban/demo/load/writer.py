"""Bulk row writers for the load generator: COPY on PostgreSQL, ``executemany`` on SQLite.

Rows are tuples in the order of a :class:`Table`'s columns, holding plain Python values (``int``,
``str``, ``bool``, ``None``, aware ``datetime``, ``date``) and JSON already dumped to text. The
primary keys are given by the generator (allocated after the table's current maximum), so that
rows of one table can refer to rows of another written in the same batch without reading ids
back; PostgreSQL's sequences are moved past them at the end (:func:`reset_sequences`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.management.color import no_style
from django.db import DatabaseError, connection, models
from django.db.models import Max


class Table:
    """The columns written of one model, and the constant values of those the generator never
    varies (their model defaults, converted once)."""

    def __init__(self, model: type[models.Model], columns: Sequence[str],
                 constants: dict[str, Any] | None = None) -> None:
        self.model = model
        self.name: str = model._meta.db_table
        fields = {f.attname: f for f in model._meta.concrete_fields}
        unknown = [c for c in columns if c not in fields]
        if unknown:
            raise ValueError(f"{self.name}: no columns {unknown}")
        constants = dict(constants or {})
        # Every other column gets its model default: Django sets no database defaults, so a
        # NOT NULL column left out would fail.
        for attname, field in fields.items():
            if attname in columns or attname in constants:
                continue
            default = field.get_default()
            if isinstance(field, models.JSONField):
                default = "{}" if default in (None, {}) else default
            constants[attname] = default
        self.variable = list(columns)
        self.constant_names = list(constants)
        self.constant_values = tuple(_plain(v) for v in constants.values())
        self.columns: list[str] = [str(fields[c].column) for c in self.variable + self.constant_names]
        # Where SQLite needs text instead of datetime / date objects (as Django stores them).
        self.datetimes = [i for i, c in enumerate(self.variable)
                          if isinstance(fields[c], models.DateTimeField)]
        self.dates = [i for i, c in enumerate(self.variable)
                      if type(fields[c]) is models.DateField]

    def next_id(self) -> int:
        """The first free primary key (the generator is assumed to be the only writer)."""
        found = self.model._default_manager.aggregate(m=Max("pk"))["m"]
        return int(found or 0) + 1


def _plain(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        import json

        return json.dumps(value, ensure_ascii=False)
    return value


class Writer:
    """Buffers rows per table and writes them in bulk (:meth:`flush`, inside the caller's
    transaction)."""

    def __init__(self) -> None:
        self.vendor = connection.vendor
        self.buffers: dict[Table, list[tuple[Any, ...]]] = {}
        self.counts: dict[str, int] = {}

    def add(self, table: Table, row: tuple[Any, ...]) -> None:
        self.buffers.setdefault(table, []).append(row)

    def flush(self, order: Iterable[Table]) -> None:
        """Write every buffered row, table by table in ``order`` (referenced tables first)."""
        for table in order:
            rows = self.buffers.pop(table, None)
            if not rows:
                continue
            if self.vendor == "postgresql":
                _copy(table, rows)
            else:
                _insert(table, rows)
            self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)
        if self.buffers:
            raise RuntimeError(f"rows left unwritten: {[t.name for t in self.buffers]}")


def _copy(table: Table, rows: list[tuple[Any, ...]]) -> None:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in table.columns)
    constants = table.constant_values
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY {quote(table.name)} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row + constants)


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        # As Django stores it: naive UTC text.
        return str(value.astimezone(dt.UTC).replace(tzinfo=None))
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _insert(table: Table, rows: list[tuple[Any, ...]]) -> None:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in table.columns)
    marks = ", ".join("?" for _c in table.columns)
    constants = [_sqlite_value(v) for v in table.constant_values]
    sql = f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({marks})"
    datetimes, dates = table.datetimes, table.dates

    def converted(row: tuple[Any, ...]) -> list[Any]:
        values = list(row)
        for i in datetimes:
            value = values[i]
            if value is not None:  # the generator's datetimes are all in UTC already
                values[i] = str(value.replace(tzinfo=None))
        for i in dates:
            if values[i] is not None:
                values[i] = values[i].isoformat()
        values.extend(constants)
        return values

    raw = connection.connection  # the sqlite3 connection: no "%s" translation per row
    raw.executemany(sql, map(converted, rows))


class BulkSession:
    """For the length of a load: no per-row foreign-key checks (the generator refers only to
    rows it wrote or read; the tests check every reference afterwards) and, on SQLite, no
    fsync per commit."""

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled

    def __enter__(self) -> BulkSession:
        connection.ensure_connection()
        if not self.enabled:
            return self
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # A superuser's setting: without it the checks simply run.
                with contextlib.suppress(DatabaseError):
                    cursor.execute("SET session_replication_role = replica")
            else:
                cursor.execute("PRAGMA foreign_keys = OFF")
                cursor.execute("PRAGMA synchronous = OFF")
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.enabled:
            return
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")
            else:
                cursor.execute("PRAGMA foreign_keys = ON")
                cursor.execute("PRAGMA synchronous = NORMAL")


def reset_sequences(model_list: Sequence[type[models.Model]]) -> None:
    """Move PostgreSQL's id sequences past the ids the generator gave (no-op on SQLite)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
