"""Rows written in bulk without model objects, for the workbook import.

``Model.objects.bulk_create`` spends most of a large import in Python: a model instance per row,
then every value of every row through its field's ``pre_save`` and ``get_db_prep_save`` and
into freshly built SQL (SQLite takes at most 999 parameters a statement, so a new INSERT every
few dozen rows). Here the caller gives rows as tuples in a fixed column order; the statement is
built once; values that already have their column's Python type (str, int, bool, None) go to the
driver as they are, the others (JSON, dates) through the field's ``get_db_prep_save`` as Django
would send them. The rows are written with one ``executemany`` of the compiled INSERT on SQLite
and with ``COPY … FROM STDIN`` on PostgreSQL, inside the caller's transaction.

No ``save()``, no signals, no primary keys set on anything: the caller reads back the keys it
needs by a natural key (an item's code, a version's item and number).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from django.db import connections, models
from django.db.models import Field, Model

from tongban.core import prepared


def _plain_type(field: Field[Any, Any]) -> type[Any] | None:
    # The types that need no conversion are core.prepared's (``PLAIN_TYPES``).
    if isinstance(field, models.ForeignKey) and type(field) in (models.ForeignKey,
                                                                models.OneToOneField):
        return int if type(field.target_field) in prepared.INTEGER_KEYS else None
    return prepared.PLAIN_TYPES.get(type(field))


class Rows:
    """``Rows(Material, ["version", "position", "name", …]).insert(rows, using)``: each row a
    sequence of values in that order (a foreign key by its id)."""

    def __init__(self, model: type[Model], names: Sequence[str]) -> None:
        meta = model._meta
        self.model = model
        self.fields: list[Field[Any, Any]] = [meta.get_field(name) for name in names]  # type: ignore[misc]
        self.plain = [_plain_type(f) for f in self.fields]

    def _converters(self, connection: Any) -> list[tuple[int, type[Any] | None, Callable[[Any], Any]]]:
        def converter(field: Field[Any, Any]) -> Callable[[Any], Any]:
            return lambda value: field.get_db_prep_save(value, connection)

        return [(i, plain, converter(f))
                for i, (f, plain) in enumerate(zip(self.fields, self.plain, strict=True))]

    def _prepared(self, rows: Iterable[Sequence[Any]], connection: Any) -> Iterator[list[Any]]:
        converters = self._converters(connection)
        # Only the columns of a type that may need converting are looked at, row by row.
        always = [(i, convert) for i, plain, convert in converters if plain is None]
        checked = [(i, plain, convert) for i, plain, convert in converters if plain is not None]
        last: dict[int, tuple[Any, Any]] = {}  # the same object (one timestamp) converted once
        for row in rows:
            values = list(row)
            for i, convert in always:
                value = values[i]
                seen = last.get(i)
                if seen is not None and seen[0] is value:
                    values[i] = seen[1]
                else:
                    values[i] = convert(value)
                    last[i] = (value, values[i])
            for i, plain, convert in checked:
                value = values[i]
                if value is not None and type(value) is not plain:
                    values[i] = convert(value)
            yield values

    def insert(self, rows: Iterable[Sequence[Any]], *, using: str = "default") -> None:
        connection = connections[using]
        quote = connection.ops.quote_name
        table = quote(self.model._meta.db_table)
        columns = ", ".join(quote(str(f.column)) for f in self.fields)
        prepared = self._prepared(rows, connection)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for values in prepared:
                        copy.write_row(values)
            else:
                placeholders = ", ".join(["%s"] * len(self.fields))
                # A generator: the driver takes the rows one by one (no list of them all).
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",
                                   prepared)  # type: ignore[arg-type]
