"""Verifying the audit chain: every record's hash, every link, the numbering, the checkpoints.

``verify_chain()`` walks the records in ``seq`` order in chunks (constant memory, linear time)
and stops at the first record where the chain breaks; it then works out what happened there:

- **内容被修改** (modified): the record's hash does not match its content, and no other
  numbering explains it — or the next record's ``prev_hash`` names a hash no record has (the
  record was rewritten together with its own hash).
- **缺失记录** (deleted): a gap in the numbering where the next record's ``prev_hash`` names the
  missing one; also records deleted and the later ones renumbered.
- **插入的记录** (inserted): a record that chains correctly but that the records after it skip
  (their ``prev_hash`` names its predecessor, and their content hashes under a smaller number);
  or a record that chains to some earlier record instead of its predecessor.
- **顺序被调换** (reordered): a record whose content hashes only under another number, the record
  holding that number hashing only under this one (two ``seq`` values swapped).

Each record's original number is recovered from its content: the hash covers ``seq``, so the
number under which it hashes correctly is the one it was written with; that number is found by
following ``prev_hash`` back to a record that verifies (a few look-ups, only once broken).

Checkpoints (``AuditCheckpoint``) are checked for a valid signature by a trusted key and for still
matching the record they name; the newest valid checkpoint also reveals deleted last records.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Max
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from . import head
from .models import AuditCheckpoint, AuditRecord
from .services import GENESIS, record_digest
from .signing import PublicKey, trusted_keys

FIELDS = ("seq", "at", "actor_id", "actor_name", "action", "object_type", "object_id", "detail",
          "prev_hash", "hash", "algorithm", "digest_version")
CHUNK = 2000
# Head-file lines compared per query (``seq IN (…)``: below SQLite's smallest parameter limit).
HEAD_BATCH = 500
# How far back a record's original number is traced through prev_hash (each step is one look-up).
TRACE_DEPTH = 3
# Numbers on either side of its own tried first for a record that does not verify (no look-up).
NEARBY = 16

MODIFIED = "modified"
MISSING = "missing"
INSERTED = "inserted"
REORDERED = "reordered"
TRUNCATED = "truncated"
CHECKPOINT_MISMATCH = "checkpoint_mismatch"
CHECKPOINT_SIGNATURE = "checkpoint_signature"
CHECKPOINT_KEY = "checkpoint_key"
CHECKPOINT_DELETED = "checkpoint_deleted"
STALE = "stale"
HEAD_MISMATCH = "head_mismatch"
HEAD_TRUNCATED = "head_truncated"
HEAD_MALFORMED = "head_malformed"
UNSEALED_STALE = "unsealed_stale"


@dataclass
class Problem:
    kind: str
    seq: int  # the record the problem is named by
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        """The sentence in the active language."""
        p = {"seq": self.seq, **self.params}
        if self.kind == MODIFIED:
            return _("记录 #%(seq)s 内容被修改") % p
        if self.kind == MISSING:
            if p.get("renumbered"):
                return _("记录 #%(seq)s 之前缺失记录 #%(missing)s（之后的记录被重新编号）") % p
            return _("记录 #%(seq)s 之前缺失记录 #%(missing)s") % p
        if self.kind == INSERTED:
            return _("记录 #%(seq)s 为插入的记录") % p
        if self.kind == REORDERED:
            if p.get("swapped"):
                return _("记录 #%(seq)s 顺序被调换（与记录 #%(other)s 对调）") % p
            return _("记录 #%(seq)s 顺序被调换（原为记录 #%(other)s）") % p
        if self.kind == TRUNCATED:
            if p["last"] is None:
                return _("审计日志中没有记录，但检查点确认至记录 #%(seq)s：记录 #1–#%(seq)s 被删除") % p
            return _("记录 #%(last)s 之后缺失记录 #%(missing)s"
                     "（末尾的记录被删除，检查点确认至记录 #%(seq)s）") % p
        if self.kind == CHECKPOINT_MISMATCH:
            return _("记录 #%(seq)s 与检查点（%(at)s）不符：该记录或其之前的记录被改写") % p
        if self.kind == CHECKPOINT_SIGNATURE:
            return _("检查点（记录 #%(seq)s，%(at)s）的签名无效") % p
        if self.kind == CHECKPOINT_KEY:
            return _("检查点（记录 #%(seq)s，%(at)s）由不受信任的密钥 %(key)s 签名") % p
        if self.kind == CHECKPOINT_DELETED:
            return _("检查点（记录 #%(seq)s，%(at)s）被删除：链头文件记录了它，数据库中已没有") % p
        if self.kind == STALE:
            if p.get("checkpoint_at") is None:
                return _("审计日志没有检查点，%(unsealed)s 条记录等待签署已超过 %(minutes)s 分钟："
                         "检查点计划未运行") % p
            return _("最新检查点（记录 #%(sealed)s，%(checkpoint_at)s）已超过 %(minutes)s 分钟，"
                     "其后 %(unsealed)s 条记录尚未签署：检查点计划未按时运行") % p
        if self.kind == HEAD_MISMATCH:
            if p.get("absent"):
                return _("记录 #%(seq)s 不在审计日志中，但链头文件记录了它（%(at)s）：该记录被删除") % p
            return _("记录 #%(seq)s 与链头文件（%(at)s）不符：该记录被改写") % p
        if self.kind == HEAD_TRUNCATED:
            if p["last"] is None:
                return _("审计日志中没有记录，但链头文件记录至记录 #%(seq)s（%(at)s）："
                         "记录 #1–#%(seq)s 被删除") % p
            return _("记录 #%(last)s 之后缺失记录 #%(missing)s"
                     "（末尾的记录被删除，链头文件记录至记录 #%(seq)s，%(at)s）") % p
        if self.kind == UNSEALED_STALE:
            return _("%(pending)s 条审计记录等待封存，最早的（记录 #%(seq)s）已等待 %(age)s 秒，"
                     "超过 %(limit)s 秒：封存任务（audit_seal）未运行") % p
        if self.kind == HEAD_MALFORMED:
            return _("链头文件 %(path)s 第 %(line)s 行无法识别：该文件被改动") % p
        return f"{self.kind} #{self.seq}"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "seq": self.seq, "message": self.message, **self.params}


@dataclass
class VerificationResult:
    from_seq: int
    records_checked: int = 0
    checkpoints_checked: int = 0
    last_seq: int | None = None
    # The newest valid checkpoint's record (None: none) and how many records follow it.
    sealed_through: int | None = None
    unsealed: int = 0
    # Lines of the head file compared (None: the file does not exist).
    head_entries_checked: int | None = None
    # Records written and not yet sealed into the chain, and the age of the oldest (seconds).
    pending: int = 0
    pending_oldest_age_seconds: float | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def as_dict(self) -> dict[str, Any]:
        return {"intact": self.intact, "from_seq": self.from_seq,
                "records_checked": self.records_checked,
                "checkpoints_checked": self.checkpoints_checked, "last_seq": self.last_seq,
                "sealed_through": self.sealed_through, "unsealed": self.unsealed,
                "head_entries_checked": self.head_entries_checked,
                "pending": self.pending,
                "pending_oldest_age_seconds": self.pending_oldest_age_seconds,
                "problems": [p.as_dict() for p in self.problems]}


def _span(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}–#{last}"


def _when(at: dt.datetime) -> str:
    return date_format(timezone.localtime(at), "Y-m-d H:i:s")


def digest_of(row: Any, *, seq: int | None = None) -> str:
    """The hash ``row`` should carry (under ``seq`` instead of its own number, if given); empty
    when its algorithm or digest version is none the platform knows (it was altered)."""
    try:
        return _digest_of(row, seq=seq)
    except ValueError:
        return ""


def _digest_of(row: Any, *, seq: int | None) -> str:
    return record_digest(seq=row.seq if seq is None else seq, at=row.at.isoformat(),
                         actor_id=row.actor_id, actor_name=row.actor_name, action=row.action,
                         object_type=row.object_type, object_id=row.object_id, detail=row.detail,
                         prev_hash=row.prev_hash, algorithm=row.algorithm,
                         version=row.digest_version)


def _rows() -> Any:
    """The sealed records (those written since wait for the sealer: ``sealing.py``)."""
    return (AuditRecord.objects.filter(hash__isnull=False).order_by("seq")
            .values_list(*FIELDS, named=True))


def _row_by_seq(seq: int) -> Any:
    return _rows().filter(seq=seq).first()


def _row_by_hash(digest: str) -> Any:
    return _rows().filter(hash=digest).first()


def original_seq(row: Any, depth: int = TRACE_DEPTH) -> int | None:
    """The number ``row`` was written with: the one under which its content hashes to its hash.

    That is its own when the record verifies; otherwise one more than its predecessor's (the
    record its ``prev_hash`` names), traced back at most ``depth`` records; the few numbers around its
    own are tried first. ``None``: no number
    explains the hash — the content was changed.
    """
    if digest_of(row) == row.hash:
        return int(row.seq)
    # Renumbered by a few places (records inserted or deleted nearby): try the numbers around.
    for distance in range(1, NEARBY + 1):
        for candidate in (row.seq - distance, row.seq + distance):
            if candidate >= 1 and digest_of(row, seq=candidate) == row.hash:
                return int(candidate)
    if row.prev_hash == GENESIS:
        candidate = 1
    else:
        if depth <= 0:
            return None
        predecessor = _row_by_hash(row.prev_hash)
        if predecessor is None:
            return None
        before = original_seq(predecessor, depth - 1)
        if before is None:
            return None
        candidate = before + 1
    return candidate if digest_of(row, seq=candidate) == row.hash else None


def _diagnose(row: Any, *, expected_seq: int | None, expected_prev: str | None,
              prev_seq: int | None, prev_prev_hash: str | None,
              min_version: int = 1) -> Problem | None:
    """What is wrong at ``row``, given what the chain so far leads to expect (None: fine).

    ``min_version``: the digest version of the record before; a record never goes back to an
    older formula (which would leave some of its columns outside its hash)."""
    seq = int(row.seq)
    if int(row.digest_version) < min_version:
        return Problem(MODIFIED, seq)
    content_ok = digest_of(row) == row.hash
    link_ok = expected_prev is None or row.prev_hash == expected_prev
    # Numbers rise; one skipped where the link holds was never committed (a rolled-back
    # transaction drew it, docs/audit.md): the record chains to its predecessor all the same.
    seq_ok = expected_seq is None or seq == expected_seq or (
        seq > expected_seq and expected_prev is not None and link_ok)
    if content_ok and link_ok and seq_ok:
        return None
    if not content_ok:
        return _diagnose_content(row)
    if not seq_ok and expected_seq is not None and seq > expected_seq:
        # A record in the gap whose hash was emptied (made to look unsealed): modified.
        hidden = (AuditRecord.objects.filter(seq__gte=expected_seq, seq__lt=seq, hash__isnull=True)
                  .order_by("seq").values_list("seq", flat=True).first())
        if hidden is not None:
            return Problem(MODIFIED, int(hidden))
        return Problem(MISSING, seq, {"missing": _span(expected_seq, seq - 1)})
    # Content and numbering fine, but the link to the predecessor broken.
    if prev_seq is None:  # the first record of the log claims a predecessor
        return Problem(INSERTED, seq)
    if prev_prev_hash is not None and row.prev_hash == prev_prev_hash:
        return Problem(INSERTED, prev_seq)  # this record skips its predecessor
    named = _row_by_hash(row.prev_hash)
    if named is None:
        # The predecessor's hash was rewritten (or the predecessor replaced by another record).
        return Problem(MODIFIED, prev_seq)
    if int(named.seq) < prev_seq - 1:
        return Problem(INSERTED, seq)  # chains to an earlier record: forged and added here
    return Problem(MODIFIED, prev_seq)


def _diagnose_content(row: Any) -> Problem:
    seq = int(row.seq)
    original = original_seq(row)
    if original is None or original == seq:
        return Problem(MODIFIED, seq)
    partner = _row_by_seq(original)
    if partner is not None and original_seq(partner) == seq:
        return Problem(REORDERED, seq, {"other": original, "swapped": True})
    if original < seq and partner is not None and digest_of(partner) == partner.hash:
        # Renumbered upwards by (seq - original): records were inserted from #original on.
        return Problem(INSERTED, original)
    if original > seq:
        return Problem(MISSING, seq, {"missing": _span(seq, original - 1), "renumbered": True})
    return Problem(REORDERED, seq, {"other": original, "swapped": False})


def _check_signatures(checkpoints: list[AuditCheckpoint],
                      keys: dict[str, PublicKey]) -> tuple[list[AuditCheckpoint], list[Problem]]:
    valid, problems = [], []
    for cp in checkpoints:
        key = keys.get(cp.key_id)
        params = {"at": _when(cp.at), "checkpoint": cp.pk, "key": cp.key_id}
        if key is None or key.algorithm != cp.signature_algorithm:
            problems.append(Problem(CHECKPOINT_KEY, cp.seq, params))
            continue
        try:
            signature = bytes.fromhex(cp.signature)
        except ValueError:
            signature = b""
        if not key.verify(cp.signed_message(), signature):
            problems.append(Problem(CHECKPOINT_SIGNATURE, cp.seq, params))
            continue
        valid.append(cp)
    return valid, problems


def verify_chain(*, from_seq: int = 1, keys: dict[str, PublicKey] | None = None,
                 progress: Callable[[int], None] | None = None, check_age: bool = True,
                 now: dt.datetime | None = None, workers: int = 1) -> VerificationResult:
    """Verify the records from ``from_seq`` on, the checkpoints covering them, the head file
    kept outside the database (``head.py``) and — with ``check_age`` — that no record has waited
    longer than ``AUDIT_CHECKPOINT_MAX_AGE_MINUTES`` for a signed checkpoint nor longer than
    ``AUDIT_SEAL_MAX_AGE_SECONDS`` to be sealed.

    Reads the records in chunks of ``CHUNK`` (a server-side cursor on PostgreSQL). ``progress``
    is called with the number of records checked every ``CHUNK`` records. ``workers`` > 1 (a
    verification from record #1): the records are hashed in parallel ranges, each by its own
    process (``parallel.py``); the first range that does not verify is then walked alone to name
    the problem.
    """
    from_seq = max(1, int(from_seq))
    result = VerificationResult(from_seq=from_seq)
    keys = trusted_keys() if keys is None else keys

    checkpoints = list(AuditCheckpoint.objects.filter(seq__gte=from_seq).order_by("seq", "at"))
    valid, signature_problems = _check_signatures(checkpoints, keys)
    result.checkpoints_checked = len(checkpoints)
    by_seq: dict[int, list[AuditCheckpoint]] = defaultdict(list)
    for cp in valid:
        by_seq[cp.seq].append(cp)

    if workers > 1 and from_seq == 1:
        from .parallel import parallel_walk

        count, chain_problem = parallel_walk(by_seq, workers=workers, progress=progress)
    else:
        count, chain_problem = walk(from_seq, by_seq, progress=progress)
    result.records_checked = count

    last = AuditRecord.objects.filter(hash__isnull=False).aggregate(last=Max("seq"))["last"]
    result.last_seq = last
    problems = [*signature_problems]
    if chain_problem is not None:
        problems.append(chain_problem)
    newest = max(valid, key=lambda cp: cp.seq, default=None)
    if newest is not None and (last is None or newest.seq > last):
        first_missing = 1 if last is None else last + 1
        problems.append(Problem(TRUNCATED, newest.seq, {
            "last": last, "missing": _span(first_missing, newest.seq), "at": _when(newest.at)}))
    head_problems, result.head_entries_checked = _check_head(from_seq, last, checkpoints,
                                                             chain_problem)
    problems += head_problems
    sealed = newest if newest is not None else _newest_valid_before(from_seq, keys)
    result.sealed_through = sealed.seq if sealed is not None else None
    chained = AuditRecord.objects.filter(hash__isnull=False)
    unsealed = chained.filter(seq__gt=sealed.seq) if sealed is not None else chained
    result.unsealed = unsealed.count()
    if check_age and result.unsealed:
        stale = _stale(sealed, unsealed, result.unsealed, now or timezone.now())
        if stale is not None:
            problems.append(stale)
    pending = _pending(result, now or timezone.now())
    if check_age and pending is not None:
        problems.append(pending)
    # The first problem in the order of the chain; a record's own problem before a checkpoint's.
    order = {HEAD_MALFORMED: -1, MISSING: 0, INSERTED: 0, REORDERED: 0, MODIFIED: 0,
             CHECKPOINT_MISMATCH: 1, HEAD_MISMATCH: 1, TRUNCATED: 2, HEAD_TRUNCATED: 3,
             CHECKPOINT_DELETED: 3, CHECKPOINT_KEY: 4, CHECKPOINT_SIGNATURE: 4, STALE: 5,
             UNSEALED_STALE: 5}
    result.problems = sorted(problems, key=lambda p: (p.seq, order.get(p.kind, 9)))
    return result


def walk(from_seq: int, by_seq: dict[int, list[AuditCheckpoint]], *,
         progress: Callable[[int], None] | None = None, until_seq: int | None = None,
         count_from: int | None = None) -> tuple[int, Problem | None]:
    """Walk the sealed records from ``from_seq`` (to ``until_seq``, exclusive) in order:
    (records checked, the first problem). Checkpoint counts are checked when the walk starts at
    record #1, or from ``count_from`` records before ``from_seq``."""
    min_version = 1
    before = None
    if from_seq > 1:
        before = _rows().filter(seq__lt=from_seq).order_by("-seq").first()
    if before is None:
        prev_seq: int | None = None
        expected_seq: int | None = 1 if from_seq == 1 else None
        expected_prev: str | None = GENESIS if from_seq == 1 else None
    else:
        prev_seq = int(before.seq)
        expected_seq = prev_seq + 1
        expected_prev = before.hash
        min_version = int(before.digest_version)
    counted = 0 if from_seq == 1 else count_from
    prev_prev_hash: str | None = None
    chain_problem: Problem | None = None
    count = 0
    rows = _rows().filter(seq__gte=from_seq)
    if until_seq is not None:
        rows = rows.filter(seq__lt=until_seq)
    for row in rows.iterator(chunk_size=CHUNK):
        count += 1
        chain_problem = _diagnose(row, expected_seq=expected_seq, expected_prev=expected_prev,
                                  prev_seq=prev_seq, prev_prev_hash=prev_prev_hash,
                                  min_version=min_version)
        if chain_problem is None:
            for cp in by_seq.get(int(row.seq), ()):
                if cp.record_hash != row.hash or (counted is not None
                                                  and cp.count != counted + count):
                    chain_problem = Problem(CHECKPOINT_MISMATCH, int(row.seq),
                                            {"at": _when(cp.at), "checkpoint": cp.pk})
                    break
        if chain_problem is not None:
            break
        prev_prev_hash, expected_prev = expected_prev, row.hash
        prev_seq = int(row.seq)
        expected_seq = prev_seq + 1
        min_version = max(min_version, int(row.digest_version))
        if progress is not None and count % CHUNK == 0:
            progress(count)
    return count, chain_problem


def _pending(result: VerificationResult, now: dt.datetime) -> Problem | None:
    """Fill in the unsealed tail; a problem when its oldest record is older than allowed."""
    tail = (AuditRecord.objects.filter(hash__isnull=True).order_by("at")
            .values_list("seq", "at").first())
    if tail is None:
        return None
    result.pending = AuditRecord.objects.filter(hash__isnull=True).count()
    age = max(0.0, (now - tail[1]).total_seconds())
    result.pending_oldest_age_seconds = round(age, 1)
    limit = int(settings.AUDIT_SEAL_MAX_AGE_SECONDS)
    if limit <= 0 or age <= limit:
        return None
    return Problem(UNSEALED_STALE, int(tail[0]), {"pending": result.pending, "age": int(age),
                                                  "limit": limit})


def incremental_start(keys: dict[str, PublicKey] | None = None) -> int:
    """Where a verification need start: the record of the newest validly signed checkpoint
    (each checkpoint was signed only after the records since the one before verified, and its
    record's hash is compared with the signed one again), or #1 without one."""
    keys = trusted_keys() if keys is None else keys
    candidates = list(AuditCheckpoint.objects.order_by("-seq", "-at")[:8])
    valid, _problems = _check_signatures(candidates, keys)
    return int(valid[0].seq) if valid else 1


def _newest_valid_before(from_seq: int, keys: dict[str, PublicKey]) -> AuditCheckpoint | None:
    """The newest validly signed checkpoint before ``from_seq`` (a verification from a later
    record still says what is sealed)."""
    if from_seq <= 1:
        return None
    candidates = list(AuditCheckpoint.objects.filter(seq__lt=from_seq).order_by("-seq", "-at")[:8])
    valid, _problems = _check_signatures(candidates, keys)
    return valid[0] if valid else None


def _stale(sealed: AuditCheckpoint | None, unsealed: Any, count: int,
           now: dt.datetime) -> Problem | None:
    """A problem when records have waited for a checkpoint longer than the schedule allows: the
    newest checkpoint, and the oldest record after it, both older than the allowed age."""
    minutes = int(settings.AUDIT_CHECKPOINT_MAX_AGE_MINUTES)
    if minutes <= 0:
        return None
    limit = now - dt.timedelta(minutes=minutes)
    if sealed is not None and sealed.at >= limit:
        return None
    oldest = unsealed.order_by("seq").values_list("seq", "at").first()
    if oldest is None or oldest[1] >= limit:
        return None
    return Problem(STALE, int(oldest[0]), {
        "unsealed": count, "minutes": minutes, "sealed": sealed.seq if sealed else None,
        "checkpoint_at": _when(sealed.at) if sealed is not None else None})


def _check_head(from_seq: int, last: int | None, checkpoints: list[AuditCheckpoint],
                chain_problem: Problem | None) -> tuple[list[Problem], int | None]:
    """Compare the head file with the database: every record line must name a record that is
    still there with the same hash, every checkpoint line a checkpoint still there. Returns the
    problems (the first rewritten or missing record, the furthest record beyond the chain's end,
    each deleted checkpoint, the first unreadable line) and the number of lines compared (None:
    no head file).

    Where the walk already broke (``chain_problem``), it names the tampering better: a record
    the file names differently from there on, or missing within the chain, is not repeated."""
    path = head.head_path()
    if not path.exists():
        return [], None
    problems: list[Problem] = []
    first_bad: Problem | None = None
    beyond: head.Entry | None = None
    stored = {(cp.seq, cp.record_hash, head.checkpoint_at(cp.at)) for cp in checkpoints}
    seen_checkpoints: set[tuple[int, str, str]] = set()
    batch: list[head.Entry] = []
    compared = 0

    def flush() -> None:
        nonlocal first_bad, beyond
        hashes = dict(AuditRecord.objects.filter(seq__in={e.seq for e in batch})
                      .values_list("seq", "hash"))
        for entry in batch:
            if last is None or entry.seq > last:
                if beyond is None or entry.seq > beyond.seq:
                    beyond = entry
                continue
            found = hashes.get(entry.seq)
            if found == entry.digest or (first_bad is not None and first_bad.seq <= entry.seq):
                continue
            if chain_problem is not None and (found is None or entry.seq >= chain_problem.seq):
                continue
            first_bad = Problem(HEAD_MISMATCH, entry.seq,
                                {"at": _when_iso(entry.at), "absent": found is None})
        batch.clear()

    for entry in head.entries(from_seq):
        if isinstance(entry, int):
            if not any(p.kind == HEAD_MALFORMED for p in problems):
                problems.append(Problem(HEAD_MALFORMED, 0, {"line": entry, "path": str(path)}))
            continue
        if entry.seq < from_seq:
            continue
        compared += 1
        if entry.kind == head.CHECKPOINT:
            key = (entry.seq, entry.digest, entry.at)
            if key not in stored and key not in seen_checkpoints:
                problems.append(Problem(CHECKPOINT_DELETED, entry.seq, {"at": _when_iso(entry.at)}))
            seen_checkpoints.add(key)
            continue
        batch.append(entry)
        if len(batch) >= HEAD_BATCH:
            flush()
    if batch:
        flush()
    if first_bad is not None:
        problems.append(first_bad)
    if beyond is not None:
        first_missing = 1 if last is None else last + 1
        problems.append(Problem(HEAD_TRUNCATED, beyond.seq, {
            "last": last, "missing": _span(first_missing, beyond.seq),
            "at": _when_iso(beyond.at)}))
    return problems, compared


def _when_iso(at: str) -> str:
    try:
        return _when(dt.datetime.fromisoformat(at))
    except ValueError:
        return at
