"""Statements compiled once and run many times, for the hot path of case transitions.

Django builds the SQL of every query anew on each call. A case transition runs a dozen small
statements (lock the case, append its history and audit records, open and close step tasks), and
for those the compilation costs several times the database work. The few statements here are
compiled once per model (and per database connection alias) and then executed with fresh
parameters; they give exactly what the ORM gives:

- :class:`Lookup` — a QuerySet filtered on one integer (a primary key, a case id) or one text,
  with its ``select_related``, annotations, ordering and ``select_for_update``; returns model
  instances with related objects and annotations, through the same field converters as the ORM.
- :func:`insert` and :func:`update` — one row written through the fields' own ``pre_save`` and
  ``get_db_prep_save`` (so defaults, ``auto_now_add``, JSON and time zones behave as in
  ``save()``).
- ``core.rows.Insert`` (beside this module) — one table's row written from a tuple of values,
  no model instance built (a case's history event, its audit record, a notice).
- :class:`Immutable` and :class:`ImmutableRows` — rows that never change once written (a
  published item version and its materials, a saved workflow version), read once per process
  and kept.
- :class:`ConvertedOnRead` — the attribute of a field whose conversion is costly (decryption):
  a :class:`Lookup`'s instances convert such a column when it is first read, if ever.
- :func:`run` and :func:`execute` — every statement here goes through them: on SQLite with its
  placeholders converted once (``qmark_of``), not by Django's regular expression at every
  execution, and (``run``, no execute wrapper or query log) on one driver cursor kept per
  connection.

The model's ``save()`` method and the ``pre_save``/``post_save`` signals are not run: use these only
for models whose ``save()`` adds nothing on the path taken (when a receiver of those signals is
connected, :func:`insert` and :func:`update` fall back to ``save()``).
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import sqlite3
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, ClassVar, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, models
from django.db.models import Field, Model, QuerySet, signals
from django.db.models.base import ModelState
from django.db.models.query import get_related_populators
from django.db.models.query_utils import DeferredAttribute
from django.db.transaction import TransactionManagementError

M = TypeVar("M", bound=Model)


class _Unconverted:
    """A column's value as the database sent it, with the converters it has not yet been
    through (:class:`ConvertedOnRead`)."""

    __slots__ = ("connection", "expression", "functions", "raw")

    def __init__(self, raw: Any, functions: list[Any], expression: Any, connection: Any) -> None:
        self.raw, self.functions, self.expression, self.connection = (
            raw, functions, expression, connection)

    def convert(self) -> Any:
        value = self.raw
        for function in self.functions:
            value = function(value, self.expression, self.connection)
        return value

    # An instance pickled or deep-copied carries the converted value.
    def __reduce__(self) -> tuple[Any, ...]:
        return (_same, (self.convert(),))

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return copy.deepcopy(self.convert(), memo)


def _same(value: Any) -> Any:
    return value


class ConvertedOnRead(DeferredAttribute):
    """The attribute of a field whose conversion from the database value is costly (decrypting
    personal data): an instance that a :class:`Lookup` reads holds the column as it came, and
    converts it when the attribute is first read. A transition locks the case row and changes
    its status, never reading the applicant's encrypted fields: they stay unconverted. Other
    reads (the ORM's) convert at once, as before. A field opts in with
    ``descriptor_class = ConvertedOnRead``."""

    def __get__(self, instance: Any, cls: Any = None) -> Any:
        if instance is None:
            return self
        data = instance.__dict__
        attname = self.field.attname
        if attname not in data:
            return super().__get__(instance, cls)  # deferred: loaded as Django does
        value = data[attname]
        if type(value) is _Unconverted:
            value = data[attname] = value.convert()
        return value

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.field.attname] = value

# Stands for the parameter while a Lookup is compiled; no row has this primary key.
_SENTINEL = -7_919_031_543
# Stands for a text parameter while a Lookup or Values statement is compiled; no row holds it.
_TEXT_SENTINEL = "\x00tongban-prepared-parameter\x00"


class Lookup(Generic[M]):
    """``Lookup(lambda pk: Case.objects.select_related("workflow").filter(pk=pk))``, then
    ``lookup.get(pk)``: the one row, or the model's ``DoesNotExist``. ``text=True``: the one
    parameter is a text (``Lookup(lambda digest: Token.objects.filter(digest=digest), text=True)``)."""

    def __init__(self, build: Callable[[Any], QuerySet[M]], *, text: bool = False) -> None:
        self._build = build
        self._compiled: dict[str, _CompiledLookup] = {}
        self._key: Callable[[Any], Any] = str if text else int
        self._sentinel: Any = _TEXT_SENTINEL if text else _SENTINEL

    def get(self, value: Any, *, using: str = DEFAULT_DB_ALIAS) -> M:
        compiled = self._compile(using)
        rows, model = compiled.rows(self._key(value), limit=2), compiled.model
        if not rows:
            raise model.DoesNotExist(f"{model._meta.object_name} matching query does not exist.")
        if len(rows) > 1:
            raise model.MultipleObjectsReturned(f"more than one {model._meta.object_name}")
        return rows[0]

    def all(self, value: Any, *, using: str = DEFAULT_DB_ALIAS) -> list[M]:
        """Every row, in the QuerySet's order."""
        return self._compile(using).rows(self._key(value))

    def _compile(self, using: str) -> _CompiledLookup:
        compiled = self._compiled.get(using)
        if compiled is None:
            compiled = self._compiled[using] = _CompiledLookup(self._build(self._sentinel), using,
                                                               self._sentinel)
        return compiled


class _CompiledLookup:
    def __init__(self, queryset: QuerySet[Any], using: str, sentinel: Any = _SENTINEL) -> None:
        connection = connections[using]
        self.model = queryset.model
        self.using = using
        self.for_update = queryset.query.select_for_update
        compiler = queryset.query.get_compiler(using=using)
        if self.for_update and not connection.in_atomic_block:
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        sql, params = compiler.as_sql()
        positions = [i for i, p in enumerate(params) if p == sentinel]
        if len(positions) != 1:
            raise ValueError("a prepared lookup takes exactly one parameter")
        self.sql, self.params, self.position = sql, list(params), positions[0]
        # Annotations become attributes of each instance, as the ORM sets them.
        self.annotations = list(compiler.annotation_col_map.items())
        self.qmark = qmark_of(connection, sql)
        select, klass_info = compiler.select, compiler.klass_info
        assert klass_info is not None
        self.start, self.end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        self.init_list = [f[0].target.attname for f in select[self.start:self.end]]
        # As the SQL compiler collects them: the backend's converters, then the field's own.
        converters = [(i, [*connection.ops.get_db_converters(expr), *expr.get_db_converters(connection)],
                       expr) for i, (expr, _sql, _alias) in enumerate(select)]
        self.converters = [c for c in converters if c[1] and not _on_read(c[2])]
        # Converted when the attribute is first read (``ConvertedOnRead``), if ever.
        self.on_read = [c for c in converters if c[1] and _on_read(c[2])]
        # django-stubs describes the next Django (a fourth ``fetch_mode`` argument); Django 5.2
        # takes three.
        self.related = get_related_populators(klass_info, select, using)  # type: ignore[call-arg]
        # What ``Model.from_db`` and ``Model.__init__`` do for a row, when neither is overridden
        # and no ``pre_init``/``post_init`` receiver listens: a fresh instance, its state, and
        # each column's value as its attribute (a foreign key's descriptor only clears a cached
        # related object, which a fresh instance has not). A quarter of a transition's model
        # work was ``__init__`` setting some forty attributes one by one through descriptors.
        self.plain_init = (getattr(self.model.from_db, "__func__", None)
                           is getattr(Model.from_db, "__func__", Model.from_db)
                           and self.model.__init__ is Model.__init__
                           and type(self.model).__call__ is type(Model).__call__
                           and all(_plain_set(self.model, name) for name in self.init_list))

    def rows(self, value: Any, limit: int | None = None) -> list[Any]:
        connection = connections[self.using]
        if self.for_update and not connection.in_atomic_block:
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        params = list(self.params)
        params[self.position] = value
        cursor = run(connection, self.sql, self.qmark, params)
        fetched = cursor.fetchmany(limit) if limit else cursor.fetchall()
        objects = []
        model, using, names, start, end = (self.model, self.using, self.init_list, self.start,
                                           self.end)
        fast = self.plain_init and not (signals.pre_init.has_listeners(model)
                                        or signals.post_init.has_listeners(model))
        new = object.__new__
        for fetched_row in fetched:
            row = list(fetched_row)
            for i, functions, expr in self.converters:
                for convert in functions:
                    row[i] = convert(row[i], expr, connection)
            for i, functions, expr in self.on_read:
                if row[i] is not None:
                    row[i] = _Unconverted(row[i], functions, expr, connection)
            if fast:
                obj = new(model)
                obj._state = state = ModelState()
                state.adding, state.db = False, using
                obj.__dict__.update(zip(names, row[start:end], strict=True))
            else:
                obj = model.from_db(using, names, row[start:end])
            for name, position in self.annotations:
                setattr(obj, name, row[position])
            for populator in self.related:
                populator.populate(row, obj)
            objects.append(obj)
        return objects


def _plain_set(model: type[Model], attname: str) -> bool:
    """Setting the attribute on a fresh instance only stores the value in its ``__dict__``."""
    from django.db.models.fields.files import FileDescriptor
    from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute

    for klass in model.__mro__:
        if attname in klass.__dict__:
            setter = getattr(type(klass.__dict__[attname]), "__set__", None)
            return setter is None or setter in (ForeignKeyDeferredAttribute.__set__,
                                                ConvertedOnRead.__set__, FileDescriptor.__set__)
    return True


def _on_read(expression: Any) -> bool:
    field = getattr(expression, "target", None)
    return isinstance(field, Field) and issubclass(field.descriptor_class, ConvertedOnRead)


class Immutable(Generic[M]):
    """``Immutable(lambda pk: ItemVersion.objects.filter(pk=pk))``, then ``rows.get(pk)``: the
    row, read once per process and then kept (at most ``limit`` rows; then read afresh).

    Only for rows whose columns that callers read never change after they are written. A
    ``save()`` or ``delete()`` of such a row in this process drops this process's copy (an edit
    in the same process; tests, whose databases reuse primary keys after a rollback); other
    processes rely on the rows being immutable. The instances are shared: callers must not
    change them.
    """

    # Every kept set of rows of the process (``clear_all``).
    every: ClassVar[list[Immutable[Any] | ImmutableRows[Any]]] = []

    def __init__(self, build: Callable[[int], QuerySet[M]], *, limit: int = 2000) -> None:
        self._lookup = Lookup(build)
        self._rows: dict[tuple[str, int], M] = {}
        self._limit = limit
        self._model: type[Model] | None = None
        Immutable.every.append(self)

    def get(self, pk: int, *, using: str = DEFAULT_DB_ALIAS) -> M:
        key = (using, pk)
        row = self._rows.get(key)
        if row is None:
            row = self._lookup.get(pk, using=using)
            if self._model is None:
                self._model = type(row)
                signals.post_save.connect(self._forget, sender=self._model, weak=False)
                signals.post_delete.connect(self._forget, sender=self._model, weak=False)
            if len(self._rows) >= self._limit:
                self._rows.clear()
            self._rows[key] = row
        return row

    def _forget(self, sender: Any, instance: Model, **kwargs: Any) -> None:
        self._rows.pop((kwargs.get("using") or DEFAULT_DB_ALIAS, instance.pk), None)

    def clear(self) -> None:
        self._rows.clear()

    @classmethod
    def clear_all(cls) -> None:
        """Forget every kept row (tests: the next test's rows may reuse primary keys)."""
        for cache in cls.every:
            cache.clear()


class ImmutableRows(Generic[M]):
    """``ImmutableRows(lambda pk: Material.objects.filter(version_id=pk), parent="version_id")``,
    then ``rows.all(pk)``: the rows belonging to an immutable parent (the materials of a
    published item version), read once per process and kept, like :class:`Immutable`; a
    ``save()`` or ``delete()`` of one of them in this process drops its parent's copy."""

    def __init__(self, build: Callable[[int], QuerySet[M]], *, parent: str,
                 limit: int = 2000) -> None:
        self._lookup = Lookup(build)
        self._parent = parent
        self._rows: dict[tuple[str, int], list[M]] = {}
        self._limit = limit
        self._connected = False
        Immutable.every.append(self)  # forgotten with them (``Immutable.clear_all``)

    def all(self, value: int, *, using: str = DEFAULT_DB_ALIAS) -> list[M]:
        key = (using, value)
        rows = self._rows.get(key)
        if rows is None:
            if not self._connected:
                model = self._lookup._compile(using).model
                signals.post_save.connect(self._forget, sender=model, weak=False)
                signals.post_delete.connect(self._forget, sender=model, weak=False)
                self._connected = True
            rows = self._lookup.all(value, using=using)
            if len(self._rows) >= self._limit:
                self._rows.clear()
            self._rows[key] = rows
        return rows

    def _forget(self, sender: Any, instance: Model, **kwargs: Any) -> None:
        self._rows.pop((kwargs.get("using") or DEFAULT_DB_ALIAS, getattr(instance, self._parent)),
                       None)

    def clear(self) -> None:
        self._rows.clear()


def _listened(model: type[Model]) -> bool:
    return signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model)


