"""Case numbers: <division code (6)><yyyymmdd, Beijing time><daily sequence, 6 digits>.

On PostgreSQL each division's day draws from its own sequence, ``case_number_<code>_<yyyymmdd>``,
created by the first submission of that day that needs it: ``nextval`` is never rolled back and
nobody waits for it, so concurrent submissions do not queue on a counter row held to their
commit (the row of ``CaseCounter`` did). A submission that rolls back leaves its number unused
— a gap in the day's numbers (docs/adr/0007-case-numbers-from-sequences.md). Sequences of days
past are dropped by the daily ``case_number_sequences`` schedule (``drop_old_sequences``).

On SQLite the database's write lock already serialises writers: the ``CaseCounter`` row per day
and division stays, and numbers have no gaps.
"""

from __future__ import annotations

import datetime as dt
import re

from django.db import DatabaseError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from .models import CaseCounter

PREFIX = "case_number_"
_NAME = re.compile(rf"^{PREFIX}(\d{{6}})_(\d{{8}})$")
# Sequences known to exist (created or used by this process): the steady state is one nextval.
_known: set[str] = set()


def daily_value(code: str, day: dt.date) -> int:
    """The next number of ``day`` for the division ``code`` (six digits)."""
    if not code.isdigit() or len(code) != 6:
        raise ValueError(f"not a division code: {code!r}")
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        return _from_sequence(connection, code, day)
    return _from_counter(connection, code, day)


def _from_sequence(connection: BaseDatabaseWrapper, code: str, day: dt.date) -> int:
    name = f"{PREFIX}{code}_{day:%Y%m%d}"
    with connection.cursor() as cursor:
        if name in _known:
            # nextval of a missing sequence is NULL here, not an error that would abort the
            # transaction: one dropped behind this process's back (a restored backup, a
            # recreated database) is created again below instead of failing every submission.
            cursor.execute("SELECT nextval(to_regclass(%s))", [name])
            value = cursor.fetchone()[0]
            if value is not None:
                return int(value)
            _known.discard(name)
        if name not in _known:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
            if not cursor.fetchone()[0]:
                try:
                    # Two first submissions of a day may race to create it: the second waits
                    # for the first to commit, then fails; the sequence is there either way.
                    # It starts after the day's counter row, if any: numbers given before the
                    # sequences (the day of an upgrade, or rows written in bulk by
                    # ``tongban generate_load``) are never given again.
                    start = (CaseCounter.objects.filter(day=day, division_code=code)
                             .values_list("value", flat=True).first() or 0) + 1
                    with transaction.atomic():
                        cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {name} AS bigint "
                                       f"START WITH {int(start)}")
                except DatabaseError:
                    pass
            # Known once committed (this transaction may have created it, and may roll back).
            transaction.on_commit(lambda: _remember(name))
        cursor.execute("SELECT nextval(%s)", [name])
        return int(cursor.fetchone()[0])


def _remember(name: str) -> None:
    # Only after the outermost commit: callbacks run early inside an enclosing transaction
    # (tests capturing them) would otherwise remember a sequence that may still roll back.
    if not transaction.get_connection().in_atomic_block:
        _known.add(name)


def _from_counter(connection: BaseDatabaseWrapper, code: str, day: dt.date) -> int:
    table = connection.ops.quote_name(CaseCounter._meta.db_table)
    where = "day = %s AND division_code = %s"
    params = [connection.ops.adapt_datefield_value(day), code]
    # SQLite: the write lock every transaction begins with (IMMEDIATE) makes this safe; the
    # first submission of the day creates the row. One statement draws the number (SQLite ≥ 3.35
    # has RETURNING).
    draw = f"UPDATE {table} SET value = value + 1 WHERE {where} RETURNING value"
    with connection.cursor() as cursor:
        cursor.execute(draw, params)
        row = cursor.fetchone()
        if row is None:
            CaseCounter.objects.get_or_create(day=day, division_code=code)
            cursor.execute(draw, params)
            row = cursor.fetchone()
        return int(row[0])


def drop_old_sequences(today: dt.date, *, keep_days: int = 2) -> int:
    """Drop the number sequences of days more than ``keep_days`` before ``today`` (a submission
    stamped just before midnight may still draw from yesterday's). Returns how many."""
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        return 0
    cutoff = f"{today - dt.timedelta(days=keep_days):%Y%m%d}"
    dropped = 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relkind = 'S' AND relname LIKE %s "
                       "AND relnamespace = current_schema()::regnamespace", [f"{PREFIX}%"])
        for (name,) in cursor.fetchall():
            match = _NAME.match(name)
            if match and match.group(2) < cutoff:
                cursor.execute(f"DROP SEQUENCE IF EXISTS {name}")
                _known.discard(name)
                dropped += 1
    return dropped
