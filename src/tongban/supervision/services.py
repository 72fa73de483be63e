"""Writes of electronic supervision (电子监察, domain.md §5).

- :func:`supervision_record_open` opens one record (idempotent per kind and object); other apps'
  services call it (the ratings app for a bad review tagged "materials beyond the guide"; the
  case services for an application accepted by law and for a notice that is not one-time).
- :func:`supervision_sweep` derives every other trigger from the stored data — deadlines of
  cases and steps, late forwarding by a 代办 centre, refusals without a reason, visits beyond the
  promise — so the case services need no hook. It runs every 10 minutes (schedule
  ``sweep_supervision``) and for one case after each of its events once the case services queue
  ``tasks.supervision_on_case_event``.
- acknowledge / explain (the department) and close (the supervisor).

Each new record is audited and escalated once (``tasks.send_escalation``) to the heads of the
department and to every supervisor.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from tongban.accounts.models import Role
from tongban.accounts.permissions import SYSTEM, Actor, account_of
from tongban.audit.services import audit_record
from tongban.cases import selectors as case_selectors
from tongban.cases.models import Case, CaseEvent, ClockStop, Status, Visit
from tongban.cases.services import allowed_visits
from tongban.cases.workflows.models import StepTask, TaskStatus
from tongban.clock import selectors as clock
from tongban.core.errors import AccessDenied, Problem, RuleViolation

from . import policies
from .models import STEP_KINDS, Kind, State, SupervisionRecord

# The text of a record opened with facts rather than a text.
DEFAULT_DETAIL: dict[str, Any] = {
    Kind.MATERIALS_BEYOND_GUIDE: _("办件%(number)s的申请人差评反映：需提供办事指南之外的申报材料"),
}

# A late step yields exactly one of these (see ``_late_kind``).
LATE_STEP_KINDS = (Kind.LATE_FORWARDING, Kind.STEP_OVER_LIMIT, Kind.RED_STEP)


@dataclass(frozen=True)
class Finding:
    kind: str
    case_id: int
    department_id: int
    person_id: int | None
    detail: str
    step_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, int, int | None]:
        return (self.kind, self.case_id, self.step_id if self.kind in STEP_KINDS else None)


# --- opening a record ---------------------------------------------------------------------------

def _insert(finding: Finding, *, actor: Actor, now: dt.datetime) -> SupervisionRecord | None:
    """Insert the record unless one exists for its kind and object; audit and escalate it."""
    from tongban.scheduling.queue import enqueue_after_commit

    from .tasks import send_escalation

    record = SupervisionRecord(
        kind=finding.kind, case_id=finding.case_id,
        step_id=finding.step_id if finding.kind in STEP_KINDS else None,
        department_id=finding.department_id, person_id=finding.person_id,
        detail=finding.detail, data=finding.data, opened_at=now,
        opened_by_name=str(actor) if actor is not None else "system")
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError:
        return None  # opened before (or by a concurrent sweep)
    audit_record(actor=actor, action="supervision.opened", object_type="supervision_record",
                 object_id=record.pk,
                 detail={"kind": record.kind, "case": record.case_id, "step": record.step_id,
                         "department": record.department_id, "person": record.person_id})
    enqueue_after_commit(send_escalation, record.pk)
    return record


def _existing(kind: str, case_id: int, step_id: int | None) -> SupervisionRecord | None:
    records = SupervisionRecord.objects.filter(kind=kind, case_id=case_id)
    return records.filter(step_id=step_id).first() if step_id is not None \
        else records.filter(step__isnull=True).first()


@transaction.atomic
def supervision_record_open(*, kind: str, case: Any, department: Any, person: Any,
                            detail: str | dict[str, Any], actor: Actor,
                            step: Any = None) -> SupervisionRecord:
    """Open the supervision record of ``kind`` about ``case`` (and ``step`` for a step-level
    kind) against ``department`` and ``person``; the record already open for the same kind and
    object is returned unchanged. Not offered by any page: other apps' services call it for
    findings they make (a bad review tagged 需提供办事指南之外的申报材料 → ``materials_beyond_guide``).
    """
    problems = []
    if kind not in Kind.values:
        problems.append(Problem("kind", _("未知的监察类型：%(kind)s") % {"kind": kind}))
    if case is None or getattr(case, "pk", None) is None:
        problems.append(Problem("case", _("须指明办件")))
    if department is None:
        problems.append(Problem("department", _("须指明责任部门")))
    if kind in STEP_KINDS and step is None:
        problems.append(Problem("step", _("环节类监察记录须指明环节")))
    if problems:
        raise RuleViolation(problems)
    department_id = department if isinstance(department, int) else department.pk
    person_id = person if isinstance(person, int) or person is None else person.pk
    step_id = None if step is None or kind not in STEP_KINDS else (
        step if isinstance(step, int) else step.pk)
    existing = _existing(kind, case.pk, step_id)
    if existing is not None:
        return existing
    data = detail if isinstance(detail, dict) else {}
    text = str(detail or "") if not isinstance(detail, dict) else str(DEFAULT_DETAIL.get(kind, ""))
    if isinstance(detail, dict) and "%(number)s" in text:
        text = text % {"number": case.number or case.pk}
    finding = Finding(kind=kind, case_id=case.pk, step_id=step_id, department_id=department_id,
                      person_id=person_id, detail=text, data=data)
    record = _insert(finding, actor=actor, now=timezone.now())
    if record is None:  # a concurrent caller won
        found = _existing(kind, case.pk, step_id)
        assert found is not None
        return found
    return record


# --- the sweep ------------------------------------------------------------------------------------

def supervision_sweep(*, now: dt.datetime | None = None,
                      case_ids: Iterable[int] | None = None) -> dict[str, int]:
    """Open a record for every finding not recorded yet, and close the yellow warnings whose
    case or step ended on time; returns how many of each kind were opened (and, under
    ``warnings_closed``, how many warnings closed).

    Looks at running cases and steps, and at decisions, refusals, late steps and visits of the
    last ``SUPERVISION_LOOKBACK_DAYS`` days (``case_ids``: only these cases). Safe to run any
    number of times, at once from several workers: the unique constraints keep one record per
    kind and object.
    """
    now = now or timezone.now()
    since = now - dt.timedelta(days=settings.SUPERVISION_LOOKBACK_DAYS)
    ids = None if case_ids is None else sorted(set(case_ids))
    with clock.calendar_scope():
        findings = [*_case_deadlines(now, since, ids), *_steps(now, since, ids),
                    *_refusals(since, ids), *_visits(since, ids)]
    counts: dict[str, int] = {}
    closed = warnings_close_met(now=now, case_ids=ids)
    if closed:
        counts["warnings_closed"] = closed
    if not findings:
        return counts
    known = _known({f.case_id for f in findings})
    for finding in findings:
        if finding.key in known or (finding.kind in LATE_STEP_KINDS
                                    and ("late", finding.step_id) in known):
            continue
        with transaction.atomic():
            record = _insert(finding, actor=SYSTEM, now=now)
        if record is not None:
            counts[finding.kind] = counts.get(finding.kind, 0) + 1
        known.add(finding.key)
        if finding.kind in LATE_STEP_KINDS:
            known.add(("late", finding.step_id))
    return counts


# The text a warning closed by itself carries as its closing note.
AUTO_CLOSE_NOTES: dict[str, Any] = {
    Kind.YELLOW_CASE: _("办件已在办结时限内办结，预警自动关闭"),
    Kind.YELLOW_STEP: _("环节已在环节时限内完成，预警自动关闭"),
}


def warnings_close_met(*, now: dt.datetime, case_ids: Iterable[int] | None = None) -> int:
    """Close every yellow warning still open whose case was decided by its due instant, or whose
    step ended (done or cancelled) without being late: the warning was met. Closed by the
    system with a note, audited; a red card is never closed this way. Returns how many."""
    pending = SupervisionRecord.objects.filter(kind__in=list(AUTO_CLOSE_NOTES)) \
        .exclude(state=State.CLOSED)
    if case_ids is not None:
        pending = pending.filter(case_id__in=list(case_ids))
    met = (Q(kind=Kind.YELLOW_CASE, case__decided_at__isnull=False,
             case__due_at__isnull=False, case__decided_at__lte=F("case__due_at"))
           | Q(kind=Kind.YELLOW_STEP, step__status__in=[TaskStatus.DONE, TaskStatus.CANCELLED],
               step__late=False))
    closed = 0
    for pk in pending.filter(met).values_list("pk", flat=True).order_by("pk"):
        with transaction.atomic():
            record = _lock(pk)
            if record.state == State.CLOSED:
                continue  # closed meanwhile
            record.state = State.CLOSED
            record.close_note = str(AUTO_CLOSE_NOTES[record.kind])
            record.closed_at = now
            record.closed_by = None
            record.save(update_fields=["state", "close_note", "closed_at", "closed_by"])
            _audit(SYSTEM, record, "closed", automatic=True)
            closed += 1
    return closed


def _known(case_ids: set[int]) -> set[Any]:
    """Keys of the records already open for these cases (a late step: any one late kind)."""
    known: set[Any] = set()
    ordered = sorted(case_ids)
    for start in range(0, len(ordered), 500):
        rows = SupervisionRecord.objects.filter(case_id__in=ordered[start:start + 500]) \
            .values_list("kind", "case_id", "step_id")
        for kind, case_id, step_id in rows:
            known.add((kind, case_id, step_id))
            if kind in LATE_STEP_KINDS:
                known.add(("late", step_id))
    return known


def _scoped(queryset: Any, ids: list[int] | None, field_name: str = "pk") -> Any:
    return queryset if ids is None else queryset.filter(**{f"{field_name}__in": ids})


def _people(case_ids: Iterable[int]) -> dict[int, int | None]:
    """Who answers for each case: the assignee of its open step, else whoever finished its
    latest step."""
    best: dict[int, tuple[int, dt.datetime, int | None]] = {}
    rows = StepTask.objects.filter(case_id__in=list(case_ids)).values_list(
        "case_id", "status", "assignee_id", "finished_by_id", "opened_at", "finished_at")
    for case_id, status, assignee, finisher, opened, finished in rows:
        if status == TaskStatus.OPEN:
            rank, when, who = 2, opened, assignee
        else:
            rank, when, who = 1, finished or opened, finisher
        if who is None:
            continue
        current = best.get(case_id)
        if current is None or (rank, when) > current[:2]:
            best[case_id] = (rank, when, who)
    return {case_id: value[2] for case_id, value in best.items()}


def _local(instant: dt.datetime | None) -> str:
    return timezone.localtime(instant).strftime("%Y-%m-%d %H:%M") if instant else ""


def _case_deadlines(now: dt.datetime, since: dt.datetime, ids: list[int] | None) -> list[Finding]:
    """Yellow and red cards of cases, live (``cases.selectors.case_deadline_state``'s rule):
    running cases near or past their due instant, and cases decided after it."""
    scope = _scoped(Case.objects.filter(accepted_at__isnull=False, due_at__isnull=False), ids)
    running = scope.filter(status=Status.ACCEPTED, decided_at__isnull=True)
    yellow = case_selectors._deadline_filter(running, "yellow", now)
    red = (running.filter(due_at__lt=now)
           | scope.filter(decided_at__gte=since, decided_at__gt=F("due_at")))
    rows: list[tuple[str, Case]] = [
        *((Kind.YELLOW_CASE, c) for c in yellow.only("pk", "number", "department_id", "due_at")),
        *((Kind.RED_CASE, c) for c in red.only("pk", "number", "department_id", "due_at",
                                               "decided_at")),
    ]
    people = _people({c.pk for _k, c in rows})
    findings = []
    for kind, case in rows:
        if kind == Kind.YELLOW_CASE:
            detail = _t("办件%(number)s临近办结时限（%(due)s）") % {
                "number": case.number, "due": _local(case.due_at)}
        elif case.decided_at is not None:
            detail = _t("办件%(number)s超期办结：时限%(due)s，办结于%(done)s") % {
                "number": case.number, "due": _local(case.due_at), "done": _local(case.decided_at)}
        else:
            detail = _t("办件%(number)s已超过办结时限（%(due)s）仍未办结") % {
                "number": case.number, "due": _local(case.due_at)}
        findings.append(Finding(kind=kind, case_id=case.pk, department_id=case.department_id,
                                person_id=people.get(case.pk), detail=detail,
                                data={"due_at": case.due_at.isoformat() if case.due_at else None}))
    return findings


def _is_forwarding(task: StepTask) -> bool:
    return task.role == Role.PROXY_AGENT or task.outcome == "forward"


def _late_kind(task: StepTask, at: dt.datetime) -> str:
    """A late step is a late forwarding when a 代办 centre's forwarding step; otherwise a step
    over its own limit while the case is in time, or a red step when the case is late too."""
    if _is_forwarding(task):
        return Kind.LATE_FORWARDING
    due = task.case.due_at
    if due is not None and at <= due and (task.case.decided_at is None
                                          or task.case.decided_at <= due):
        return Kind.STEP_OVER_LIMIT
    return Kind.RED_STEP


def _steps(now: dt.datetime, since: dt.datetime, ids: list[int] | None) -> list[Finding]:
    """Open steps near (yellow) or past (late) their own due instant, and steps finished late."""
    horizon = now + dt.timedelta(days=30 + 2 * math.ceil(settings.CLOCK_WARNING_WORKING_DAYS))
    stopped = ClockStop.objects.filter(ended_at__isnull=True).values("case_id")
    base = StepTask.objects.select_related("case").only(
        "pk", "case_id", "name", "role", "outcome", "department_id", "assignee_id",
        "finished_by_id", "opened_at", "due_at", "finished_at", "case__number", "case__due_at",
        "case__decided_at", "case__hall_id")
    open_steps = _scoped(base.filter(status=TaskStatus.OPEN, due_at__isnull=False,
                                     due_at__lte=horizon, case__status=Status.ACCEPTED)
                         .exclude(case_id__in=stopped), ids, "case_id")
    late_done = _scoped(base.filter(late=True, finished_at__gte=since)
                        .exclude(status=TaskStatus.CANCELLED), ids, "case_id")
    hours = clock.office_hours_memo()
    findings = []
    for task in open_steps:
        state = clock.deadline_state(task.due_at, now=now, opened_at=task.opened_at,
                                     hours=hours(task.case.hall_id))
        if state == "yellow":
            findings.append(_step_finding(Kind.YELLOW_STEP, task, person=task.assignee_id,
                                          detail=_t("办件%(number)s的环节“%(step)s”临近环节时限（%(due)s）")))
        elif state == "red":
            findings.append(_step_finding(_late_kind(task, now), task, person=task.assignee_id))
    for task in late_done:
        at = task.finished_at or now
        findings.append(_step_finding(_late_kind(task, at), task, person=task.finished_by_id))
    return findings


def _step_finding(kind: str, task: StepTask, *, person: int | None,
                  detail: str | None = None) -> Finding:
    if detail is None:
        texts: dict[str, str] = {
            Kind.LATE_FORWARDING: _t("办件%(number)s的代办转交环节“%(step)s”超过时限（%(due)s）"),
            Kind.STEP_OVER_LIMIT: _t(
                "办件%(number)s的环节“%(step)s”超过环节时限（%(due)s），办件本身尚未超期"),
            Kind.RED_STEP: _t("办件%(number)s的环节“%(step)s”超过环节时限（%(due)s）"),
        }
        detail = texts[kind]
    text = detail % {"number": task.case.number, "step": task.name, "due": _local(task.due_at)}
    return Finding(kind=kind, case_id=task.case_id, step_id=task.pk,
                   department_id=task.department_id, person_id=person, detail=text,
                   data={"step": task.pk, "due_at": task.due_at.isoformat() if task.due_at else None,
                         "finished_at": task.finished_at.isoformat() if task.finished_at else None})


def _refusals(since: dt.datetime, ids: list[int] | None) -> list[Finding]:
    """不予受理 or 不予办理 whose reason is shorter than ``SUPERVISION_MIN_REASON_CHARS``
    characters (blank included)."""
    events = _scoped(CaseEvent.objects.filter(action__in=("refuse", "deny"), at__gte=since)
                     .select_related("case", "case__hall", "actor"), ids, "case_id")
    findings = []
    for event in events:
        reason = "".join(event.reason.split())
        if len(reason) >= settings.SUPERVISION_MIN_REASON_CHARS:
            continue
        case = event.case
        department = case.department_id
        if event.action == "refuse":
            department = (policies.user_department_id(event.actor) if event.actor else None) \
                or (case.hall.department_id if case.hall else None) or case.department_id
        what = _t("不予受理") if event.action == "refuse" else _t("不予办理")
        findings.append(Finding(
            kind=Kind.REFUSAL_WITHOUT_REASON, case_id=case.pk, department_id=department,
            person_id=event.actor_id,
            detail=_t("办件%(number)s作出%(what)s决定未说明理由（所填理由：“%(reason)s”）") % {
                "number": case.number or case.pk, "what": what, "reason": event.reason.strip()},
            data={"event": event.seq, "action": event.action}))
    return findings


def _visits(since: dt.datetime, ids: list[int] | None) -> list[Finding]:
    """Cases whose applicant came more often than the item promises (``Case.excess_visits``)."""
    recent = Visit.objects.filter(at__gte=since).values("case_id")
    cases = _scoped(Case.objects.filter(excess_visits=True, pk__in=recent)
                    .select_related("item_version"), ids)
    findings = []
    for case in cases:
        last = Visit.objects.filter(case=case).order_by("-at", "-pk").first()
        findings.append(Finding(
            kind=Kind.VISITS_OVER_PROMISE, case_id=case.pk, department_id=case.department_id,
            person_id=last.recorded_by_id if last else None,
            detail=_t("办件%(number)s申请人已跑动%(visits)s次，超过承诺的%(promised)s次") % {
                "number": case.number or case.pk, "visits": case.visits,
                "promised": allowed_visits(case)},
            data={"visits": case.visits, "allowed": allowed_visits(case)}))
    return findings


# --- answering and closing ----------------------------------------------------------------------

def _lock(record: SupervisionRecord | int) -> SupervisionRecord:
    pk = record if isinstance(record, int) else record.pk
    return SupervisionRecord.objects.select_for_update().get(pk=pk)


def _audit(actor: Actor, record: SupervisionRecord, action: str, **detail: Any) -> None:
    audit_record(actor=actor, action=f"supervision.{action}", object_type="supervision_record",
                 object_id=record.pk, detail={"kind": record.kind, "state": record.state, **detail})


@transaction.atomic
def supervision_record_acknowledge(*, actor: Actor, record: SupervisionRecord | int) -> SupervisionRecord:
    """签收: the person named or the head of the department takes note of the record."""
    record = _lock(record)
    if not policies.can_answer(actor, record):
        raise AccessDenied(_("只有责任人或责任部门负责人可以签收"))
    if record.state != State.OPEN:
        raise RuleViolation([Problem("state", _("该监察记录已签收或已处理"))])
    record.state = State.ACKNOWLEDGED
    record.acknowledged_at = timezone.now()
    record.acknowledged_by = account_of(actor)
    record.save(update_fields=["state", "acknowledged_at", "acknowledged_by"])
    _audit(actor, record, "acknowledged")
    return record


@transaction.atomic
def supervision_record_explain(*, actor: Actor, record: SupervisionRecord | int,
                               explanation: str) -> SupervisionRecord:
    """说明情况: the department explains the finding (what happened, what was done)."""
    record = _lock(record)
    if not policies.can_answer(actor, record):
        raise AccessDenied(_("只有责任人或责任部门负责人可以说明情况"))
    if record.state not in (State.OPEN, State.ACKNOWLEDGED):
        raise RuleViolation([Problem("state", _("该监察记录已说明或已办结"))])
    text = (explanation or "").strip()
    if not text:
        raise RuleViolation([Problem("explanation", _("须填写情况说明"))])
    now = timezone.now()
    if record.acknowledged_at is None:
        record.acknowledged_at, record.acknowledged_by = now, account_of(actor)
    record.state = State.EXPLAINED
    record.explanation = text
    record.explained_at = now
    record.explained_by = account_of(actor)
    record.save(update_fields=["state", "explanation", "explained_at", "explained_by",
                               "acknowledged_at", "acknowledged_by"])
    _audit(actor, record, "explained")
    return record


@transaction.atomic
def supervision_record_close(*, actor: Actor, record: SupervisionRecord | int,
                             note: str) -> SupervisionRecord:
    """办结: the supervisor closes the record with an opinion."""
    record = _lock(record)
    if not policies.can_close(actor):
        raise AccessDenied(_("只有监察人员可以办结监察记录"))
    if record.state == State.CLOSED:
        raise RuleViolation([Problem("state", _("该监察记录已办结"))])
    text = (note or "").strip()
    if not text:
        raise RuleViolation([Problem("note", _("须填写办结意见"))])
    record.state = State.CLOSED
    record.close_note = text
    record.closed_at = timezone.now()
    record.closed_by = account_of(actor)
    record.save(update_fields=["state", "close_note", "closed_at", "closed_by"])
    _audit(actor, record, "closed")
    return record


def supervision_record_escalate(*, record_id: int) -> int:
    """督办通知: tell the department's heads and every supervisor about a new record, once (the
    messages have a key per record), and mark it escalated. Returns how many were told."""
    from tongban.cases.notifications import recipients
    from tongban.cases.notifications.services import notify_users

    record = (SupervisionRecord.objects.select_related("case", "department", "person")
              .filter(pk=record_id).first())
    if record is None:
        return 0
    subject = _t("电子监察：%(kind)s（%(department)s）") % {
        "kind": record.get_kind_display(), "department": record.department.name}
    lines = [record.detail]
    if record.person is not None:
        lines.append(_t("责任人：%(name)s") % {"name": record.person})
    lines.append(_t("请责任部门签收并说明情况。"))
    sent = notify_users(recipients.escalation(record.department_id),
                        key=f"supervision:{record.pk}",
                        subject=subject, text="\n".join(lines), kind="supervision",
                        case=record.case)
    SupervisionRecord.objects.filter(pk=record.pk, escalated_at__isnull=True).update(
        escalated_at=timezone.now())
    return sent