# Columns whose value needs no conversion when it already has the column's Python type (str for
# text, int for integers and integer keys, bool): their ``pre_save`` only reads the attribute
# and their ``get_db_prep_save`` returns such a value unchanged. Exact field classes only: a
# subclass (an encrypted text field, say) may convert.
PLAIN_TYPES: dict[type[Any], type[Any]] = {
    models.CharField: str, models.TextField: str, models.BooleanField: bool,
    models.IntegerField: int, models.BigIntegerField: int, models.SmallIntegerField: int,
    models.PositiveIntegerField: int, models.PositiveBigIntegerField: int,
    models.PositiveSmallIntegerField: int}
INTEGER_KEYS = (models.AutoField, models.BigAutoField, models.SmallAutoField)


def _plain_type(field: Field[Any, Any]) -> type[Any] | None:
    if type(field) is models.ForeignKey:
        return int if type(field.target_field) in INTEGER_KEYS else None
    if type(field) is models.DateTimeField and not (field.auto_now or field.auto_now_add):
        # An aware datetime goes straight to the backend's adapter, as get_db_prep_save sends
        # it after its checks (which only concern naive values and strings).
        return dt.datetime
    return PLAIN_TYPES.get(type(field))


def _params(obj: Model, columns: Sequence[tuple[Field[Any, Any], type[Any] | None]], add: bool,
            connection: Any) -> list[Any]:
    """The row's values as ``save()`` sends them: through each field's ``pre_save`` and
    ``get_db_prep_save``, except values that need no conversion (``PLAIN_TYPES``)."""
    params = []
    for f, plain in columns:
        if plain is not None:
            value = getattr(obj, f.attname)
            if value is None or (type(value) is plain and plain is not dt.datetime):
                params.append(value)
                continue
            if type(value) is dt.datetime and value.tzinfo is not None:
                params.append(connection.ops.adapt_datetimefield_value(value))
                continue
        params.append(f.get_db_prep_save(f.pre_save(obj, add), connection))
    return params


