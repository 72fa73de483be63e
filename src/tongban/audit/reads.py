"""The audit record of a read: one statement, committed on its own.

Staff reading an applicant's personal data is an exercise of power and is audited
(``cases.services.case_data_access_record``). A read changes nothing else, so its record needs no
transaction of its own around it: :func:`read_record` appends it with one prepared ``INSERT``
that draws the record's number inside the statement, and — outside a transaction — commits at
once (autocommit). The record is numbered and unsealed, exactly like one written by
``services.audit_record``; the sealer (``sealing.audit_seal``) chains it moments later
(docs/adr/0008).

The number is drawn as ``services._next_seq`` draws it, within the same statement:

- PostgreSQL: ``nextval('audit_record_seq')`` evaluated over a sub-select that first takes the
  transaction's id (``pg_current_xact_id()``, kept apart by ``OFFSET 0`` and used by the
  statement's filter), so that — as the sealing rule needs — the transaction has its id before
  it holds a number;
- SQLite: one more than the highest number, read by the ``INSERT`` itself under the write lock
  the statement holds until it commits.

Inside a transaction (a caller's own, or a test's) the statement simply joins it and commits or
rolls back with it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from .models import AuditRecord
from .services import DIGEST_VERSION, SEQUENCE

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

_COLUMNS = ("at", "actor_id", "actor_name", "action", "object_type", "object_id", "detail",
            "algorithm", "digest_version")
_statements: dict[str, str] = {}


def _statement(using: str) -> str:
    sql = _statements.get(using)
    if sql is None:
        connection = connections[using]
        quote = connection.ops.quote_name
        table = quote(AuditRecord._meta.db_table)
        fields = {f.attname: f for f in AuditRecord._meta.concrete_fields}
        columns = ", ".join(quote(str(fields[name].column)) for name in ("seq", *_COLUMNS))
        values = ", ".join(["%s"] * len(_COLUMNS))
        if connection.vendor == "postgresql":
            # The filter uses the id, so the planner keeps it (a stable function in an unused
            # column would be dropped) and evaluates it below the projection drawing the number.
            sql = (f"INSERT INTO {table} ({columns}) SELECT nextval('{SEQUENCE}'), {values} "
                   "FROM (SELECT pg_current_xact_id() AS xid OFFSET 0) AS xact "
                   "WHERE xact.xid IS NOT NULL")
        else:
            sql = (f"INSERT INTO {table} ({columns}) "
                   f"SELECT COALESCE(MAX({quote('seq')}), 0) + 1, {values} FROM {table}")
        _statements[using] = sql
    return sql


def read_record(*, actor: Actor | None, action: str, object_type: str, object_id: Any,
                detail: dict[str, Any] | None = None, using: str = DEFAULT_DB_ALIAS) -> None:
    """Append the audit record of a read (``actor`` read ``object_type:object_id``), committed
    by itself unless a transaction is open. Raises whatever the database raises: a read whose
    record could not be written is not answered."""
    connection = connections[using]
    meta = AuditRecord._meta
    actor_id = actor.pk if actor is not None and getattr(actor, "pk", None) else None
    detail = json.loads(json.dumps(detail or {}, ensure_ascii=False, default=str))
    params = [
        meta.get_field("at").get_db_prep_save(timezone.now(), connection),
        actor_id,
        str(actor)[:150] if actor_id else "system",
        action,
        object_type,
        str(object_id),
        meta.get_field("detail").get_db_prep_save(detail, connection),
        settings.AUDIT_HASH,
        DIGEST_VERSION,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_statement(using), params)
