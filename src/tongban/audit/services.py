"""Appending to the audit log. Call inside the transaction of the action being recorded."""

from __future__ import annotations

import hashlib
import json
from functools import partial
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from tongban.core import rows

from . import head
from .models import AuditRecord

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

GENESIS = "0" * 64
# The PostgreSQL sequence numbering the records (audit/migrations/0005).
SEQUENCE = "audit_record_seq"


# What a record's hash covers (``AuditRecord.digest_version``): version 2 is every stored column
# but the row id (the database's, not the record's) and the hash itself; version 1, kept for the
# records written before it, left out ``actor_name`` and ``algorithm``.
DIGEST_VERSION = 2
DIGEST_COLUMNS = ("seq", "at", "actor_id", "actor_name", "action", "object_type", "object_id",
                  "detail", "prev_hash", "algorithm", "digest_version")


def record_digest(*, seq: int, at: str, actor_id: int | None, action: str, object_type: str,
                  object_id: str, detail: dict[str, Any], prev_hash: str,
                  algorithm: str = "sha256", actor_name: str = "",
                  version: int = DIGEST_VERSION) -> str:
    """The hash of one record's content chained to the previous record's hash.

    Version 2: the compact JSON object of every column in ``DIGEST_COLUMNS`` (``at`` in ISO 8601,
    UTC), keys sorted, UTF-8. Version 1: the compact JSON array ``[seq, at, actor_id, action,
    object_type, object_id, detail, prev_hash]``. Hashed with SHA-256 or SM3 (``algorithm``).
    """
    content: Any
    if version == 1:
        content = [seq, at, actor_id, action, object_type, object_id, detail, prev_hash]
    elif version == 2:
        content = {"seq": seq, "at": at, "actor_id": actor_id, "actor_name": actor_name,
                   "action": action, "object_type": object_type, "object_id": object_id,
                   "detail": detail, "prev_hash": prev_hash, "algorithm": algorithm,
                   "digest_version": version}
    else:
        raise ValueError(f"unknown audit digest version {version!r}")
    payload = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                         default=str)
    if algorithm == "sha256":
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()
    if algorithm == "sm3":
        return hashlib.new("sm3", payload.encode("utf-8")).hexdigest()
    raise ValueError(f"unknown audit hash algorithm {algorithm!r}")


def audit_record(*, actor: Actor | None, action: str, object_type: str, object_id: Any,
                 detail: dict[str, Any] | None = None) -> AuditRecord:
    """Append one record, numbered and not yet sealed into the chain (``sealing.audit_seal``
    computes its ``prev_hash`` and ``hash`` moments after it commits). Must run inside the
    caller's transaction so both commit together; takes no lock writers would queue on.
    Returns the record as written (``audit_append`` writes the same row without building it)."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the audited action")
    values = _values(actor, action, object_type, object_id, detail)
    pk, seq = _APPEND.run(values)
    record = AuditRecord(id=pk, seq=seq, **dict(zip(_COLUMNS, values, strict=True)))
    record._state.adding = False
    record._state.db = connection.alias
    return record


def audit_append(*, actor: Actor | None, action: str, object_type: str, object_id: Any,
                 detail: dict[str, Any] | None = None) -> int:
    """``audit_record`` for a hot path (every case transition): the same row, written by one
    statement compiled once, without building the record; returns its number (``seq``)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the audited action")
    return int(_APPEND.run(_values(actor, action, object_type, object_id, detail))[1])


# Values a record's detail holds as they are (a transition's from/to/event): they come back
# from JSON the same, so the round trip through JSON that normalizes other details is skipped.
_PLAIN_DETAIL = (str, int, bool, type(None))


