"""Rating services: submitting a rating, and every step of the rectification ticket a bad
review opens. Each is keyword-only, checks who acts, validates, writes and audits in one
transaction. There is deliberately no service that changes or removes a rating: the only
change a rating ever gets is its exclusion from the figures after an accepted appeal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from tongban.accounts.permissions import SYSTEM, Actor, account_of
from tongban.audit.services import audit_record
from tongban.cases import findings
from tongban.cases.findings import Finding
from tongban.cases.models import Case, Status, Visit
from tongban.cases.services import CaseConflict
from tongban.clock import selectors as clock
from tongban.clock.deadline import SHANGHAI, TIME_LIMITED, WORKING_DAYS, compute_deadline
from tongban.core.errors import AccessDenied, Problem, RuleViolation

from . import policies
from .models import (
    BAD_LEVELS,
    MATERIALS_BEYOND_GUIDE,
    AppealDecision,
    Channel,
    Outcome,
    Rating,
    RatingTag,
    RectificationTicket,
    Response,
    TicketState,
    indicators_for,
)

COMPLETED = frozenset({Status.APPROVED, Status.DENIED, Status.DELIVERED, Status.REFUSED})
TEXT_MAX = 500
_VISIT_SALT = "tongban.ratings.visit"


class RatingConflict(CaseConflict):
    """The rating or ticket is not in a state that allows this (answered 409 by the API)."""


def _conflict(message: Any) -> RatingConflict:
    return RatingConflict([Problem("state", message)])


# --- when a case or visit may be rated --------------------------------------------------------

def completed_at(case: Case) -> dt.datetime | None:
    """When the case was completed (办结): decided, or refused acceptance. None while open."""
    if case.status not in COMPLETED:
        return None
    if case.decided_at is not None:
        return case.decided_at
    event = case.events.filter(action="refuse").order_by("-seq").first()
    return event.at if event is not None else case.delivered_at


def window_end(start: dt.datetime) -> dt.datetime:
    return start + dt.timedelta(days=settings.RATING_WINDOW_DAYS)


def case_handler(case: Case) -> Any:
    """谁办理谁负责: the person who decided (or refused) the case."""
    event = (case.events.filter(action__in=("approve", "deny", "refuse"))
             .exclude(actor=None).select_related("actor").order_by("-seq").first())
    return event.actor if event is not None else None


def visit_token(visit: Visit) -> str:
    """The short-lived signed token of the window's rating page (QR code) for one visit."""
    return signing.TimestampSigner(salt=_VISIT_SALT).sign(str(visit.pk))


def visit_from_token(token: str) -> Visit | None:
    """The visit a token names, if the token is genuine and not older than the setting."""
    try:
        value = signing.TimestampSigner(salt=_VISIT_SALT).unsign(
            token, max_age=dt.timedelta(minutes=settings.RATING_VISIT_TOKEN_MINUTES))
    except signing.BadSignature:
        return None
    return (Visit.objects.select_related("case", "case__item", "hall", "hall__department",
                                         "recorded_by").filter(pk=int(value)).first())


# --- submitting -------------------------------------------------------------------------------

def _check_input(channel: str, level: Any, indicators: dict[str, Any], tags: Sequence[str],
                 text: str) -> tuple[dict[str, int], list[RatingTag]]:
    problems: list[Problem] = []
    if not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 5:
        problems.append(Problem("level", _("请选择总体评价（1至5星）")))
    wanted = indicators_for(channel)
    clean: dict[str, int] = {}
    for key in indicators:
        if key not in wanted:
            problems.append(Problem(f"indicators.{key}", _("没有这一评价指标")))
    for key, label in wanted.items():
        value = (indicators or {}).get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
            problems.append(Problem(f"indicators.{key}", _("请为“%(name)s”选择1至5星") % {
                "name": label}))
        else:
            clean[key] = value
    codes = list(dict.fromkeys(t.strip() for t in tags if t.strip()))
    found = {t.code: t for t in RatingTag.objects.filter(code__in=codes, active=True)}
    unknown = [c for c in codes if c not in found]
    if unknown:
        problems.append(Problem("tags", _("没有这些差评标签：%(codes)s") % {
            "codes": "、".join(unknown)}))
    valid = isinstance(level, int) and 1 <= level <= 5
    bad = valid and level in BAD_LEVELS
    if codes and valid and not bad:
        problems.append(Problem("tags", _("差评标签只适用于“不满意”或“非常不满意”")))
    if bad and not codes and not text.strip():
        problems.append(Problem("tags", _("差评请至少选择一个标签或写明原因")))
    if len(text) > TEXT_MAX:
        problems.append(Problem("text", _("评价内容不能超过%(n)s字") % {"n": TEXT_MAX}))
    if problems:
        raise RuleViolation(problems)
    return clean, [found[c] for c in codes]


