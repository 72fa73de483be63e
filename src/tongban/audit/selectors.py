"""Reads of the audit log for the supervisors' page and the API (callers record the reading
with ``services.audit_log_viewed`` first)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from .models import AuditCheckpoint, AuditRecord, AuditVerification
from .signing import PublicKey, signing_key, trusted_keys


@dataclass(frozen=True)
class RecordFilter:
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    actor: str = ""  # username, real name or "system"
    action: str = ""  # prefix, e.g. "case." or "catalog.published"
    object_type: str = ""
    object_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None,
                "actor": self.actor, "action": self.action, "object_type": self.object_type,
                "object_id": self.object_id}


def records_filtered(f: RecordFilter) -> QuerySet[AuditRecord]:
    """Newest first. Times are aware instants (the page reads them in Asia/Shanghai)."""
    records = AuditRecord.objects.select_related("actor").order_by("-seq")
    if f.since is not None:
        records = records.filter(at__gte=f.since)
    if f.until is not None:
        records = records.filter(at__lt=f.until)
    if f.actor:
        if f.actor.lower() == "system":
            records = records.filter(actor__isnull=True)
        else:
            records = records.filter(Q(actor__username=f.actor) | Q(actor_name=f.actor))
    if f.action:
        records = records.filter(action__startswith=f.action)
    if f.object_type:
        records = records.filter(object_type=f.object_type)
    if f.object_id:
        records = records.filter(object_id=f.object_id)
    return records


def record_get(seq: int) -> AuditRecord | None:
    return AuditRecord.objects.select_related("actor").filter(seq=seq).first()


def object_types() -> list[str]:
    return list(AuditRecord.objects.order_by("object_type").values_list("object_type", flat=True)
                .distinct()[:200])


def checkpoints_latest(limit: int = 20) -> list[AuditCheckpoint]:
    return list(AuditCheckpoint.objects.order_by("-seq", "-at")[:limit])


def verifications_recent(limit: int = 5) -> list[AuditVerification]:
    return list(AuditVerification.objects.select_related("requested_by")[:limit])


def published_keys() -> tuple[PublicKey | None, list[PublicKey]]:
    """The current checkpoint key (created on first use) and the retired keys still trusted."""
    current = signing_key(create=True)
    public = current.public if current is not None else None
    retired = [k for kid, k in trusted_keys().items() if public is None or kid != public.key_id]
    return public, retired


def verification_messages(verification: AuditVerification) -> list[str]:
    """The problems a finished verification found, as sentences in the active language."""
    from .verification import Problem

    out = []
    for p in verification.problems:
        params = {k: v for k, v in p.items() if k not in {"kind", "seq"}}
        out.append(Problem(p["kind"], p["seq"], params).message)
    return out


def unsealed_tail(now: dt.datetime | None = None) -> tuple[int, float | None]:
    """The records written and not yet sealed into the chain: how many, and the age of the
    oldest in seconds (None: none). A tail older than ``AUDIT_SEAL_MAX_AGE_SECONDS`` means the
    sealer (the ``audit_seal`` schedule of ``tongban worker``) is not running. Cheap: a
    partial index holds exactly these records."""
    tail = AuditRecord.objects.filter(hash__isnull=True).aggregate(n=Count("id"), oldest=Min("at"))
    if not tail["n"]:
        return 0, None
    return int(tail["n"]), max(0.0, ((now or timezone.now()) - tail["oldest"]).total_seconds())
