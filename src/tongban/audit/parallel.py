"""The full verification in parallel ranges (``tongban verify_audit --full``).

The sealed records are cut into ranges of ``seq``; each range is hashed by its own process
(its own database connection), which checks every record's hash, the links inside the range,
and the checkpoints that name one of its records (hash, and the count within the range). The
ranges are then stitched: each range's first record must link to the previous range's last,
with digest versions never going back, and the checkpoints' counts add up across ranges. The
first range that fails — or the pair whose seam fails — is walked again in order by
``verification.walk``, which names the problem exactly as a sequential verification would.
"""

from __future__ import annotations

import itertools
import multiprocessing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connections
from django.db.models import Max, Min

from .models import AuditCheckpoint, AuditRecord
from .services import GENESIS

# Records per range (at least): small ranges cost a query each, large ones balance worse.
RANGE = 100_000


@dataclass
class Span:
    """What one range found."""

    lo: int
    hi: int  # exclusive
    count: int = 0
    first_prev: str | None = None
    first_version: int = 0
    last_hash: str | None = None
    max_version: int = 1
    bad: bool = False
    checkpoint_counts: dict[int, int] = field(default_factory=dict)  # pk -> records up to it


def _scan(lo: int, hi: int, checkpoints: dict[int, list[tuple[int, str]]]) -> Span:
    from .verification import FIELDS, digest_of

    span = Span(lo, hi)
    rows = (AuditRecord.objects.filter(hash__isnull=False, seq__gte=lo, seq__lt=hi)
            .order_by("seq").values_list(*FIELDS, named=True))
    for row in rows.iterator(chunk_size=5000):
        span.count += 1
        version = int(row.digest_version)
        if span.first_prev is None:
            span.first_prev, span.first_version = row.prev_hash, version
        elif row.prev_hash != span.last_hash or version < span.max_version:
            span.bad = True
            break
        if digest_of(row) != row.hash:
            span.bad = True
            break
        for pk, record_hash in checkpoints.get(int(row.seq), ()):
            if record_hash != row.hash:
                span.bad = True
            span.checkpoint_counts[pk] = span.count
        if span.bad:
            break
        span.last_hash = row.hash
        span.max_version = max(span.max_version, version)
    return span


def _scan_in_child(args: tuple[int, int, dict[int, list[tuple[int, str]]]]) -> Span:
    try:
        return _scan(*args)
    finally:
        connections.close_all()


def parallel_walk(by_seq: dict[int, list[AuditCheckpoint]], *, workers: int,
                  progress: Callable[[int], None] | None = None,
                  range_size: int = RANGE) -> tuple[int, Any]:
    """The chain from record #1 in parallel ranges: (records checked, the first problem)."""
    from .verification import walk

    bounds = AuditRecord.objects.filter(hash__isnull=False).aggregate(lo=Min("seq"), hi=Max("seq"))
    if bounds["lo"] is None:
        return walk(1, by_seq, progress=progress)
    lo, hi = int(bounds["lo"]), int(bounds["hi"]) + 1
    step = max(range_size, -(-(hi - lo) // (workers * 4)))
    edges = [*range(lo, hi, step), hi]
    edges[0] = 1
    checkpoints: dict[int, list[tuple[int, str]]] = {
        seq: [(cp.pk, cp.record_hash) for cp in cps] for seq, cps in by_seq.items()}
    jobs = []
    for a, b in itertools.pairwise(edges):
        mine = {s: c for s, c in checkpoints.items() if a <= s < b}
        jobs.append((a, b, mine))
    # Forking needs the records committed and this connection closed: not inside a transaction.
    if workers > 1 and len(jobs) > 1 and not connections["default"].in_atomic_block:
        connections.close_all()  # the children open their own connections, never this one
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(min(workers, len(jobs))) as pool:
            spans = []
            for span in pool.imap(_scan_in_child, jobs):
                spans.append(span)
                if progress is not None:
                    progress(sum(s.count for s in spans))
    else:
        spans = [_scan(*job) for job in jobs]
    return _stitch(spans, by_seq, progress)


def _stitch(spans: list[Span], by_seq: dict[int, list[AuditCheckpoint]],
            progress: Callable[[int], None] | None) -> tuple[int, Any]:
    from .verification import walk

    counts = {cp.pk: cp.count for cps in by_seq.values() for cp in cps}
    total = 0
    last_hash: str | None = GENESIS
    max_version = 1
    for i, span in enumerate(spans):
        seam_ok = span.count == 0 or (span.first_prev == last_hash
                                      and span.first_version >= max_version)
        counts_ok = all(counts[pk] == total + n for pk, n in span.checkpoint_counts.items())
        if span.bad or not seam_ok or not counts_ok:
            # Walk from the range before a broken seam (its end may be what was changed).
            start = spans[i - 1].lo if not seam_ok and i > 0 else span.lo
            before = sum(s.count for s in spans[:spans.index(span) if start == span.lo else i - 1])
            count, problem = walk(start, by_seq, progress=progress, count_from=before)
            if problem is None:  # not where the ranges pointed: walk it all
                return walk(1, by_seq, progress=progress)
            return before + count, problem
        if span.count:
            last_hash, max_version = span.last_hash, max(max_version, span.max_version)
        total += span.count
    return total, None