@transaction.atomic
def rating_submit(*, actor: Actor | None, level: int, indicators: dict[str, Any],
                  tags: Sequence[str] = (), text: str = "", case: Case | None = None,
                  visit: Visit | None = None, token: str = "",
                  on_staff_device: bool = False) -> Rating:
    """Rate a completed case online (一事一评, ``case``) or one visit on site (一次一评,
    ``visit``).

    Online only the case's applicant or agent may rate. On site the person served proves it
    with the signed token the window's rating page (QR code / tablet) carries; the applicant or
    agent may also rate a visit of their own case later while logged in, without the token.
    Once only, and only within ``RATING_WINDOW_DAYS`` of completion (the visit). Staff never
    rate. A 不满意 or 非常不满意 opens a rectification ticket in this same transaction.
    """
    if policies.is_staff(actor) or actor is SYSTEM:
        raise AccessDenied(_("工作人员不能提交评价"))
    if (case is None) == (visit is None):
        raise RuleViolation([Problem("case", _("须指明评价的办件或现场服务"))])
    now = timezone.now()
    if visit is not None:
        channel = Channel.ON_SITE
        visit = Visit.objects.select_related("case", "hall", "hall__department",
                                             "recorded_by").get(pk=visit.pk)
        subject = visit.case
        by_token = bool(token) and (found := visit_from_token(token)) is not None \
            and found.pk == visit.pk
        if not by_token and not policies.is_served_online(actor, subject):
            raise AccessDenied(_("评价链接无效或已过期，请在窗口重新扫码"))
        start: dt.datetime | None = visit.at
        if Rating.objects.filter(visit=visit).exists():
            raise _conflict(_("这次现场服务已经评价过（一次一评）"))
    else:
        assert case is not None
        channel = Channel.ONLINE
        subject = Case.objects.select_for_update().get(pk=case.pk)
        if not policies.is_served_online(actor, subject):
            raise AccessDenied(_("只有申请人或其代理人可以评价该办件"))
        start = completed_at(subject)
        if start is None:
            raise _conflict(_("办件办结后才能评价"))
        if Rating.objects.filter(case=subject, channel=Channel.ONLINE).exists():
            raise _conflict(_("该办件已经评价过（一事一评）"))
    assert start is not None
    if now > window_end(start):
        raise _conflict(_("已超过评价期限（办结后%(n)s天内）") % {"n": settings.RATING_WINDOW_DAYS})
    clean, tag_rows = _check_input(channel, level, indicators, tags, text)

    rating = Rating(channel=channel, case=subject, visit=visit, item_id=subject.item_id,
                    level=level, indicators=clean, text=text.strip(), created_at=now,
                    on_staff_device=on_staff_device)
    _identify_rater(rating, subject, actor=actor, on_site=visit is not None)
    if visit is not None:
        rating.handler = visit.recorded_by
        hall_department = visit.hall.department_id if visit.hall is not None else None
        rating.department_id = hall_department or subject.department_id
    else:
        rating.handler = case_handler(subject)
        rating.department_id = subject.department_id
    try:
        with transaction.atomic():
            rating.save()
    except IntegrityError as exc:  # the same case rated twice at once: the second loses
        raise _conflict(_("该办件已经评价过（一事一评）")) from exc
    rating.tags.set(tag_rows)
    audit_record(actor=actor if getattr(actor, "pk", None) else None, action="rating.submitted",
                 object_type="rating", object_id=rating.pk, detail={
                     "case": subject.number, "channel": channel, "level": level,
                     "visit": visit.pk if visit else None, "rater": rating.rater_id,
                     "tags": [t.code for t in tag_rows], "on_staff_device": on_staff_device})
    if rating.is_bad:
        _open_ticket(rating, now=now, hall_id=visit.hall_id if visit else None)
        if any(t.code == MATERIALS_BEYOND_GUIDE for t in tag_rows):
            _report_to_supervision(rating)
    return rating


