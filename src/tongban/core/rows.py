"""Rows written from values: a table's INSERT compiled once and run with a tuple, for rows a hot
path writes and never reads back as objects (``core.prepared`` for the statements' execution)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model

from .prepared import _listened, _plain_type, qmark_of, run


class Insert:
    """``Insert(CaseEvent, ("case", "seq", …))``, then ``statement.run((case_id, 3, …))``: one
    row of a table written from a tuple of values in the columns' order — no model instance,
    no ``pre_save`` — and its new key returned (with the ``computed`` columns, as
    :func:`insert` computes them, after it: ``(pk, *computed)``). For rows a hot path writes and
    never reads back as objects (a case's history event, its audit record). ``columns`` must
    name every column of the table but the auto key and the computed ones (checked once per
    database, so that a new column fails loudly instead of being left out). Values are Python
    values as the model's attributes would hold them (an id for a foreign key, an aware
    datetime, a dict for JSON), converted as ``save()`` converts them; no ``pre_save``, so no
    ``auto_now`` column; no ``pre_save``/``post_save`` signal is sent (a model with receivers
    is refused)."""

    def __init__(self, model: type[Model], columns: Sequence[str], *,
                 computed: Callable[[Any], tuple[tuple[str, str], ...]] | None = None) -> None:
        self.model, self.columns, self._computed = model, tuple(columns), computed
        self._compiled: dict[str, tuple[str, str | None, list[Any], int]] = {}

    def run(self, values: Sequence[Any], *, using: str = DEFAULT_DB_ALIAS) -> Any:
        connection = connections[using]
        compiled = self._compiled.get(using)
        if compiled is None:
            compiled = self._compiled[using] = self._compile(connection)
        sql, qmark, typed, width = compiled
        adapt = connection.ops.adapt_datetimefield_value
        params = []
        for value, (f, plain) in zip(values, typed, strict=True):
            if plain is not None:
                if value is None or (type(value) is plain and plain is not dt.datetime):
                    params.append(value)
                    continue
                if type(value) is dt.datetime and value.tzinfo is not None:
                    params.append(adapt(value))
                    continue
            params.append(f.get_db_prep_save(value, connection))
        cursor = run(connection, sql, qmark, params)
        if width:
            row = cursor.fetchone()
            return row[0] if width == 1 else tuple(row)
        meta = self.model._meta
        return connection.ops.last_insert_id(cursor, meta.db_table, str(meta.pk.column))

    def _compile(self, connection: Any) -> tuple[str, str | None, list[Any], int]:
        meta = self.model._meta
        if meta.auto_field is None:
            raise ValueError(f"{meta.label}: a key the database assigns is read back; use insert()")
        if _listened(self.model):
            raise ValueError(f"{meta.label} has pre_save/post_save receivers: use insert()")
        computed = self._computed(connection) if self._computed else ()
        named = {**{name: "%s" for name in self.columns}, **dict(computed)}
        fields = [f for f in meta.local_concrete_fields
                  if f is not meta.auto_field and not getattr(f, "generated", False)]
        if set(named) != {f.name for f in fields} or len(named) != len(self.columns) + len(computed):
            raise ValueError(f"{meta.label}: the columns must be every column but the key "
                             f"and the computed ones: {sorted(f.name for f in fields)}")
        by_name = {f.name: f for f in fields}
        for name in self.columns:
            if getattr(by_name[name], "auto_now", False) or getattr(by_name[name], "auto_now_add", False):
                raise ValueError(f"{meta.label}.{name}: auto_now columns need insert()")
        ordered = [*self.columns, *(name for name, _sql in computed)]
        quote = connection.ops.quote_name
        table = quote(meta.db_table)
        sql = (f"INSERT INTO {table} ({', '.join(quote(str(by_name[n].column)) for n in ordered)}) "
               f"VALUES ({', '.join(named[n] for n in ordered)})")
        width = 0
        if connection.features.can_return_columns_from_insert:
            read_back = [meta.pk, *(by_name[name] for name, _sql in computed)]
            sql += f" RETURNING {', '.join(f'{table}.{quote(str(f.column))}' for f in read_back)}"
            width = len(read_back)
        elif computed:
            raise ValueError("computed columns are read back with RETURNING")
        typed = [(by_name[n], _plain_type(by_name[n])) for n in self.columns]
        return sql, qmark_of(connection, sql), typed, width
