"""Acceptance (受理), acceptance by law after five working days without an answer
(行政许可法 Art. 32) and refusal (不予受理)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.accounts.permissions import SYSTEM
from tongban.cases.workflows import services as workflows
from tongban.catalog.models import Commitment
from tongban.clock import selectors as clock
from tongban.clock.deadline import WORKING_DAYS, compute_deadline
from tongban.core.errors import Problem, RuleViolation

from .. import findings, policies
from ..findings import Finding
from ..models import Case, CaseEvent, Channel, Delivery, Notice
from .handling import _decide
from .intake import missing_materials
from .licensing import issue_result_licence
from .transitions import (
    TRANSITIONS,
    S,
    _after_commit,
    _check,
    _deny,
    _lock,
    _move,
    _notice,
    _require_reason,
    refresh_due,
)
from .visits import _visit

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor


@transaction.atomic
def case_accept(*, actor: Actor, case: Case, expected_version: int | None = None,
                hall: Any = None, window: Any = None, in_person: bool | None = None) -> Case:
    """受理: the clock starts; an acceptance notice is issued and the workflow begins.

    即收即办 items are accepted, decided and handed over in this same transaction.
    """
    case = _lock(case, expected_version)
    if not policies.can_receive(actor, case):
        raise _deny()
    _check(case, "accept")  # before the notice: a second acceptance is a conflict, not a collision
    # Staff of a hall (clerks, proxy agents) accept only at their own hall's windows.
    own_hall = getattr(actor, "hall_id", None)
    if window is not None and own_hall is not None and window.hall_id != own_hall:
        raise RuleViolation([Problem("window", _("该窗口不属于您所在的大厅"))])
    if window is not None:
        _check_window_serves(window, case)
    missing = [m.name for m in missing_materials(case)]
    if missing:
        raise RuleViolation([Problem("materials", _(
            "材料不齐全，不能受理；请一次性告知补正：%(names)s") % {"names": "、".join(missing)})])
    at = timezone.now()
    case.accepted_at = at
    if hall is not None:
        case.hall = hall
    case.workflow = workflows.workflow_for(case.item_id, case.item_version.commitment)
    # The case's due instant and its first step's: the calendar checked once for both.
    with clock.calendar_scope():
        # At the moment of acceptance no clock stop can count: stops count only from then on.
        refresh_due(case, stops=())
        notice = _notice(case, Notice.Kind.ACCEPTANCE, actor=actor, body={
            "due_at": case.due_at.isoformat() if case.due_at else None,
            "provisional": case.due_provisional})
        event = _move(case, "accept", actor=actor, at=at, data={"notice": notice.number},
                      fields=["accepted_at", "hall", "workflow", "due_at", "due_provisional"])
        if in_person if in_person is not None else case.channel == Channel.WINDOW:
            _visit(case, actor=actor, purpose=str(_("窗口受理")), hall=case.hall, window=window,
                   at=at)
        tasks = workflows.workflow_start(case, at=at)
    if case.item_version.commitment == Commitment.ON_THE_SPOT:
        # 即收即办: the window completes the case on the spot.
        for task in tasks:
            workflows.task_finish(task, actor=actor, outcome="approve", at=at)
        _decide(case, actor=actor, approve=True, reason="", at=at)
        delivered: dict[str, Any] = {"delivery": Delivery.PICKUP}
        licence = issue_result_licence(case, actor=actor, at=at)
        if licence is not None:
            delivered["licences"] = [licence.identifier]
        case.delivery = Delivery.PICKUP
        case.delivered_at = at
        event = _move(case, "deliver", actor=actor, fields=["delivery", "delivered_at"], at=at,
                      data=delivered)
    _after_commit(event)
    return case


# 行政许可法 Art. 32: an application neither accepted, refused nor answered with a one-time
# supplement notice within this many working days of receipt is accepted by law.
ACCEPT_BY_LAW_WORKING_DAYS = 5


def received_at(case: Case) -> dt.datetime | None:
    """When the department last received the application's materials: the submission, or the
    latest supply after a one-time notice before acceptance."""
    last_supply = (CaseEvent.objects.filter(case=case, action="supply", to_status=S.SUBMITTED)
                   .order_by("-seq").values_list("at", flat=True).first())
    times = [t for t in (case.submitted_at, last_supply) if t is not None]
    return max(times) if times else None


def answer_due(case: Case, received: dt.datetime) -> dt.datetime:
    """The end of the five working days (Art. 32) the department has to accept, refuse or send
    a one-time supplement notice, counted on the working-day clock from ``received``."""
    return compute_deadline(
        start=received, category=Commitment.TIME_LIMITED, limit=ACCEPT_BY_LAW_WORKING_DAYS,
        unit=WORKING_DAYS, calendar=clock.work_calendar(), hours=clock.office_hours(case.hall_id),
        same_day_cutoff=clock.same_day_cutoff()).due


def cases_accept_by_law(*, now: dt.datetime) -> list[str]:
    """Accept by law (Art. 32) every submitted application left unanswered for five working
    days since its materials were received. Run by the deadline sweep; idempotent. Returns
    the numbers of the cases accepted."""
    # Five working days are never fewer than five calendar days.
    candidates = list(Case.objects.filter(
        status__in=(S.SUBMITTED, S.PRE_REVIEW),
        submitted_at__lte=now - dt.timedelta(days=ACCEPT_BY_LAW_WORKING_DAYS),
    ).order_by("submitted_at", "pk").values_list("pk", flat=True))
    accepted = []
    for pk in candidates:
        case = case_accept_by_law(case=pk, now=now)
        if case is not None:
            accepted.append(case.number or str(case.pk))
    return accepted


@transaction.atomic
def case_accept_by_law(*, case: Case | int, now: dt.datetime) -> Case | None:
    """依法视为受理 (Art. 32): if the case is still unanswered five working days after its
    materials were received, it is accepted from the instant of receipt — the due instant is
    counted from then — with an acceptance notice saying so, the applicant told, and a red
    supervision record against the department that should have answered. Returns the case if
    it was accepted now, None if not (answered meanwhile, or still in time)."""
    case = _lock(case, None)
    if case.status not in TRANSITIONS["accept_by_law"][0]:
        return None
    received = received_at(case)
    if received is None:
        return None
    limit = answer_due(case, received)
    if now <= limit:
        return None
    case.accepted_at = received
    case.workflow = workflows.workflow_for(case.item_id, case.item_version.commitment)
    refresh_due(case, stops=())
    local = timezone.localtime
    reason = str(_("自%(received)s收到申请材料起五个工作日内（至%(limit)s）未作出受理、不予受理或"
                   "补正告知，依据《中华人民共和国行政许可法》第三十二条，自收到申请材料之日起即为受理")
                 % {"received": f"{local(received):%Y-%m-%d %H:%M}",
                    "limit": f"{local(limit):%Y-%m-%d %H:%M}"})
    notice = _notice(case, Notice.Kind.ACCEPTANCE, actor=SYSTEM, body={
        "due_at": case.due_at.isoformat() if case.due_at else None,
        "provisional": case.due_provisional, "by_law": True,
        "received_at": received.isoformat(), "answer_due": limit.isoformat()})
    event = _move(case, "accept_by_law", actor=SYSTEM, at=now, reason=reason,
                  data={"notice": notice.number, "received_at": received.isoformat(),
                        "answer_due": limit.isoformat()},
                  fields=["accepted_at", "workflow", "due_at", "due_provisional"])
    # The steps open now; the case's own clock runs from receipt.
    workflows.workflow_start(case, at=now)
    findings.report(
        Finding.ACCEPTED_BY_LAW, case=case, actor=SYSTEM, person=None,
        department=case.receiving_unit_id or case.department_id,
        detail=str(_("办件%(number)s：%(reason)s") % {"number": case.number, "reason": reason}))
    _after_commit(event)
    return case


def _check_window_serves(window: Any, case: Case) -> None:
    """A window that is not a comprehensive window (综合窗口) accepts only items of the
    departments it serves (a 代办 case: of its department or of its receiving unit)."""
    if window.is_comprehensive:
        return
    served = list(window.departments.order_by("pk"))
    if {d.pk for d in served} & {case.department_id, case.receiving_unit_id}:
        return
    raise RuleViolation([Problem("window", _(
        "%(window)s不是综合窗口，只受理%(served)s的事项，不能受理%(department)s的事项")
        % {"window": window.name or window.number,
           "served": "、".join(d.name for d in served) or _("（未设受理部门）"),
           "department": case.department.name})])


@transaction.atomic
def case_refuse(*, actor: Actor, case: Case, reason: str, expected_version: int | None = None) -> Notice:
    """不予受理, with the reason written in the refusal notice."""
    case = _lock(case, expected_version)
    if not policies.can_receive(actor, case):
        raise _deny()
    _check(case, "refuse")  # before the notice, as in case_accept
    _require_reason(reason)
    notice = _notice(case, Notice.Kind.REFUSAL, actor=actor, body={"reason": reason})
    case.closed_reason = reason
    event = _move(case, "refuse", actor=actor, reason=reason, fields=["closed_reason"],
                  data={"notice": notice.number})
    _after_commit(event)
    return notice
