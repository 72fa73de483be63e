"""Validation errors that say what and where, in Chinese with English available.

Services raise :class:`RuleViolation` with a list of :class:`Problem`. Each problem names the
field (and, for workbooks, the sheet, row and column) and carries a lazily translated message,
so the same error reads in Chinese by default and in English when the user asked for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.encoding import force_str


@dataclass
class Problem:
    field: str
    message: Any  # a lazy translation string or plain str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"field": self.field, "message": force_str(self.message)}
        if self.sheet is not None:
            data.update({"sheet": self.sheet, "row": self.row, "column": self.column})
        return data

    def __str__(self) -> str:
        where = ""
        if self.sheet is not None:
            where = f"[{self.sheet} 第{self.row}行 {self.column}] "
        elif self.field:
            where = f"[{self.field}] "
        return f"{where}{force_str(self.message)}"


@dataclass
class RuleViolation(Exception):
    """Raised by a service when input breaks a rule; nothing has been saved.

    ``on_rollback``: records of the refused attempt itself that must survive it (an audit
    record, a supervision record). A service called inside a caller's transaction cannot
    commit them, since the caller rolls back with the refusal; it leaves them here and the door
    that opened the transaction runs them after its rollback (:meth:`run_on_rollback`).
    """

    problems: list[Problem] = field(default_factory=list)
    on_rollback: list[Callable[[], Any]] = field(default_factory=list, compare=False)

    def run_on_rollback(self) -> None:
        """Write the records of the refusal, once, after the caller's transaction was undone."""
        pending, self.on_rollback = self.on_rollback, []
        for record in pending:
            record()

    def __str__(self) -> str:
        return "; ".join(str(p) for p in self.problems)

    def as_list(self) -> list[dict[str, Any]]:
        return [p.as_dict() for p in self.problems]


def inside_callers_transaction() -> bool:
    """Whether a service runs inside a transaction its caller opened (whose rollback would undo
    what the service commits). The atomic blocks Django's test cases wrap each test in are not a
    caller's: they are marked ``_from_testcase``."""
    return any(not getattr(block, "_from_testcase", False)
               for block in transaction.get_connection().atomic_blocks)


class AccessDenied(Exception):
    """Raised by a service when the acting user may not do this."""


# --- database lock failures ---------------------------------------------------------------------

DEADLOCK = "deadlock"
LOCK_TIMEOUT = "lock_timeout"


def lock_failure(exc: BaseException) -> str | None:
    """What kind of lock failure a database error is, by its code rather than its wording.

    ``DEADLOCK``: PostgreSQL chose this transaction as a deadlock's victim (SQLSTATE 40P01) and
    rolled it back; running it again usually succeeds. ``LOCK_TIMEOUT``: a lock was not granted
    in time (PostgreSQL 55P03 ``lock_not_available``; SQLite "database is locked" after its busy
    timeout); the database is busy and the client may retry later. ``None`` for anything else,
    which is a fault and must not be dressed up as "busy".
    """
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if sqlstate == "40P01":
        return DEADLOCK
    if sqlstate == "55P03":
        return LOCK_TIMEOUT
    if sqlstate is None and str(exc).startswith("database is locked"):
        return LOCK_TIMEOUT
    return None