_inserts: dict[tuple[type[Model], str, tuple[tuple[str, str], ...]],
               tuple[str, str | None, list[Any], bool]] = {}


def insert(obj: Model, *, using: str = DEFAULT_DB_ALIAS, signals_done: bool = False,
           computed: tuple[tuple[str, str], ...] = ()) -> None:
    """INSERT ``obj`` as a new row and set its primary key, as ``obj.save()`` would.

    ``signals_done``: the caller has already done what the model's ``pre_save``/``post_save``
    receivers would (a third-party model whose receiver only fills a default, say).
    ``computed``: ``(field name, SQL expression)`` pairs: the database computes those columns
    in the INSERT itself (the next number of a sequence, say) and they are read back into
    ``obj`` with its key (``RETURNING``; a ``ValueError`` on a database without it).
    """
    model = type(obj)
    meta = model._meta
    # A model whose key the database assigns (auto field) is inserted without it and reads it
    # back; one whose key Python assigns (a UUID default) is inserted with it.
    preset = meta.auto_field is None
    if (_listened(model) and not signals_done) or (not preset and obj.pk is not None):
        if computed:
            raise ValueError("computed columns need a prepared INSERT")
        obj.save(using=using, force_insert=True)
        return
    connection = connections[using]
    prepared = _inserts.get((model, using, computed))
    if prepared is None:
        prepared = _inserts[(model, using, computed)] = _insert_statement(model, connection,
                                                                          computed)
    sql, qmark, columns, returning = prepared
    params = _params(obj, columns, True, connection)
    cursor = run(connection, sql, qmark, params)
    if computed:
        values = cursor.fetchone()
        for (name, _expression), value in zip(computed, values[1:], strict=True):
            setattr(obj, _concrete(meta.get_field(name)).attname, value)
        setattr(obj, meta.pk.attname, values[0])
    elif not preset:
        pk = (cursor.fetchone()[0] if returning
              else connection.ops.last_insert_id(cursor, meta.db_table, str(meta.pk.column)))
        setattr(obj, meta.pk.attname, pk)
    obj._state.adding = False
    obj._state.db = using


