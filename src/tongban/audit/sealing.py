"""Sealing: the one sequencer that chains the records written since into the hash chain.

Audited transactions only insert their record, numbered (``seq``) and unsealed (no
``prev_hash``, no ``hash``): writers never wait for one another (docs/audit.md, *Appending and
sealing*). ``audit_seal`` — run every few seconds by ``tongban worker`` (the ``audit_seal``
schedule) and callable as ``tongban seal_audit`` — then seals them in ``seq`` order, computing
each hash exactly as ``services.record_digest`` always has, in batches of ``BATCH``.

**The sealing rule.** A number is given out (``nextval``) before its transaction commits, so a
record numbered below one already committed may still be on its way. The sealer therefore seals
only up to a *horizon*: it reads the sequence's last value ``h``, then the set of transactions
in progress, and waits until all of those have ended (each audited transaction takes its
transaction id before its number, so every number up to ``h`` belongs to a transaction that
had ended or was in that set). From then on every number up to ``h`` is either committed —
visible — or never will be: a gap left by a rolled-back transaction, final. On SQLite the
database's write lock serialises writers and the sealer: every committed record is sealable.

Should a transaction stay open longer than ``AUDIT_SEAL_WAIT_SECONDS`` (default 5), the sealer
seals up to ``h`` anyway; if that transaction later commits a record numbered below the chain's
end (a *late* record), the next run gives it a fresh number (the sequence's next) before sealing
it, so it joins the chain at its end. Nothing had vouched for its first number: the hash covers
``seq`` and is computed only now.

One sealer at a time: a PostgreSQL advisory lock tried (never waited for) in the sealing
transaction; SQLite's write lock otherwise.
"""

from __future__ import annotations

import logging
import time
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection as default_connection
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from . import head
from .models import AuditRecord
from .services import GENESIS, SEQUENCE, record_digest

log = logging.getLogger(__name__)

BATCH = 5000
# Any constant but the chain's: the advisory lock that keeps sealers one at a time.
_SEAL_LOCK_KEY = 0x7365616C  # "seal"
_POLL_SECONDS = 0.005
# Of the transactions ``%s`` (xid8 as text), those still running in this database but this one.
_OURS = ("SELECT x::text FROM unnest(%s::text[]::xid8[]) AS x "
         "WHERE pg_xact_status(x) = 'in progress' "
         "AND x IS DISTINCT FROM pg_current_xact_id_if_assigned() "
         "AND (x::text::numeric %% 4294967296)::text IN ("
         "SELECT backend_xid::text FROM pg_stat_activity "
         "WHERE datname = current_database() AND backend_xid IS NOT NULL)")

_COLUMNS = ("id", "seq", "at", "actor_id", "actor_name", "action", "object_type", "object_id",
            "detail", "algorithm", "digest_version")


def audit_seal(*, batch: int = BATCH) -> int:
    """Seal every record that may be sealed now (see the module's rule). Returns how many were
    sealed; 0 also when another sealer holds the lock. Each batch commits on its own (the head
    file gets its lines after each); called inside a transaction (tests), within it."""
    horizon = _horizon(default_connection)
    sealed = 0
    while True:
        with transaction.atomic():
            if not _try_lock(default_connection):
                return sealed
            done, renumbered = _seal_batch(default_connection, horizon, batch)
        sealed += done
        if renumbered:  # late records got numbers past the horizon: a new horizon covers them
            horizon = _horizon(default_connection)
        elif done < batch:
            return sealed


def _try_lock(connection: BaseDatabaseWrapper) -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite: the transaction's write lock (IMMEDIATE) already excludes others
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_SEAL_LOCK_KEY])
        return bool(cursor.fetchone()[0])


def _horizon(connection: BaseDatabaseWrapper) -> int | None:
    """The highest number below which no record can still commit (None: no limit, SQLite)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        # The sequence first, then the running transactions (two statements: the second's
        # snapshot is taken after the first read the sequence).
        cursor.execute(f"SELECT last_value, is_called FROM {SEQUENCE}")
        last_value, is_called = cursor.fetchone()
        horizon = int(last_value) if is_called else int(last_value) - 1
        cursor.execute("SELECT pg_snapshot_xip(pg_current_snapshot())::text")
        running = [row[0] for row in cursor.fetchall()]
        # Only this database's transactions can hold a number (the snapshot is the cluster's).
        cursor.execute(_OURS, [running])
        running = [row[0] for row in cursor.fetchall()]
        deadline = time.monotonic() + float(settings.AUDIT_SEAL_WAIT_SECONDS)
        while running:
            cursor.execute(_OURS, [running])
            running = [row[0] for row in cursor.fetchall()]
            if not running:
                break
            if time.monotonic() >= deadline:
                log.info("audit sealing: %d transaction(s) still open after %ss; sealing up to "
                         "#%d, a record they commit later joins the chain's end", len(running),
                         settings.AUDIT_SEAL_WAIT_SECONDS, horizon)
                break
            time.sleep(_POLL_SECONDS)
    return horizon


def _seal_batch(connection: BaseDatabaseWrapper, horizon: int | None,
                batch: int) -> tuple[int, int]:
    """Seal up to ``batch`` records: (how many, how many late ones were numbered anew)."""
    table = connection.ops.quote_name(AuditRecord._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT seq, hash FROM {table} WHERE hash IS NOT NULL "
                       "ORDER BY seq DESC LIMIT 1")
        end = cursor.fetchone()
        prev_seq, prev_hash = (int(end[0]), str(end[1])) if end else (0, GENESIS)
        renumbered = _renumber_late(connection, cursor, table, prev_seq)
    pending = AuditRecord.objects.filter(hash__isnull=True, seq__gt=prev_seq)
    if horizon is not None:
        pending = pending.filter(seq__lte=horizon)
    rows = list(pending.order_by("seq").values_list(*_COLUMNS, named=True)[:batch])
    if not rows:
        return 0, renumbered
    updates: list[tuple[str, str, int]] = []
    lines: list[tuple[int, str, Any]] = []
    for r in rows:
        digest = record_digest(seq=int(r.seq), at=r.at.isoformat(), actor_id=r.actor_id,
                               actor_name=r.actor_name, action=r.action,
                               object_type=r.object_type, object_id=r.object_id,
                               detail=r.detail, prev_hash=prev_hash, algorithm=r.algorithm,
                               version=int(r.digest_version))
        updates.append((prev_hash, digest, int(r.id)))
        lines.append((int(r.seq), digest, r.at))
        prev_hash = digest
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET prev_hash = %s, hash = %s WHERE id = %s", updates)
    # Once committed, the new heads also go to the file outside the database (head.py).
    transaction.on_commit(partial(head.write_records, lines), robust=True)
    return len(rows), renumbered


def _renumber_late(connection: BaseDatabaseWrapper, cursor: Any, table: str, end: int) -> int:
    """Give records committed after the chain passed their number a fresh one at its end."""
    cursor.execute(f"SELECT id FROM {table} WHERE hash IS NULL AND seq < %s ORDER BY seq", [end])
    late = [int(row[0]) for row in cursor.fetchall()]
    if not late:
        return 0
    log.warning("audit sealing: %d record(s) committed after the chain passed their number; "
                "numbered anew at its end", len(late))
    for pk in late:
        if connection.vendor == "postgresql":
            cursor.execute(f"UPDATE {table} SET seq = nextval('{SEQUENCE}') WHERE id = %s", [pk])
        else:
            cursor.execute(f"UPDATE {table} SET seq = (SELECT MAX(seq) + 1 FROM {table}) "
                           "WHERE id = %s", [pk])
    return len(late)