def _values(actor: Actor | None, action: str, object_type: str, object_id: Any,
            detail: dict[str, Any] | None) -> tuple[Any, ...]:
    actor_id = actor.pk if actor is not None and getattr(actor, "pk", None) else None
    if not detail:
        detail = {}
    elif all(type(k) is str and type(v) in _PLAIN_DETAIL for k, v in detail.items()):
        detail = dict(detail)  # a copy, as the round trip makes one
    else:
        detail = json.loads(json.dumps(detail, ensure_ascii=False, default=str))
    # seq: drawn by the INSERT itself (``_next_seq``) and read back with the row's id.
    return (timezone.now(), actor_id, str(actor)[:150] if actor_id else "system", action,
            object_type, str(object_id), detail, None, None, settings.AUDIT_HASH, DIGEST_VERSION)


_COLUMNS = ("at", "actor_id", "actor_name", "action", "object_type", "object_id", "detail",
            "prev_hash", "hash", "algorithm", "digest_version")
# Compiled once per database (every audited action appends one).
_APPEND = rows.Insert(
    AuditRecord, ("at", "actor", "actor_name", "action", "object_type", "object_id", "detail",
                  "prev_hash", "hash", "algorithm", "digest_version"),
    computed=lambda connection: (("seq", _next_seq(connection)),))


def _next_seq(connection: BaseDatabaseWrapper) -> str:
    """The SQL of the record's number. PostgreSQL: the next value of the ``audit_record_seq``
    sequence, which nobody waits for (a rolled-back transaction leaves a gap); the transaction
    takes its id first, so that the sealer, waiting for the transactions running when it read
    the sequence, knows every number up to what it read is committed or never will be
    (``sealing``): the inner query, which holds a volatile function and so stays a separate
    scan, runs before the number is drawn. SQLite: one more than the last number, under the
    write lock every transaction here begins with (IMMEDIATE)."""
    if connection.vendor == "postgresql":
        return (f"(SELECT nextval('{SEQUENCE}') FROM (SELECT pg_current_xact_id()) AS xact)")
    table = connection.ops.quote_name(AuditRecord._meta.db_table)
    return f"(SELECT COALESCE(MAX(seq), 0) + 1 FROM {table})"


# --- checkpoints, verification runs and reading the log -----------------------------------

class ChainBroken(Exception):
    """The chain since the last checkpoint does not verify: no checkpoint is signed over it."""

    def __init__(self, result: Any) -> None:
        super().__init__(result.first_problem.message if result.first_problem else "")
        self.result = result


def audit_checkpoint_write(*, actor: Actor | None = None) -> Any:
    """Sign the chain's end after verifying the records since the previous checkpoint.

    Returns the new ``AuditCheckpoint``, or the previous one when no record was added since.
    Raises ``AccessDenied`` for anyone but the system or the bureau, ``ChainBroken`` when the
    records since the previous checkpoint (or that checkpoint itself) do not verify.
    """
    from tongban.accounts.permissions import SYSTEM

    from .models import AuditCheckpoint
    from .policies import can_write_checkpoint
    from .signing import checkpoint_message, signing_key
    from .verification import verify_chain

    actor = SYSTEM if actor is None else actor
    if not can_write_checkpoint(actor):
        from tongban.core.errors import AccessDenied

        raise AccessDenied
    key = signing_key(create=True)
    assert key is not None
    from .sealing import audit_seal

    audit_seal()  # what was written until now joins the chain first, and so this checkpoint
    # Only sealed records: those written since join the chain, and a later checkpoint, moments later.
    sealed = AuditRecord.objects.filter(hash__isnull=False)
    end = sealed.order_by("-seq").values_list("seq", "hash", "algorithm").first()
    if end is None:
        return None
    previous = AuditCheckpoint.objects.order_by("-seq", "-at").first()
    if previous is not None and previous.seq == end[0] and previous.record_hash == end[1]:
        return previous
    # Verify from the previous checkpoint's record (which must still match it) to the end, and
    # against the head file; a late checkpoint is what this writes, so age is no reason to refuse.
    result = verify_chain(from_seq=previous.seq if previous is not None else 1, check_age=False)
    if not result.intact:
        raise ChainBroken(result)
    seq, record_hash, algorithm = end
    assert record_hash is not None  # a sealed record
    count = sealed.filter(seq__lte=seq).count()
    at = timezone.now()
    signature = key.sign(checkpoint_message(seq=seq, record_hash=record_hash,
                                            hash_algorithm=algorithm, count=count, at=at))
    checkpoint = AuditCheckpoint.objects.create(
        seq=seq, record_hash=record_hash, hash_algorithm=algorithm, count=count, at=at,
        signature_algorithm=key.algorithm, key_id=key.public.key_id, signature=signature.hex())
    transaction.on_commit(partial(head.write_checkpoint, seq, record_hash, at, key.public.key_id),
                          robust=True)
    return checkpoint