def _insert_statement(model: type[Model], connection: Any, computed: tuple[tuple[str, str], ...]
                      ) -> tuple[str, str | None, list[Any], bool]:
    meta = model._meta
    preset = meta.auto_field is None
    by_database = dict(computed)
    fields = [f for f in meta.local_concrete_fields
              if f is not meta.auto_field and not getattr(f, "generated", False)]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    values = [by_database.get(f.name, "%s") for f in fields]
    sql = (f"INSERT INTO {table} ({', '.join(quote(str(f.column)) for f in fields)}) "
           f"VALUES ({', '.join(values)})")
    returning = connection.features.can_return_columns_from_insert and not preset
    if computed and not returning:
        raise ValueError("computed columns are read back with RETURNING")
    if returning:
        read_back = [f"{table}.{quote(str(_concrete(meta.get_field(name)).column))}"
                     for name in (meta.pk.name, *by_database)]
        sql += f" RETURNING {', '.join(read_back)}"
    columns = [(f, _plain_type(f)) for f in fields if f.name not in by_database]
    return sql, qmark_of(connection, sql), columns, returning


# --- executing ----------------------------------------------------------------------------------

_FORMAT_QMARK = re.compile(r"(?<!%)%s")  # as Django's SQLite backend converts each statement


def qmark_of(connection: Any, sql: str) -> str | None:
    """SQLite: the statement in the driver's own placeholders, converted once instead of at
    every execution (Django's SQLite cursor converts ``%s`` to ``?`` each time)."""
    if connection.vendor != "sqlite":
        return None
    return _FORMAT_QMARK.sub("?", sql).replace("%%", "%")