def _identify_rater(rating: Rating, case: Case, *, actor: Actor | None, on_site: bool) -> None:
    """The person served, as the case identifies them (real name, phone, ID number)."""
    user = account_of(actor)
    as_agent = (user is not None and user.pk == case.agent_id) if user is not None \
        else bool(case.agent_name)
    if as_agent:
        rating.rater = user or case.agent
        rating.rater_name = case.agent_name or (str(user) if user else "")
        rating.rater_id_number = case.agent_id_number
        rating.rater_phone = getattr(rating.rater, "phone", "") or ""
    else:
        rating.rater = user or case.applicant
        rating.rater_name = case.applicant_name
        rating.rater_id_number = case.applicant_id_number
        rating.rater_phone = case.applicant_phone or getattr(rating.rater, "phone", "") or ""


def ticket_due(start: dt.datetime, *, hall_id: int | None = None) -> tuple[dt.datetime, bool]:
    """The rectification deadline: ``RATING_RECTIFICATION_WORKING_DAYS`` working days after
    ``start`` on the platform's clock (the close of office on the last one)."""
    result = compute_deadline(
        start=start, category=TIME_LIMITED, limit=settings.RATING_RECTIFICATION_WORKING_DAYS,
        unit=WORKING_DAYS, calendar=clock.work_calendar(), hours=clock.office_hours(hall_id),
        same_day_cutoff=clock.same_day_cutoff())
    return result.due, result.provisional


def _open_ticket(rating: Rating, *, now: dt.datetime, hall_id: int | None) -> RectificationTicket:
    due, provisional = ticket_due(now, hall_id=hall_id)
    ticket = RectificationTicket.objects.create(
        rating=rating, department_id=rating.department_id, handler=rating.handler,
        opened_at=now, due_at=due, due_provisional=provisional)
    audit_record(actor=None, action="rating_ticket.opened", object_type="rating_ticket",
                 object_id=ticket.pk, detail={"rating": rating.pk, "due": due.isoformat(),
                                              "department": rating.department_id})
    from tongban.scheduling.queue import enqueue_after_commit

    from .tasks import notify_ticket

    enqueue_after_commit(notify_ticket, ticket.pk, "opened")
    return ticket


def _report_to_supervision(rating: Rating) -> None:
    """需提供办事指南之外的申报材料 is a supervision matter of its own (``cases.findings``)."""
    findings.report(Finding.MATERIALS_BEYOND_GUIDE, case=rating.case,
                    department=rating.department, person=rating.handler,
                    detail={"rating": rating.pk}, actor=SYSTEM)


# --- the rectification ticket -----------------------------------------------------------------

def ledger_late(ticket: RectificationTicket) -> bool:
    """A ledger (建立台账) whose deadline falls after the day of the ticket's due instant: the
    fix itself comes after the rectification deadline, however early the ledger was opened."""
    return (ticket.response == Response.LEDGER and ticket.ledger_deadline is not None
            and ticket.ledger_deadline > ticket.due_at.astimezone(SHANGHAI).date())


def rectified_on_time(ticket: RectificationTicket) -> bool:
    """The one rule of 按时整改 (the reports' on-time rate counts it): answered (fixed, ledger
    opened or explained) no later than the due instant, a ledger whose own deadline is no later
    than the due day, and the rating not struck out on appeal."""
    return (ticket.outcome != Outcome.APPEAL_ACCEPTED and ticket.responded_at is not None
            and ticket.responded_at <= ticket.due_at and not ledger_late(ticket))


