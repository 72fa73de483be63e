"""The ratings API: rating a case or a visit, and the whole path of a rectification ticket.

As the case API: a case or ticket the caller may not see answers 404; an action the caller may
not take 403; a broken rule 422 ``[{field, message}]``; an action the state no longer allows
(rated already, window over, ticket moved on) 409. The monthly report is public.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from tongban.cases import selectors as case_selectors
from tongban.cases.models import Visit

from . import policies, selectors, services
from .models import Rating, RatingTag, RectificationTicket
from .schemas import (
    AppealDecisionIn,
    AppealIn,
    CallbackIn,
    ErrorOut,
    ProblemsOut,
    RateFixIn,
    RatingIn,
    RatingOut,
    RespondIn,
    TagOut,
    TicketOut,
    TicketPageOut,
    VisitRatingIn,
    rating_out,
    ticket_out,
)

router = Router(tags=["ratings"])

ACTION: dict[int, Any] = {200: TicketOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
                          422: ProblemsOut}
RATED: dict[int, Any] = {201: RatingOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
                         422: ProblemsOut}


def _rating(pk: int) -> Rating:
    return (Rating.objects.select_related("case", "item__current", "department", "ticket")
            .prefetch_related("tags").get(pk=pk))


def _ticket(request: HttpRequest, ticket_id: int) -> RectificationTicket:
    ticket = selectors.ticket_find(request.user, ticket_id)
    if ticket is None:
        raise HttpError(404, _("工单不存在，或您无权查看"))
    return ticket


def _ticket_answer(request: HttpRequest, ticket: RectificationTicket) -> TicketOut:
    fresh = selectors.ticket_find(request.user, ticket.pk)
    assert fresh is not None
    return ticket_out(fresh, request.user)


@router.get("/tags", auth=None, response=list[TagOut], summary="Bad-review tags")
def tags(request: HttpRequest) -> Any:
    """The bad-review tags a 不满意 / 非常不满意 may carry (the three national ones first)."""
    return [TagOut(code=t.code, name=t.name, national=t.national)
            for t in RatingTag.objects.filter(active=True)]


@router.post("/cases/{number_or_id}", response=RATED, summary="Rate a completed case (一事一评)")
def rate_case(request: HttpRequest, number_or_id: str, payload: RatingIn) -> Any:
    """The case's applicant or agent, once, within the rating window after completion. A
    不满意 or 非常不满意 opens a rectification ticket (its id is in ``ticket_id``)."""
    case = case_selectors.case_find(request.user, number_or_id)
    if case is None:
        raise HttpError(404, _("办件不存在，或您无权查看"))
    rating = services.rating_submit(actor=request.user, case=case, level=payload.level,
                                    indicators=payload.indicators, tags=payload.tags,
                                    text=payload.text)
    return Status(201, rating_out(_rating(rating.pk), request.user))


@router.post("/visits/{visit_id}", response=RATED, summary="Rate one visit on site (一次一评)")
def rate_visit(request: HttpRequest, visit_id: int, payload: VisitRatingIn) -> Any:
    """With the token of the window's rating page, or as the case's applicant or agent."""
    visit = Visit.objects.filter(pk=visit_id).first()
    if visit is None:
        raise HttpError(404, _("现场服务记录不存在"))
    rating = services.rating_submit(actor=request.user, visit=visit, token=payload.token,
                                    level=payload.level, indicators=payload.indicators,
                                    tags=payload.tags, text=payload.text)
    return Status(201, rating_out(_rating(rating.pk), request.user))


class TicketQuery(Schema):
    state: str = Field("", description="open / appealed / responded / awaiting_rater / closed")


@router.get("/tickets", response={200: TicketPageOut}, summary="Rectification tickets I handle")
def list_tickets(request: HttpRequest, query: Query[TicketQuery]) -> Any:
    """Officers and heads: their department's; the handler: theirs; supervisors: all; a rater:
    those waiting for them to rate the fix. Soonest due first."""
    if policies.is_staff(request.user):
        tickets = list(selectors.tickets_for(request.user, state=query.state)[:200])
    else:
        tickets = list(selectors.tickets_for_rater(request.user))
    return TicketPageOut(count=len(tickets), items=[ticket_out(t, request.user) for t in tickets])


@router.get("/tickets/{ticket_id}", response={200: TicketOut, 404: ErrorOut}, summary="One ticket")
def get_ticket(request: HttpRequest, ticket_id: int) -> Any:
    """The rater's name and phone in full for those who call them back (supervisors and the
    people acting on the ticket), the ID number masked; the read is audited
    (``rating.rater_viewed``). Lists and the answers of actions show the rater masked."""
    ticket = _ticket(request, ticket_id)
    services.rater_data_access_record(actor=request.user, rating=ticket.rating)
    return ticket_out(ticket, request.user, reveal=True)


@router.post("/tickets/{ticket_id}/respond", response=ACTION,
             summary="Fix at once, open a ledger, or explain")
def respond(request: HttpRequest, ticket_id: int, payload: RespondIn) -> Any:
    ticket = services.ticket_respond(
        actor=request.user, ticket=_ticket(request, ticket_id), response=payload.response,
        text=payload.text, ledger_deadline=payload.ledger_deadline,
        expected_version=payload.expected_version)
    return _ticket_answer(request, ticket)


@router.post("/tickets/{ticket_id}/callback", response=ACTION, summary="Record the callback (回访)")
def callback(request: HttpRequest, ticket_id: int, payload: CallbackIn) -> Any:
    ticket = services.ticket_callback(
        actor=request.user, ticket=_ticket(request, ticket_id), reached=payload.reached,
        note=payload.note, satisfied=payload.satisfied, expected_version=payload.expected_version)
    return _ticket_answer(request, ticket)


@router.post("/tickets/{ticket_id}/rate-fix", response=ACTION, summary="The rater rates the fix")
def rate_fix(request: HttpRequest, ticket_id: int, payload: RateFixIn) -> Any:
    ticket = services.ticket_rate_fix(actor=request.user, ticket=_ticket(request, ticket_id),
                                      satisfied=payload.satisfied,
                                      expected_version=payload.expected_version)
    return _ticket_answer(request, ticket)


@router.post("/tickets/{ticket_id}/appeal", response=ACTION,
             summary="Appeal a mistaken or malicious rating (申诉)")
def appeal(request: HttpRequest, ticket_id: int, payload: AppealIn) -> Any:
    ticket = services.ticket_appeal(actor=request.user, ticket=_ticket(request, ticket_id),
                                    reason=payload.reason,
                                    expected_version=payload.expected_version)
    return _ticket_answer(request, ticket)


@router.post("/tickets/{ticket_id}/appeal-decision", response=ACTION,
             summary="A supervisor accepts or rejects the appeal")
def appeal_decision(request: HttpRequest, ticket_id: int, payload: AppealDecisionIn) -> Any:
    ticket = services.ticket_decide_appeal(
        actor=request.user, ticket=_ticket(request, ticket_id), accept=payload.accept,
        note=payload.note, expected_version=payload.expected_version)
    return _ticket_answer(request, ticket)


@router.get("/reports/{year}-{month}", auth=None, response={200: dict[str, Any], 404: ErrorOut},
            summary="The public monthly report")
def report(request: HttpRequest, year: int, month: int) -> Any:
    """Counts only: nothing in it identifies a rater. Formulas: docs/ratings.md."""
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise HttpError(404, _("没有这个月份"))
    return selectors.monthly_report(year, month).as_dict()