def run(connection: Any, sql: str, qmark: str | None, params: Sequence[Any]) -> Any:
    """Execute one statement and return a cursor to read its rows from (good until the next
    statement run here). SQLite, with no execute wrapper and no query log: on one driver cursor
    kept per connection, with the placeholders converted beforehand, through Django's error
    translation and broken-transaction check — a transition runs a dozen statements and Django's
    cursor wrapper (made, checked, closed at each) cost as much as some of them. Otherwise through
    Django's cursor (:func:`execute`): wrappers, the query log and other backends as always."""
    if qmark is not None and not connection.execute_wrappers and not connection.queries_logged:
        raw = connection.connection
        if raw is None:
            connection.ensure_connection()
            raw = connection.connection
        kept = connection.__dict__.get("_prepared_cursor")
        if kept is None or kept[0] is not raw:
            kept = connection.__dict__["_prepared_cursor"] = (raw, raw.cursor())
        connection.validate_no_broken_transaction()
        with connection.wrap_database_errors:
            kept[1].execute(qmark, params)
        return kept[1]
    cursor = connection.cursor()
    execute(cursor, sql, qmark, params)
    return cursor


def execute(cursor: Any, sql: str, qmark: str | None, params: Sequence[Any]) -> None:
    """``cursor.execute(sql, params)``, with SQLite's placeholders converted beforehand
    (``qmark``). Execute wrappers (``connection.execute_wrapper``) see ``sql`` as always, and
    errors are Django's; with the query log on (``DEBUG``, tests capturing queries) the
    statement takes Django's own path, which logs it."""
    if qmark is None or cursor.db.queries_logged:
        cursor.execute(sql, params)
        return
    cursor._execute_with_wrappers(sql, params, False, partial(_execute_qmark, qmark))


