"""Appending to the audit log. Call inside the transaction of the action being recorded."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from tongban.core import prepared

from .models import AuditRecord

GENESIS = "0" * 64
# Any constant: the key of the PostgreSQL advisory lock that serialises appends to the chain.
_CHAIN_LOCK_KEY = 0x746F6E67  # "tong"


def record_digest(*, seq: int, at: str, actor_id: int | None, action: str, object_type: str,
                  object_id: str, detail: dict[str, Any], prev_hash: str) -> str:
    """The hash of one record's content chained to the previous record's hash."""
    payload = json.dumps(
        [seq, at, actor_id, action, object_type, object_id, detail, prev_hash],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def audit_record(*, actor: Any, action: str, object_type: str, object_id: Any,
                 detail: dict[str, Any] | None = None) -> AuditRecord:
    """Append one record. Must run inside the caller's transaction so both commit together."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the audited action")
    seq, prev_hash = _chain_end(connection)
    at = timezone.now()
    actor_id = actor.pk if actor is not None and getattr(actor, "pk", None) else None
    detail = json.loads(json.dumps(detail or {}, ensure_ascii=False, default=str))
    digest = record_digest(seq=seq, at=at.isoformat(), actor_id=actor_id, action=action,
                           object_type=object_type, object_id=str(object_id), detail=detail,
                           prev_hash=prev_hash)
    record = AuditRecord(
        seq=seq, at=at, actor_id=actor_id, actor_name=str(actor) if actor_id else "system",
        action=action, object_type=object_type, object_id=str(object_id), detail=detail,
        prev_hash=prev_hash, hash=digest,
    )
    prepared.insert(record)  # compiled once: every audited action appends one
    return record


def _chain_end(connection: BaseDatabaseWrapper) -> tuple[int, str]:
    """The next sequence number and the hash to chain to, with the chain locked until commit.

    Two writers must never chain to the same predecessor. On PostgreSQL a transaction-scoped
    advisory lock serialises appenders; the last record is read after taking it, so it is the
    one the previous appender committed (locking the last row instead would let a waiter read
    the row it waited for, not the one inserted meanwhile). SQLite transactions here begin
    IMMEDIATE: the database's write lock already serialises writers. Every audited action runs
    this, so the read is one plain statement on the ``seq`` index.
    """
    table = connection.ops.quote_name(AuditRecord._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
        cursor.execute(f"SELECT seq, hash FROM {table} ORDER BY seq DESC LIMIT 1")
        last = cursor.fetchone()
    return (last[0] + 1, last[1]) if last else (1, GENESIS)
