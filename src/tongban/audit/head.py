"""The chain head kept outside the database: an append-only file of every committed head.

Whoever can alter the database could otherwise delete or rewrite the records after the newest
signed checkpoint, delete that checkpoint and what follows, or empty the table, and leave a
chain that verifies. So each committed record appends one line with its number and hash, and
each checkpoint one line, to ``TONGBAN_AUDIT_HEAD_FILE`` (default ``DATA_DIR/audit-head.log``);
``verify_audit`` checks that the database still holds every line of it.

One line each, ASCII, fields separated by one space (times in UTC, ISO 8601)::

    record <seq> <hash> <at>
    checkpoint <seq> <record_hash> <at> <key_id>

Lines are appended with ``O_APPEND`` in one ``write`` each (whole lines even with several
processes); concurrent commits may write them slightly out of ``seq`` order. A line is written
after its transaction commits, so a rolled-back record leaves none; a process killed between the
commit and the write leaves its record out (the file then vouches for less, never for more).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

log = logging.getLogger(__name__)

RECORD = "record"
CHECKPOINT = "checkpoint"


@dataclass(frozen=True)
class Entry:
    kind: str  # RECORD or CHECKPOINT
    seq: int
    digest: str
    at: str  # UTC, ISO 8601, as written
    key_id: str = ""
    line: int = 0  # its line number in the file


def head_path() -> Path:
    configured = getattr(settings, "AUDIT_HEAD_FILE", "")
    return Path(configured) if configured else Path(settings.DATA_DIR) / "audit-head.log"


def _utc(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat()


def _append(line: str) -> None:
    path = head_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, (line + "\n").encode("ascii"))
        finally:
            os.close(fd)
    except OSError:
        # The action itself is committed; the file only lags (verify_audit still checks the rest).
        log.exception("could not append the audit chain head to %s", path)


def write_record(seq: int, digest: str, at: dt.datetime) -> None:
    _append(f"{RECORD} {seq} {digest} {_utc(at)}")


def write_records(records: list[tuple[int, str, dt.datetime]]) -> None:
    """The lines of a sealed batch, ``(seq, hash, at)`` each, in one append."""
    if records:
        _append("\n".join(f"{RECORD} {seq} {digest} {_utc(at)}" for seq, digest, at in records))


def write_checkpoint(seq: int, record_hash: str, at: dt.datetime, key_id: str) -> None:
    _append(f"{CHECKPOINT} {seq} {record_hash} {_utc(at)} {key_id}")


def checkpoint_at(at: dt.datetime) -> str:
    """A checkpoint's time as its line carries it."""
    return _utc(at)


# Lines may come out of ``seq`` order by the number of records committed concurrently: a
# start found by bisecting the file backs off this many records more.
SLACK = 10_000
_BISECT_STOP = 64 * 1024


def entries(from_seq: int = 1) -> Iterator[Entry | int]:
    """The file's lines in order: an ``Entry`` for each, or the line number of a line that is not
    one (a last line cut short by a crash is skipped). Nothing when the file does not exist.

    With ``from_seq`` beyond ``SLACK``, reading starts near the first line of that record, found
    by bisecting the file (the hourly checkpoint needs only the lines since the previous one);
    the entries before it are then not all read, and unreadable lines there are not reported
    (a verification from record #1 reads it all)."""
    path = head_path()
    if not path.exists():
        return
    with path.open("rb") as lines:
        start = _start(lines, path.stat().st_size, from_seq - SLACK) if from_seq > SLACK else 0
        if start:
            lines.seek(start)
            lines.readline()  # the rest of a line begun before
        for number, raw in enumerate(lines, start=1):
            if not raw.endswith(b"\n"):
                break  # cut short by a crash mid-write: not a statement
            entry = _parse(raw, number)
            if entry is None:
                if not start:
                    yield number
                continue
            yield entry


def _parse(raw: bytes, number: int) -> Entry | None:
    entry = _parse_line(raw, number)
    if entry is None:
        # A line torn by a crash mid-write, continued by the next append: the whole line after it.
        torn = max(raw.rfind(RECORD.encode() + b" "), raw.rfind(CHECKPOINT.encode() + b" "))
        if torn > 0:
            entry = _parse_line(raw[torn:], number)
    return entry


def _parse_line(raw: bytes, number: int) -> Entry | None:
    parts = raw.decode("ascii", errors="replace").split()
    try:
        if parts[0] == RECORD and len(parts) == 4:
            return Entry(RECORD, int(parts[1]), parts[2], parts[3], line=number)
        if parts[0] == CHECKPOINT and len(parts) == 5:
            return Entry(CHECKPOINT, int(parts[1]), parts[2], parts[3], parts[4], line=number)
    except (IndexError, ValueError):
        pass
    return None


def _start(lines: BinaryIO, size: int, target: int) -> int:
    """A byte offset before the first line of a record numbered ``target`` or more."""
    low, high = 0, size
    while high - low > _BISECT_STOP:
        middle = (low + high) // 2
        lines.seek(middle)
        lines.readline()
        entry = _parse(lines.readline(), 0)
        if entry is None or entry.seq >= target:
            high = middle
        else:
            low = middle
    return low
