"""The audit API at /api/v1/audit/: the log for supervisors (each read recorded as
``audit.view``), verification runs, and — public — the checkpoints and their public key."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.params import functions as params  # ninja.Query is a generic alias to mypy
from pydantic import Field

from tongban.core.schemas import BoundedDateTime, ErrorOut, local

from . import selectors, services
from .models import AuditCheckpoint, AuditRecord, AuditVerification
from .policies import can_read_audit_log

router = Router(tags=["audit"])


class RecordQuery(Schema):
    since: BoundedDateTime | None = Field(
        None, description="from this instant (ISO 8601; naive = Beijing time)")
    until: BoundedDateTime | None = Field(None, description="before this instant")
    actor: str = Field("", description="username, real name, or 'system'")
    action: str = Field("", description="action prefix, e.g. 'case.'")
    object_type: str = ""
    object_id: str = ""
    limit: int = Field(50, ge=1, le=500)
    before_seq: int | None = Field(None, ge=1, le=2**63 - 1,
                                   description="page on: records with a smaller seq")


class RecordOut(Schema):
    seq: int
    at: dt.datetime
    actor_id: int | None
    actor_username: str | None
    actor_name: str
    action: str
    object_type: str
    object_id: str
    detail: dict[str, Any]
    # null until the record is sealed into the chain, seconds after it was written
    prev_hash: str | None
    hash: str | None
    algorithm: str


class RecordPageOut(Schema):
    items: list[RecordOut]
    next_before_seq: int | None


class CheckpointOut(Schema):
    seq: int
    record_hash: str
    hash_algorithm: str
    count: int
    at: str = Field(description="UTC, ISO 8601, exactly as signed")
    signature_algorithm: str
    key_id: str
    signature: str
    signed_message: str


class PublicKeyOut(Schema):
    algorithm: str
    key_id: str
    public_key_hex: str
    public_key_pem: str
    current: bool


class AuditVerificationOut(Schema):
    id: int
    status: str
    requested_at: dt.datetime
    finished_at: dt.datetime | None
    intact: bool | None
    records_checked: int
    checkpoints_checked: int
    last_seq: int | None
    problems: list[str]


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    from django.utils import timezone

    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


def _record_out(r: AuditRecord) -> RecordOut:
    return RecordOut(seq=r.seq, at=local(r.at), actor_id=r.actor_id,
                     actor_username=r.actor.username if r.actor is not None else None,
                     actor_name=r.actor_name, action=r.action, object_type=r.object_type,
                     object_id=r.object_id, detail=r.detail, prev_hash=r.prev_hash, hash=r.hash,
                     algorithm=r.algorithm)


def _verification_out(v: AuditVerification) -> AuditVerificationOut:
    return AuditVerificationOut(id=v.pk, status=v.status, requested_at=local(v.requested_at),
                           finished_at=local(v.finished_at) if v.finished_at else None, intact=v.intact,
                           records_checked=v.records_checked,
                           checkpoints_checked=v.checkpoints_checked, last_seq=v.last_seq,
                           problems=selectors.verification_messages(v))


@router.get("/records", response={200: RecordPageOut, 403: ErrorOut, 422: dict[str, Any]},
            summary="The audit log, newest first (supervisors and the bureau)")
def records(request: HttpRequest, query: Query[RecordQuery]) -> Any:
    """Filtered like the page; paged by ``before_seq`` (pass the answer's ``next_before_seq``).
    Every call is itself recorded in the log (``audit.view``)."""
    record_filter = selectors.RecordFilter(
        since=_aware(query.since), until=_aware(query.until), actor=query.actor.strip(),
        action=query.action.strip(), object_type=query.object_type.strip(),
        object_id=query.object_id.strip())
    if not can_read_audit_log(request.user):
        return Status(403, {"detail": _("您无权执行此操作")})
    found = selectors.records_filtered(record_filter)
    if query.before_seq is not None:
        found = found.filter(seq__lt=query.before_seq)
    rows = list(found[:query.limit + 1])
    # Recorded after the read, so the reading does not appear in its own page.
    services.audit_log_viewed(actor=request.user, what="api", filters={
        **record_filter.as_dict(), "before_seq": query.before_seq})
    more = len(rows) > query.limit
    rows = rows[:query.limit]
    return RecordPageOut(items=[_record_out(r) for r in rows],
                         next_before_seq=rows[-1].seq if more and rows else None)


@router.get("/records/{seq}", response={200: RecordOut, 403: ErrorOut, 404: ErrorOut},
            summary="One audit record")
def record(request: HttpRequest, seq: int) -> Any:
    if not can_read_audit_log(request.user):
        return Status(403, {"detail": _("您无权执行此操作")})
    found = selectors.record_get(seq)
    if found is None:
        raise HttpError(404, _("没有这条审计记录"))
    services.audit_log_viewed(actor=request.user, what="api_record", seq=seq)
    return _record_out(found)


@router.post("/verifications", response={202: AuditVerificationOut, 403: ErrorOut},
             summary="Verify the whole chain now (in the background)")
def verify(request: HttpRequest) -> Any:
    verification = services.audit_verification_request(actor=request.user)
    verification.refresh_from_db()
    return Status(202, _verification_out(verification))


@router.get("/verifications/{verification_id}",
            response={200: AuditVerificationOut, 403: ErrorOut, 404: ErrorOut},
            summary="A verification run and what it found")
def verification(request: HttpRequest, verification_id: int) -> Any:
    if not can_read_audit_log(request.user):
        return Status(403, {"detail": _("您无权执行此操作")})
    found = AuditVerification.objects.filter(pk=verification_id).first()
    if found is None:
        raise HttpError(404, _("没有这次校验"))
    return _verification_out(found)


@router.get("/public-key", auth=None, response=list[PublicKeyOut],
            summary="The public keys that verify the checkpoints")
def public_key(request: HttpRequest) -> Any:
    current, retired = selectors.published_keys()
    keys = ([current] if current is not None else []) + retired
    return [PublicKeyOut(algorithm=k.algorithm, key_id=k.key_id, public_key_hex=k.hex,
                         public_key_pem=k.pem(), current=k is current) for k in keys]


@router.get("/checkpoints", auth=None, response=list[CheckpointOut],
            summary="The signed checkpoints, newest first")
def checkpoints(request: HttpRequest, limit: int = params.Query(100, ge=1, le=1000)) -> Any:
    """Anyone may keep copies: a later rewrite or deletion of the log would contradict them."""
    out = []
    cp: AuditCheckpoint
    for cp in selectors.checkpoints_latest(limit):
        out.append(CheckpointOut(
            seq=cp.seq, record_hash=cp.record_hash, hash_algorithm=cp.hash_algorithm,
            count=cp.count, at=cp.at.astimezone(dt.UTC).isoformat(),
            signature_algorithm=cp.signature_algorithm, key_id=cp.key_id, signature=cp.signature,
            signed_message=cp.signed_message().decode("ascii")))
    return out
