"""Appending to the audit log. Call inside the transaction of the action being recorded."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import transaction
from django.utils import timezone

from .models import AuditRecord

GENESIS = "0" * 64


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
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the audited action")
    # The last record is locked so that two writers cannot chain to the same predecessor.
    last = AuditRecord.objects.select_for_update().order_by("-seq").first()
    seq = (last.seq + 1) if last else 1
    prev_hash = last.hash if last else GENESIS
    at = timezone.now()
    actor_id = actor.pk if actor is not None and getattr(actor, "pk", None) else None
    detail = json.loads(json.dumps(detail or {}, ensure_ascii=False, default=str))
    digest = record_digest(seq=seq, at=at.isoformat(), actor_id=actor_id, action=action,
                           object_type=object_type, object_id=str(object_id), detail=detail,
                           prev_hash=prev_hash)
    return AuditRecord.objects.create(
        seq=seq, at=at, actor_id=actor_id, actor_name=str(actor) if actor_id else "system",
        action=action, object_type=object_type, object_id=str(object_id), detail=detail,
        prev_hash=prev_hash, hash=digest,
    )