def audit_verification_request(*, actor: Actor) -> Any:
    """Queue a verification of the whole chain (run by ``tasks.run_verification``)."""
    from tongban.accounts.permissions import account_of
    from tongban.core.errors import AccessDenied
    from tongban.scheduling.queue import enqueue_after_commit

    from .models import AuditVerification
    from .policies import can_read_audit_log
    from .tasks import run_verification

    if not can_read_audit_log(actor):
        raise AccessDenied
    with transaction.atomic():
        verification = AuditVerification.objects.create(requested_by=account_of(actor),
                                                        requested_at=timezone.now())
        audit_record(actor=actor, action="audit.verify_requested", object_type="audit_verification",
                     object_id=verification.pk)
        enqueue_after_commit(run_verification, verification.pk)
    return verification


def audit_verification_run(*, verification_id: int) -> Any:
    """Run a queued verification (the background task). Idempotent: a run already started
    or finished is left alone."""
    from .models import AuditVerification, VerificationStatus
    from .verification import verify_chain

    claimed = AuditVerification.objects.filter(
        pk=verification_id, status=VerificationStatus.QUEUED).update(
        status=VerificationStatus.RUNNING, started_at=timezone.now())
    if not claimed:
        return AuditVerification.objects.filter(pk=verification_id).first()

    def progress(n: int) -> None:
        AuditVerification.objects.filter(pk=verification_id).update(records_checked=n)

    from .sealing import audit_seal

    try:
        audit_seal()  # "verify now": what was written until now, the request included
        result = verify_chain(progress=progress)
    except Exception:
        AuditVerification.objects.filter(pk=verification_id).update(
            status=VerificationStatus.FAILED, finished_at=timezone.now())
        raise
    with transaction.atomic():
        AuditVerification.objects.filter(pk=verification_id).update(
            status=VerificationStatus.DONE, finished_at=timezone.now(), intact=result.intact,
            records_checked=result.records_checked,
            checkpoints_checked=result.checkpoints_checked, last_seq=result.last_seq,
            problems=[{"kind": p.kind, "seq": p.seq, **p.params} for p in result.problems])
        audit_record(actor=None, action="audit.verified", object_type="audit_verification",
                     object_id=verification_id,
                     detail={"intact": result.intact, "records_checked": result.records_checked,
                             "first_problem": result.first_problem.message
                             if result.first_problem else None})
    return AuditVerification.objects.get(pk=verification_id)


def audit_log_viewed(*, actor: Actor, what: str, filters: dict[str, Any] | None = None,
                     seq: int | None = None) -> None:
    """Record that ``actor`` read the audit log (a list with ``filters``, or record ``seq``):
    reading it is itself an exercise of power. Raises ``AccessDenied`` for anyone else."""
    from tongban.core.errors import AccessDenied

    from .policies import can_read_audit_log

    if not can_read_audit_log(actor):
        raise AccessDenied
    detail: dict[str, Any] = {"what": what}
    if filters:
        detail["filters"] = {k: v for k, v in filters.items() if v not in (None, "")}
    with transaction.atomic():
        audit_record(actor=actor, action="audit.view", object_type="audit_log",
                     object_id=seq if seq is not None else "", detail=detail)
