"""The state machine of a case and what every transition does: lock the row (and check the
version the caller saw), check the move is allowed, write the status, the history event and the
audit record, issue a notice, queue the notifications after commit; and the due instant.

The state machine is ``TRANSITIONS``: action → (states it may start from, state it leads to).
Concurrency: each service locks the case row and, when the caller passes the version it saw
(``expected_version``), refuses with :class:`CaseConflict` if someone acted first; the status
check after the lock makes the second of two simultaneous actions fail cleanly either way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.accounts.permissions import account_of
from tongban.audit.services import audit_append
from tongban.cases.workflows import services as workflows
from tongban.cases.workflows.models import StepTask, TaskStatus
from tongban.clock import selectors as clock
from tongban.clock.deadline import Stop, compute_deadline
from tongban.core import prepared, rows
from tongban.core.errors import AccessDenied, Problem, RuleViolation

from .. import detail_reads
from ..models import Case, CaseEvent, Notice, Status

S = Status
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "submit": (frozenset({S.DRAFT}), S.SUBMITTED),
    "pre_review": (frozenset({S.SUBMITTED}), S.PRE_REVIEW),
    "request_supplement": (frozenset({S.SUBMITTED, S.PRE_REVIEW, S.ACCEPTED}), S.SUPPLEMENT),
    # Back to where it was: submitted before acceptance, accepted after.
    "supply": (frozenset({S.SUPPLEMENT}), None),
    "accept": (frozenset({S.SUBMITTED, S.PRE_REVIEW}), S.ACCEPTED),
    # 行政许可法 Art. 32: no answer within five working days of receipt is acceptance.
    "accept_by_law": (frozenset({S.SUBMITTED, S.PRE_REVIEW}), S.ACCEPTED),
    "refuse": (frozenset({S.SUBMITTED, S.PRE_REVIEW}), S.REFUSED),
    "step": (frozenset({S.ACCEPTED}), S.ACCEPTED),
    "suspend": (frozenset({S.ACCEPTED}), S.SUSPENDED),  # 特别程序 (Art. 45)
    "halt": (frozenset({S.ACCEPTED}), S.HALTED),  # 中止
    "resume": (frozenset({S.SUSPENDED, S.HALTED}), S.ACCEPTED),
    "request_extension": (frozenset({S.ACCEPTED, S.SUSPENDED}), None),
    "extend": (frozenset({S.ACCEPTED, S.SUSPENDED}), None),
    "approve": (frozenset({S.ACCEPTED}), S.APPROVED),
    "deny": (frozenset({S.ACCEPTED}), S.DENIED),
    "deliver": (frozenset({S.APPROVED, S.DENIED}), S.DELIVERED),
    # 人工复核 (个人信息保护法 Art. 24): a decision made automatically (秒批) goes to a human again.
    "reopen": (frozenset({S.APPROVED, S.DENIED, S.DELIVERED}), S.ACCEPTED),
    "withdraw": (frozenset({S.DRAFT, S.SUBMITTED, S.PRE_REVIEW, S.SUPPLEMENT, S.ACCEPTED,
                            S.SUSPENDED, S.HALTED}), S.WITHDRAWN),
    "terminate": (frozenset({S.SUPPLEMENT, S.ACCEPTED, S.SUSPENDED, S.HALTED}), S.TERMINATED),
    "record_visit": (frozenset(set(S) - {S.DRAFT}), None),
}
FINAL = frozenset({S.DELIVERED, S.REFUSED, S.WITHDRAWN, S.TERMINATED})

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor


class CaseConflict(RuleViolation):
    """Someone else acted on the case first; reload and try again."""


def _conflict(message: Any) -> CaseConflict:
    return CaseConflict([Problem("version", message)])


def _deny() -> AccessDenied:
    return AccessDenied(_("您无权对该办件执行此操作"))



# --- the core of every transition -------------------------------------------------------------

# Every transition starts here; the statement is compiled once (``core.prepared``) and reads the
# case row only. The item version and the workflow version a case runs under never change once
# published or saved (an edit makes a new version), so they come from this process's copy
# instead of being joined and rebuilt at every step; the department and hall load on first use.
_LOCKED = prepared.Lookup(lambda pk: Case.objects.select_for_update().filter(pk=pk))
_LOCKED_TASK = prepared.Lookup(lambda pk: StepTask.objects.select_for_update().filter(pk=pk))


def _lock(case: Case | int, expected_version: int | None) -> Case:
    pk = case if isinstance(case, int) else case.pk
    locked = _LOCKED.get(pk)
    if expected_version is not None and expected_version > locked.version:
        # Not someone else's change: a version the case never had is the caller's mistake.
        raise RuleViolation([Problem("expected_version", _("版本号%(seen)s无效：该办件当前为版本%(now)s") % {
            "now": locked.version, "seen": expected_version})])
    if expected_version is not None and locked.version != expected_version:
        raise _conflict(_("该办件已被他人处理（版本%(now)s，您看到的是版本%(seen)s），请刷新后重试") % {
            "now": locked.version, "seen": expected_version})
    return detail_reads.attach_versions(locked)


def _check(case: Case, action: str) -> None:
    allowed, _to = TRANSITIONS[action]
    if case.status not in allowed:
        raise _conflict(_("办件当前状态为“%(status)s”，不能执行“%(action)s”") % {
            "status": S(case.status).label, "action": ACTION_LABELS.get(action, action)})


class EventRef(NamedTuple):
    """A history event as written: its key and number (what the work after the commit needs;
    the row is not built as a model instance)."""

    pk: int
    seq: int


# Every transition appends one event and one audit record: each row is written from its values
# by one statement compiled once (``core.rows.Insert``), no model instance built.
_EVENT_ROW = rows.Insert(CaseEvent, ("case", "seq", "at", "actor", "actor_name", "action",
                                         "from_status", "to_status", "reason", "data"))


def _event(case: Case, *, actor: Actor, action: str, from_status: str, reason: str = "",
           data: dict[str, Any] | None = None, at: dt.datetime | None = None,
           counted: bool = False) -> EventRef:
    """Append the case's next history event and its audit record.

    ``counted``: the caller has already raised ``case.event_count`` and written it with its own
    update of the locked case row (``_move``, ``case_create``); otherwise it is written here.
    """
    if not counted:
        case.event_count += 1
        prepared.update(case, ["event_count"])
    seq = case.event_count
    user = account_of(actor)
    pk = _EVENT_ROW.run((case.pk, seq, at or timezone.now(), user.pk if user else None,
                         str(actor) if actor else "", action, from_status, case.status, reason,
                         data or {}))
    audit_append(actor=actor, action=f"case.{action}", object_type="case",
                 object_id=case.number or case.pk,
                 detail={"from": from_status, "to": case.status, "event": seq})
    return EventRef(pk, seq)


def _move(case: Case, action: str, *, actor: Actor, to: str | None = None, reason: str = "",
          data: dict[str, Any] | None = None, fields: Sequence[str] = (),
          at: dt.datetime | None = None) -> EventRef:
    """Apply ``action``: status change, version bump, history event and audit, together."""
    _check(case, action)
    before = case.status
    target = to or TRANSITIONS[action][1] or before
    case.status = target
    case.version += 1  # the row is locked (``_lock``): nobody else changes it meanwhile
    case.event_count += 1
    prepared.update(case, ["status", "version", "event_count", *fields])
    return _event(case, actor=actor, action=action, from_status=before, reason=reason,
                  data=data, at=at, counted=True)


ACTION_LABELS = {
    "submit": _("提交"), "pre_review": _("预审"), "request_supplement": _("一次性告知补正"),
    "supply": _("补正材料"), "accept": _("受理"), "accept_by_law": _("依法视为受理"),
    "refuse": _("不予受理"), "step": _("办理"), "suspend": _("特别程序"), "halt": _("中止办理"),
    "resume": _("恢复计时"), "request_extension": _("申请延期"),
    "extend": _("批准延期"), "approve": _("准予办理"), "deny": _("不予办理"),
    "deliver": _("送达"), "withdraw": _("撤回"), "terminate": _("终止"),
    "record_visit": _("登记跑动"), "reopen": _("申请人工复核"),
}


def _require_reason(reason: str, field: str = "reason") -> None:
    if not reason.strip():
        raise RuleViolation([Problem(field, _("须填写理由"))])


def refresh_due(case: Case, *, now: dt.datetime | None = None,
                stops: Sequence[Stop] | None = None) -> None:
    """Recompute the due instant from acceptance, clock stops and approved extensions
    (``stops``: the case's own clock stops unless given)."""
    if case.accepted_at is None:
        return
    version = case.item_version
    if stops is None:
        stops = [Stop(s.started_at, s.ended_at or (now or timezone.now()))
                 for s in case.clock_stops.all()]
    result = compute_deadline(
        start=case.accepted_at, category=version.commitment, limit=version.committed_limit,
        unit=version.committed_limit_unit, stops=stops,
        extension_working_days=case.extension_working_days, calendar=clock.work_calendar(),
        hours=clock.office_hours(case.hall_id), same_day_cutoff=clock.same_day_cutoff())
    case.due_at, case.due_provisional = result.due, result.provisional


_NOTICE_ROW = rows.Insert(Notice, ("case", "kind", "number", "issued_at", "issued_by", "body",
                                       "resolved_at"))
_NOTICE_PREFIX = {"acceptance": "SL", "supplement": "BZ", "refusal": "BY", "suspension": "TB",
                  "halt": "ZZ", "extension": "YQ", "decision": "JD"}
# Acceptance and refusal happen once in a case's life (the state machine allows no second one);
# the others may repeat and are numbered in turn (a decision, after a human review of an
# automatic one: ``reopen``).
_ONCE = frozenset({Notice.Kind.ACCEPTANCE, Notice.Kind.REFUSAL})


def _notice(case: Case, kind: str, *, actor: Actor, body: dict[str, Any]) -> Notice:
    prefix = _NOTICE_PREFIX[kind]
    count = 1 if kind in _ONCE else case.notices.filter(kind=kind).count() + 1
    number, issued_at, user = f"{prefix}{case.number}-{count}", timezone.now(), account_of(actor)
    pk = _NOTICE_ROW.run((case.pk, kind, number, issued_at, user.pk if user else None, body, None))
    # Returned as written (the supplement and refusal services return it to their callers).
    notice = Notice(pk=pk, case=case, kind=kind, number=number, issued_at=issued_at,
                    issued_by=user, body=body)
    notice._state.adding = False
    notice._state.db = DEFAULT_DB_ALIAS
    return notice


def _after_commit(event: EventRef) -> None:
    """Work after the transition commits: notifications to applicant and handlers, sent by a
    background task that runs only if the transition commits."""
    from tongban.cases.notifications.tasks import send_case_event
    from tongban.scheduling.queue import enqueue_after_commit

    enqueue_after_commit(send_case_event, event.pk)


def _check_task(actor: Actor, case: Case, task: StepTask, action: str) -> StepTask:
    """The open step ``task`` of ``case``, locked, if ``actor`` may take ``action`` on it."""
    task = _LOCKED_TASK.get(task.pk)
    if task.case_id != case.pk:
        raise RuleViolation([Problem("task", _("任务不属于该办件"))])
    if task.status != TaskStatus.OPEN:
        raise _conflict(_("该环节已办理"))
    return _check_action(actor, case, task, action)


# A step's work reads every open step of its case (which steps may open next), so the step
# acted on is locked with them in one statement.
_LOCKED_OPEN_TASKS = prepared.Lookup(lambda pk: StepTask.objects.select_for_update().filter(
    case_id=pk, status=TaskStatus.OPEN).order_by("pk"))


def _check_open_task(actor: Actor, case: Case, task: StepTask, action: str
                     ) -> tuple[StepTask, list[StepTask]]:
    """``_check_task``, and the case's other open steps, all locked by one statement."""
    others = _LOCKED_OPEN_TASKS.all(case.pk)
    for index, candidate in enumerate(others):
        if candidate.pk == task.pk:
            del others[index]
            return _check_action(actor, case, candidate, action), others
    # Not an open step of this case: the task's own row says why.
    return _check_task(actor, case, task, action), others


def _check_action(actor: Actor, case: Case, task: StepTask, action: str) -> StepTask:
    if not workflows.can_work_on(actor, task):
        raise _deny()
    step = workflows.definition_of(case).step(task.step_key)
    if action not in step.actions:
        raise RuleViolation([Problem("action", _("环节“%(step)s”不允许此操作") % {"step": step.name})])
    return task