def _execute_qmark(qmark: str, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
    wrapper = context["cursor"]
    wrapper.db.validate_no_broken_transaction()
    with wrapper.db.wrap_database_errors:
        return sqlite3.Cursor.execute(wrapper.cursor, qmark, params)


_updates: dict[tuple[type[Model], tuple[str, ...], str], tuple[str, str | None, list[Any]]] = {}


def _concrete(field: Any) -> Field[Any, Any]:
    if not isinstance(field, Field) or not field.concrete:
        raise ValueError(f"{field} is not a column of the model")
    return field


def update(obj: Model, fields: Sequence[str], *, using: str = DEFAULT_DB_ALIAS) -> None:
    """UPDATE the row of ``obj`` with the current values of ``fields``, as
    ``obj.save(update_fields=fields)`` would (an error if no row was changed)."""
    model = type(obj)
    if _listened(model):
        obj.save(using=using, update_fields=fields)
        return
    connection = connections[using]
    key = (model, tuple(fields), using)
    prepared = _updates.get(key)
    if prepared is None:
        meta = model._meta
        columns = [_concrete(meta.get_field(name)) for name in fields]
        quote = connection.ops.quote_name
        sql = (f"UPDATE {quote(meta.db_table)} SET "
               f"{', '.join(f'{quote(str(f.column))} = %s' for f in columns)} "
               f"WHERE {quote(str(meta.pk.column))} = %s")
        prepared = _updates[key] = (sql, qmark_of(connection, sql),
                                    [(f, _plain_type(f)) for f in columns])
    sql, qmark, typed = prepared
    params = _params(obj, typed, False, connection)
    params.append(model._meta.pk.get_db_prep_value(obj.pk, connection))
    if run(connection, sql, qmark, params).rowcount == 0:
        raise DatabaseError("Save with update_fields did not affect any rows.")



class Values:
    """``Values(lambda code: Item.objects.filter(code=code).values_list("pk", flat=True)[:1])``,
    then ``values.first("A-1")``: the first row's first column, or None. For a hot read keyed by
    one text parameter (an item's implementation code) whose SQL the ORM would build anew on each
    call; the query takes exactly one such parameter and selects plain columns (no converters)."""

    def __init__(self, build: Callable[[str], QuerySet[Any]]) -> None:
        self._build = build
        self._compiled: dict[str, tuple[str, list[Any], int]] = {}

    def first(self, value: str, *, using: str = DEFAULT_DB_ALIAS) -> Any:
        compiled = self._compiled.get(using)
        if compiled is None:
            compiled = self._compiled[using] = self._compile(using)
        sql, template, position = compiled
        params = list(template)
        params[position] = str(value)
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return None if row is None else row[0]

    def _compile(self, using: str) -> tuple[str, list[Any], int]:
        queryset = self._build(_TEXT_SENTINEL)
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        positions = [i for i, p in enumerate(params) if p == _TEXT_SENTINEL]
        if len(positions) != 1:
            raise ValueError("a prepared Values read takes exactly one text parameter")
        connection = connections[using]
        if any([*connection.ops.get_db_converters(expr), *expr.get_db_converters(connection)]
               for expr, _sql, _alias in compiler.select):
            raise ValueError("a prepared Values read selects only columns without converters")
        return sql, list(params), positions[0]
