"""Clock stops and extensions: special procedures (特别程序, Art. 45), suspension of the
procedure (中止), resuming, and extensions (延期, Art. 42)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.accounts.permissions import account_of
from tongban.cases.workflows.models import StepTask, TaskStatus
from tongban.clock import selectors as clock
from tongban.core.errors import Problem, RuleViolation

from .. import policies
from ..models import Case, ClockStop, Extension, HaltGround, Notice, SpecialProcedure
from .transitions import (
    _after_commit,
    _check,
    _check_task,
    _conflict,
    _deny,
    _event,
    _lock,
    _move,
    _notice,
    _require_reason,
    refresh_due,
)

# --- clock stops and extensions ---------------------------------------------------------------

# The longest special procedure the platform accepts, in working days (a year and more).
MAX_PROCEDURE_WORKING_DAYS = 365

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor


@transaction.atomic
def case_suspend(*, actor: Actor, task: StepTask, procedure: str, reason: str,
                 expected_working_days: int | None,
                 expected_version: int | None = None) -> Case:
    """特别程序 (行政许可法 Art. 45: hearing, tender, auction, inspection, testing, quarantine,
    appraisal, expert review): the clock stops; the applicant is told its kind, reason and
    duration in writing (the special-procedure notice). Kind and duration are required."""
    case = _lock(task.case_id, expected_version)
    _check(case, "suspend")
    _check_task(actor, case, task, "suspend")
    problems = []
    if procedure not in SpecialProcedure.values:
        problems.append(Problem("procedure", _(
            "须选择特别程序种类：%(kinds)s") % {"kinds": "、".join(
                str(label) for label in SpecialProcedure.labels)}))
    if not reason.strip():
        problems.append(Problem("reason", _("须填写理由")))
    if expected_working_days is None or not (
            1 <= expected_working_days <= MAX_PROCEDURE_WORKING_DAYS):
        problems.append(Problem("expected_working_days", _(
            "须书面告知特别程序所需时间：填写1至%(n)s个工作日") % {"n": MAX_PROCEDURE_WORKING_DAYS}))
    if problems:
        raise RuleViolation(problems)
    at = timezone.now()
    ClockStop.objects.create(case=case, kind=ClockStop.Kind.SPECIAL_PROCEDURE, procedure=procedure,
                             reason=reason, started_at=at,
                             expected_working_days=expected_working_days)
    notice = _notice(case, Notice.Kind.SUSPENSION, actor=actor, body={
        "procedure": procedure, "reason": reason,
        "expected_working_days": expected_working_days})
    event = _move(case, "suspend", actor=actor, reason=reason, at=at,
                  data={"notice": notice.number, "procedure": procedure,
                        "expected_working_days": expected_working_days})
    _after_commit(event)
    return case


@transaction.atomic
def case_halt(*, actor: Actor, case: Case, ground: str, reason: str,
              expected_version: int | None = None) -> Case:
    """中止: the procedure halts for a legal reason or at the applicant's request; the clock
    stops until ``case_resume``, and the applicant is told the ground and reason in writing
    (the suspension notice). The department's officers and head decide it."""
    case = _lock(case, expected_version)
    if not (policies.is_department_staff(actor, case) or policies.can_terminate(actor, case)):
        raise _deny()
    _check(case, "halt")
    problems = []
    if ground not in HaltGround.values:
        problems.append(Problem("ground", _("须选择中止事由类型：法定事由或申请人申请")))
    if not reason.strip():
        problems.append(Problem("reason", _("须填写中止理由")))
    if problems:
        raise RuleViolation(problems)
    at = timezone.now()
    ClockStop.objects.create(case=case, kind=ClockStop.Kind.SUSPENSION, ground=ground,
                             reason=reason, started_at=at)
    notice = _notice(case, Notice.Kind.HALT, actor=actor, body={"ground": ground, "reason": reason})
    event = _move(case, "halt", actor=actor, reason=reason, at=at,
                  data={"notice": notice.number, "ground": ground})
    _after_commit(event)
    return case


