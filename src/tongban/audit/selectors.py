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
    return _actor_filter(_filtered_but_actor(f), f)


def _filtered_but_actor(f: RecordFilter) -> QuerySet[AuditRecord]:
    records = AuditRecord.objects.select_related("actor").order_by("-seq")
    if f.since is not None:
        records = records.filter(at__gte=f.since)
    if f.until is not None:
        records = records.filter(at__lt=f.until)
    if f.action:
        records = records.filter(action__startswith=f.action)
    if f.object_type:
        records = records.filter(object_type=f.object_type)
    if f.object_id:
        records = records.filter(object_id=f.object_id)
    return records


def _actor_ids(actor: str) -> list[int]:
    # The accounts first (a unique-key read), so that the log is filtered on its own indexed
    # columns rather than through a join.
    from django.contrib.auth import get_user_model

    return list(get_user_model().objects.filter(username=actor).values_list("pk", flat=True))


def _actor_filter(records: QuerySet[AuditRecord], f: RecordFilter) -> QuerySet[AuditRecord]:
    if not f.actor:
        return records
    if f.actor.lower() == "system":
        return records.filter(actor__isnull=True)
    return records.filter(Q(actor_id__in=_actor_ids(f.actor)) | Q(actor_name=f.actor))


def _newest(f: RecordFilter, position: Q, order: str, limit: int) -> list[AuditRecord]:
    """Up to ``limit`` records matching ``f`` and ``position`` in ``order`` of seq. An actor
    given by name is two walks — down the (actor, seq) and the (actor_name, seq) indexes —
    merged here: an OR of the two would make a database sort every record of that actor."""
    base = _filtered_but_actor(f).filter(position).order_by(order)
    if not f.actor or f.actor.lower() == "system":
        return list(_actor_filter(base, f)[:limit])
    found = {r.pk: r for r in base.filter(actor_id__in=_actor_ids(f.actor))[:limit]}
    found.update((r.pk, r) for r in base.filter(actor_name=f.actor)[:limit])
    return sorted(found.values(), key=lambda r: r.seq, reverse=order.startswith("-"))[:limit]


@dataclass
class RecordPage:
    """One page of the log, newest first, found by its position in the chain (keyset on
    ``seq``) rather than by an offset: no COUNT over millions, no deep OFFSET scans."""

    records: list[AuditRecord]
    newer: int | None  # the ``after`` of the page before this one (None: this is the newest)
    older: int | None  # the ``before`` of the page after this one (None: nothing older)

    @property
    def first_seq(self) -> int | None:
        return self.records[0].seq if self.records else None

    @property
    def last_seq(self) -> int | None:
        return self.records[-1].seq if self.records else None


def records_page(f: RecordFilter, *, before: int | None = None, after: int | None = None,
                 size: int = 50) -> RecordPage:
    """The ``size`` records matching ``f`` just older than ``before`` (a seq), or just newer
    than ``after``, or the newest ones."""
    if after is not None and before is None:
        found = _newest(f, Q(seq__gt=after), "seq", size + 1)
        more_newer = len(found) > size
        found = found[:size][::-1]
        older_exists = bool(found) or bool(_newest(f, Q(seq__lte=after), "-seq", 1))
        return RecordPage(found, found[0].seq if found and more_newer else None,
                          (found[-1].seq if found else after + 1) if older_exists else None)
    found = _newest(f, Q(seq__lt=before) if before is not None else Q(), "-seq", size + 1)
    more_older = len(found) > size
    found = found[:size]
    newer = None
    if before is not None and found:
        newer = found[0].seq if _newest(f, Q(seq__gte=before), "seq", 1) else None
    return RecordPage(found, newer, found[-1].seq if found and more_older else None)


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
