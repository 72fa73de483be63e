"""API shapes of ratings and rectification tickets. The rater's identity is masked unless the
caller is the rater, or — on one ticket's answer, audited — a supervisor or acts on the ticket
(``selectors.rater_for``)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.utils import timezone
from ninja import Schema
from pydantic import Field

from tongban.catalog.api.public import ErrorOut as ErrorOut
from tongban.catalog.api.public import ProblemsOut as ProblemsOut

from .models import Rating, RectificationTicket
from .selectors import rater_for

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor


class RatingIn(Schema):
    level: int = Field(..., description="总体评价 1–5 (5 非常满意 … 1 非常不满意)")
    indicators: dict[str, int] = Field(
        default_factory=dict,
        description="Online: efficiency, guide_accuracy, convenience, usability. On site: "
                    "service_efficiency, service_level, service_attitude. Each 1–5.")
    tags: list[str] = Field(default_factory=list, description="Bad-review tag codes (GET /ratings/tags)")
    text: str = ""


class VisitRatingIn(RatingIn):
    token: str = Field("", description="The signed token of the window's rating page (QR code)")


class TagOut(Schema):
    code: str
    name: str
    national: bool


class RaterOut(Schema):
    name: str
    phone: str
    id_number: str
    masked: bool


class RatingOut(Schema):
    id: int
    channel: str
    case_number: str | None
    item: str
    department: str
    level: int
    level_label: str
    indicators: dict[str, int]
    tags: list[TagOut]
    text: str
    created_at: dt.datetime
    rater: RaterOut
    excluded: bool
    excluded_reason: str
    ticket_id: int | None


def rating_out(rating: Rating, user: Actor, *, reveal: bool = False) -> RatingOut:
    """``reveal``: the rater as one ticket shows them (``selectors.rater_for``); the caller
    audits the read."""
    rater = rater_for(user, rating, reveal=reveal)
    ticket = getattr(rating, "ticket", None)
    version = rating.item.current
    return RatingOut(
        id=rating.pk, channel=rating.channel, case_number=rating.case.number,
        item=version.name if version else rating.item.implementation_code,
        department=rating.department.name, level=rating.level,
        level_label=str(rating.get_level_display()), indicators=rating.indicators,
        tags=[TagOut(code=t.code, name=t.name, national=t.national) for t in rating.tags.all()],
        text=rating.text, created_at=timezone.localtime(rating.created_at),
        rater=RaterOut(name=rater.name, phone=rater.phone, id_number=rater.id_number,
                       masked=rater.masked),
        excluded=rating.excluded, excluded_reason=rating.excluded_reason,
        ticket_id=ticket.pk if ticket is not None else None)


class TicketOut(Schema):
    id: int
    version: int
    state: str
    state_label: str
    department: str
    handler: str
    opened_at: dt.datetime
    due_at: dt.datetime
    due_provisional: bool
    overdue: bool
    response: str
    response_text: str
    ledger_deadline: dt.date | None
    responded_at: dt.datetime | None
    callback_at: dt.datetime | None
    callback_reached: bool | None
    callback_note: str
    fix_satisfied: bool | None
    appeal_reason: str
    appeal_decision: str
    appeal_note: str
    outcome: str
    closed_at: dt.datetime | None
    rating: RatingOut


def _local(value: dt.datetime | None) -> dt.datetime | None:
    return timezone.localtime(value) if value is not None else None


def ticket_out(ticket: RectificationTicket, user: Actor, *, reveal: bool = False) -> TicketOut:
    return TicketOut(
        id=ticket.pk, version=ticket.version, state=ticket.state,
        state_label=str(ticket.get_state_display()), department=ticket.department.name,
        handler=str(ticket.handler) if ticket.handler else "",
        opened_at=timezone.localtime(ticket.opened_at), due_at=timezone.localtime(ticket.due_at),
        due_provisional=ticket.due_provisional, overdue=ticket.overdue,
        response=ticket.response, response_text=ticket.response_text,
        ledger_deadline=ticket.ledger_deadline, responded_at=_local(ticket.responded_at),
        callback_at=_local(ticket.callback_at), callback_reached=ticket.callback_reached,
        callback_note=ticket.callback_note, fix_satisfied=ticket.fix_satisfied,
        appeal_reason=ticket.appeal_reason, appeal_decision=ticket.appeal_decision,
        appeal_note=ticket.appeal_note, outcome=ticket.outcome,
        closed_at=_local(ticket.closed_at), rating=rating_out(ticket.rating, user, reveal=reveal))


class TicketVersionIn(Schema):
    expected_version: int | None = None


class RespondIn(TicketVersionIn):
    response: str = Field(..., description="fix_now 立行立改 / ledger 建立台账 / explained 解释说明")
    text: str = ""
    ledger_deadline: dt.date | None = None


class CallbackIn(TicketVersionIn):
    reached: bool = True
    note: str = ""
    satisfied: bool | None = Field(None, description="For a rater without an account: what they "
                                                     "said on the call")


class RateFixIn(TicketVersionIn):
    satisfied: bool


class AppealIn(TicketVersionIn):
    reason: str = ""


class AppealDecisionIn(TicketVersionIn):
    accept: bool
    note: str = ""


class TicketPageOut(Schema):
    count: int
    items: list[TicketOut]