@transaction.atomic
def case_resume(*, actor: Actor, case: Case, expected_version: int | None = None) -> Case:
    case = _lock(case, expected_version)
    _check(case, "resume")
    if not (policies.is_department_staff(actor, case) or policies.can_terminate(actor, case)):
        raise _deny()
    at = timezone.now()
    _end_stops(case, at, kinds=[ClockStop.Kind.SPECIAL_PROCEDURE, ClockStop.Kind.SUSPENSION])
    refresh_due(case)
    event = _move(case, "resume", actor=actor, at=at, fields=["due_at", "due_provisional"])
    _after_commit(event)
    return case


def _end_stops(case: Case, at: dt.datetime, *, kinds: Sequence[str]) -> None:
    """End the open clock stops of these kinds, and move the due instants of the open steps
    later by the business time each stop covered — a step's own budget stops with the case."""
    from tongban.clock.deadline import business_add, stopped_business_seconds

    stops = list(ClockStop.objects.filter(case=case, ended_at=None, kind__in=kinds))
    if not stops:
        return
    ClockStop.objects.filter(pk__in=[s.pk for s in stops]).update(ended_at=at)
    calendar, hours = clock.work_calendar(), clock.office_hours(case.hall_id)
    # The clock's one measure of stopped time: the stops merged, so an overlap counts once.
    stopped = stopped_business_seconds(((s.started_at, at) for s in stops),
                                       since=min(s.started_at for s in stops), until=at,
                                       calendar=calendar, hours=hours)
    if not stopped:
        return
    for task in StepTask.objects.filter(case=case, status=TaskStatus.OPEN).exclude(due_at=None):
        assert task.due_at is not None
        task.due_at = business_add(task.due_at, stopped, calendar=calendar, hours=hours).due
        task.save(update_fields=["due_at"])


@transaction.atomic
def case_request_extension(*, actor: Actor, task: StepTask, working_days: int, reason: str,
                           expected_version: int | None = None) -> Extension:
    case = _lock(task.case_id, expected_version)
    _check(case, "request_extension")
    _check_task(actor, case, task, "extend")
    _require_reason(reason)
    limit = 10  # 行政许可法 Art. 42: up to ten more days
    if not 1 <= working_days <= limit:
        raise RuleViolation([Problem("working_days", _("延期须为1至%(n)s个工作日") % {"n": limit})])
    if case.extensions.filter(state=Extension.State.REQUESTED).exists():
        raise _conflict(_("已有待批准的延期申请"))
    used = sum(case.extensions.filter(state=Extension.State.APPROVED)
               .values_list("working_days", flat=True))
    if used + working_days > limit:
        raise RuleViolation([Problem("working_days", _("延期合计不得超过%(n)s个工作日") % {"n": limit})])
    requester = account_of(actor)
    if requester is None:  # an extension is asked for by a person who answers for it
        raise _deny()
    extension = Extension.objects.create(case=case, working_days=working_days, reason=reason,
                                         requested_by=requester, requested_at=timezone.now())
    event = _move(case, "request_extension", actor=actor, reason=reason,
                  data={"working_days": working_days, "extension": extension.pk})
    _after_commit(event)
    return extension


@transaction.atomic
def case_decide_extension(*, actor: Actor, extension: Extension, approve: bool, note: str = "",
                          expected_version: int | None = None) -> Extension:
    """The department head approves (延期) or rejects; the applicant is told the reason."""
    case = _lock(extension.case_id, expected_version)
    extension = Extension.objects.select_for_update().get(pk=extension.pk)
    if not policies.can_approve_extension(actor, case):
        raise _deny()
    if extension.state != Extension.State.REQUESTED:
        raise _conflict(_("该延期申请已处理"))
    _check(case, "extend")
    at = timezone.now()
    extension.state = Extension.State.APPROVED if approve else Extension.State.REJECTED
    extension.decided_by, extension.decided_at, extension.decision_note = (
        account_of(actor), at, note)
    extension.save()
    if approve:
        case.extension_working_days += extension.working_days
        refresh_due(case)
        notice = _notice(case, Notice.Kind.EXTENSION, actor=actor, body={
            "working_days": extension.working_days, "reason": extension.reason,
            "due_at": case.due_at.isoformat() if case.due_at else None})
        event = _move(case, "extend", actor=actor, reason=extension.reason, at=at,
                      fields=["extension_working_days", "due_at", "due_provisional"],
                      data={"notice": notice.number, "working_days": extension.working_days})
    else:
        event = _event(case, actor=actor, action="extension_rejected", from_status=case.status,
                       reason=note, at=at)
    _after_commit(event)
    return extension