def rectification_late(ticket: RectificationTicket, *, now: dt.datetime) -> bool:
    """Answered late, answered with a late ledger, or unanswered past the due instant."""
    if ticket.responded_at is None:
        return now > ticket.due_at
    return ticket.responded_at > ticket.due_at or ledger_late(ticket)


def _lock(ticket: RectificationTicket, expected_version: int | None) -> RectificationTicket:
    locked = (RectificationTicket.objects.select_for_update(of=("self",))
              .select_related("rating").get(pk=ticket.pk))
    if expected_version is not None and locked.version != expected_version:
        raise _conflict(_("该工单已被他人处理，请刷新后重试"))
    return locked


def _state(ticket: RectificationTicket, *allowed: str) -> None:
    if ticket.state not in allowed:
        raise _conflict(_("工单当前状态为“%(state)s”，不能执行此操作") % {
            "state": TicketState(ticket.state).label})


def _save(ticket: RectificationTicket, *, actor: Actor, action: str, fields: Sequence[str],
          detail: dict[str, Any] | None = None) -> RectificationTicket:
    ticket.version += 1
    ticket.save(update_fields=["state", "version", *fields])
    audit_record(actor=actor, action=f"rating_ticket.{action}", object_type="rating_ticket",
                 object_id=ticket.pk, detail={"state": ticket.state, **(detail or {})})
    return ticket


@transaction.atomic
def rater_data_access_record(*, actor: Actor, rating: Rating) -> None:
    """Staff reading a rater's name and phone in full (one ticket's page or API answer) is an
    exercise of power and is audited (``rating.rater_viewed``); the rater's own reads and masked
    ones are not."""
    if not policies.reveals_rater(actor, rating):
        return
    ticket = getattr(rating, "ticket", None)
    audit_record(actor=actor, action="rating.rater_viewed", object_type="rating",
                 object_id=rating.pk, detail={
                     "ticket": ticket.pk if ticket is not None else None,
                     "fields": ["rater_name", "rater_phone"]})


def needs_callback(rating: Rating) -> bool:
    """Real-name bad reviews get a callback (回访): the rater is known and reachable."""
    return bool(rating.rater_name and (rating.rater_id or rating.rater_phone))


def _required(value: str, field: str) -> None:
    if not (value or "").strip():
        raise RuleViolation([Problem(field, _("此项不能为空"))])


@transaction.atomic
def ticket_respond(*, actor: Actor, ticket: RectificationTicket, response: str, text: str,
                   ledger_deadline: dt.date | None = None,
                   expected_version: int | None = None) -> RectificationTicket:
    """The department's answer: 立行立改, 建立台账 with a deadline, or 解释说明."""
    ticket = _lock(ticket, expected_version)
    if not policies.acts_on_ticket(actor, ticket):
        raise AccessDenied(_("只有责任部门可以处理该工单"))
    _state(ticket, TicketState.OPEN)
    problems: list[Problem] = []
    if response not in Response.values:
        problems.append(Problem("response", _("处理方式须为立行立改、建立台账或解释说明")))
    if not text.strip():
        problems.append(Problem("text", _("须写明整改情况或说明")))
    today = timezone.now().astimezone(SHANGHAI).date()
    if response == Response.LEDGER:
        if ledger_deadline is None:
            problems.append(Problem("ledger_deadline", _("建立台账须填写整改期限")))
        elif ledger_deadline < today:
            problems.append(Problem("ledger_deadline", _("整改期限不能早于今天")))
    if problems:
        raise RuleViolation(problems)
    now = timezone.now()
    ticket.response, ticket.response_text = response, text.strip()
    ticket.ledger_deadline = ledger_deadline if response == Response.LEDGER else None
    ticket.responded_at, ticket.responded_by = now, account_of(actor)
    if now > ticket.due_at or ledger_late(ticket):
        ticket.overdue = True
    fields = ["response", "response_text", "ledger_deadline", "responded_at", "responded_by",
              "overdue"]
    if needs_callback(ticket.rating):
        ticket.state = TicketState.RESPONDED
    else:
        ticket.state, ticket.outcome, ticket.closed_at = TicketState.CLOSED, Outcome.RECTIFIED, now
        fields += ["outcome", "closed_at"]
    return _save(ticket, actor=actor, action="responded", fields=fields,
                 detail={"response": response, "on_time": not ticket.overdue})


@transaction.atomic
def ticket_callback(*, actor: Actor, ticket: RectificationTicket, reached: bool, note: str,
                    satisfied: bool | None = None,
                    expected_version: int | None = None) -> RectificationTicket:
    """回访 the rater after the response. A rater with an account then rates the fix
    themselves; for one without, ``satisfied`` is what they said on the call. A rater who
    cannot be reached: the attempt is recorded and the ticket closes without their view."""
    ticket = _lock(ticket, expected_version)
    if not policies.can_record_callback(actor, ticket):
        raise AccessDenied(_("只有责任部门或监察人员可以记录回访"))
    _state(ticket, TicketState.RESPONDED)
    _required(note, "note")
    now = timezone.now()
    rating = ticket.rating
    ticket.callback_at, ticket.callback_by = now, account_of(actor)
    ticket.callback_reached, ticket.callback_note = bool(reached), note.strip()
    fields = ["callback_at", "callback_by", "callback_reached", "callback_note"]
    if reached and rating.rater_id is not None:
        ticket.state = TicketState.AWAITING_RATER
    else:
        if reached and satisfied is None:
            raise RuleViolation([Problem("satisfied", _("请记录评价人对整改是否满意"))])
        ticket.fix_satisfied = satisfied if reached else None
        ticket.fix_rated_at = now if reached else None
        ticket.state, ticket.outcome, ticket.closed_at = TicketState.CLOSED, Outcome.RECTIFIED, now
        fields += ["fix_satisfied", "fix_rated_at", "outcome", "closed_at"]
    return _save(ticket, actor=actor, action="called_back", fields=fields,
                 detail={"reached": bool(reached)})


@transaction.atomic
def ticket_rate_fix(*, actor: Actor, ticket: RectificationTicket, satisfied: bool,
                    expected_version: int | None = None) -> RectificationTicket:
    """The rater says whether the fix satisfies them; the ticket closes."""
    ticket = _lock(ticket, expected_version)
    rating = ticket.rating
    if policies.is_staff(actor) or rating.rater_id is None or \
            getattr(actor, "pk", None) != rating.rater_id:
        raise AccessDenied(_("只有评价人本人可以评价整改情况"))
    _state(ticket, TicketState.AWAITING_RATER)
    now = timezone.now()
    ticket.fix_satisfied, ticket.fix_rated_at = bool(satisfied), now
    ticket.state, ticket.outcome, ticket.closed_at = TicketState.CLOSED, Outcome.RECTIFIED, now
    return _save(ticket, actor=actor, action="fix_rated",
                 fields=["fix_satisfied", "fix_rated_at", "outcome", "closed_at"],
                 detail={"satisfied": bool(satisfied)})


@transaction.atomic
def ticket_appeal(*, actor: Actor, ticket: RectificationTicket, reason: str,
                  expected_version: int | None = None) -> RectificationTicket:
    """申诉复核: the department says the rating is mistaken or malicious. Once per ticket."""
    ticket = _lock(ticket, expected_version)
    if not policies.acts_on_ticket(actor, ticket):
        raise AccessDenied(_("只有责任部门可以申诉"))
    _state(ticket, TicketState.OPEN)
    if ticket.appeal_decision:
        raise _conflict(_("该工单的申诉已被驳回，不能再次申诉"))
    _required(reason, "reason")
    ticket.state = TicketState.APPEALED
    ticket.appeal_reason, ticket.appealed_at, ticket.appealed_by = (
        reason.strip(), timezone.now(), account_of(actor))
    _save(ticket, actor=actor, action="appealed",
          fields=["appeal_reason", "appealed_at", "appealed_by"])
    from tongban.scheduling.queue import enqueue_after_commit

    from .tasks import notify_ticket

    enqueue_after_commit(notify_ticket, ticket.pk, "appealed")
    return ticket


@transaction.atomic
def ticket_decide_appeal(*, actor: Actor, ticket: RectificationTicket, accept: bool, note: str,
                         expected_version: int | None = None) -> RectificationTicket:
    """A supervisor decides the appeal. Accepted: the rating leaves the figures (the reason is
    kept on it) and the ticket closes. Rejected: the ticket is open again, due as before."""
    ticket = _lock(ticket, expected_version)
    if not policies.can_decide_appeal(actor):
        raise AccessDenied(_("只有监察人员可以复核申诉"))
    _state(ticket, TicketState.APPEALED)
    _required(note, "note")
    now = timezone.now()
    ticket.appeal_note, ticket.appeal_decided_at, ticket.appeal_decided_by = (
        note.strip(), now, account_of(actor))
    fields = ["appeal_decision", "appeal_note", "appeal_decided_at", "appeal_decided_by"]
    if accept:
        ticket.appeal_decision = AppealDecision.ACCEPTED
        ticket.state, ticket.outcome, ticket.closed_at = (TicketState.CLOSED,
                                                          Outcome.APPEAL_ACCEPTED, now)
        fields += ["outcome", "closed_at"]
        rating = ticket.rating
        rating.excluded, rating.excluded_at = True, now
        rating.excluded_reason = str(_("申诉成立：%(reason)s（复核意见：%(note)s）") % {
            "reason": ticket.appeal_reason, "note": note.strip()})
        rating.save(update_fields=["excluded", "excluded_reason", "excluded_at"])
        audit_record(actor=actor, action="rating.excluded", object_type="rating",
                     object_id=rating.pk, detail={"ticket": ticket.pk})
    else:
        ticket.appeal_decision = AppealDecision.REJECTED
        ticket.state = TicketState.OPEN
    _save(ticket, actor=actor, action="appeal_decided", fields=fields,
          detail={"accepted": bool(accept)})
    from tongban.scheduling.queue import enqueue_after_commit

    from .tasks import notify_ticket

    enqueue_after_commit(notify_ticket, ticket.pk, "appeal_decided")
    return ticket


# --- overdue ----------------------------------------------------------------------------------

def tickets_sweep(*, now: dt.datetime) -> list[int]:
    """Mark open tickets past their due instant overdue; returns the ids newly marked (each is
    escalated once to its department's heads and the supervisors by the calling task)."""
    with transaction.atomic():
        ids = list(RectificationTicket.objects.select_for_update()
                   .filter(state=TicketState.OPEN, overdue=False, due_at__lt=now)
                   .values_list("pk", flat=True))
        if ids:
            RectificationTicket.objects.filter(pk__in=ids).update(overdue=True, escalated_at=now)
            audit_record(actor=None, action="rating_ticket.overdue", object_type="rating_ticket",
                         object_id=",".join(map(str, ids[:50])), detail={"count": len(ids)})
    return ids


def tickets_escalate_overdue(*, now: dt.datetime) -> int:
    """Periodic (task ``sweep_tickets``): mark the tickets past their due instant overdue
    (``tickets_sweep``) and escalate each once to its department's heads, its handler and the
    supervisors. Returns how many messages went out."""
    from tongban.cases.notifications import recipients
    from tongban.cases.notifications.services import notify_users

    ids = tickets_sweep(now=now)
    sent = 0
    for ticket in (RectificationTicket.objects.select_related("rating__case", "department",
                                                              "handler")
                   .filter(pk__in=ids, state=TicketState.OPEN)):
        number = ticket.rating.case.number or ""
        sent += notify_users(
            recipients.escalation(ticket.department_id, with_person=ticket.handler),
            key=f"rating-ticket-{ticket.pk}-overdue",
            subject=_t("差评整改超期：办件 %(n)s") % {"n": number},
            text=_t("%(dept)s 对办件 %(n)s 的差评整改已超过期限 %(due)s，请督办。") % {
                "dept": ticket.department.name, "n": number,
                "due": timezone.localtime(ticket.due_at).strftime("%Y-%m-%d %H:%M")},
            kind="rating", case=ticket.rating.case)
    return sent
