"""Rating pages: the citizen rates a case, the window's rating page (QR code and tablet form),
the department's tickets, the supervisors' appeal queue, and the public monthly report.
Thin: every rule is in ``services``; reads are in ``selectors``."""

from __future__ import annotations

import csv
import datetime as dt
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from tongban.accounts.models import Role
from tongban.cases import selectors as case_selectors
from tongban.cases.documents import qr_svg_data_uri
from tongban.cases.models import Case, Visit
from tongban.cases.models import Channel as CaseChannel
from tongban.core.access import public, require_login, require_roles
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.core.forms import add_problems
from tongban.organizations.models import Window

from . import policies, selectors, services
from .forms import (
    AppealDecisionForm,
    AppealForm,
    CallbackForm,
    RateFixForm,
    RatingForm,
    RespondForm,
)
from .models import Channel, RectificationTicket, TicketState

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

TICKET_ROLES = (Role.OFFICER, Role.HEAD, Role.CLERK, Role.PROXY_AGENT, Role.SUPERVISOR)
SESSION_WINDOW = "tongban.window_id"  # the window the clerk chose at the comprehensive window


def _denied(exc: AccessDenied) -> PermissionDenied:
    return PermissionDenied(str(exc))


# --- the citizen rates a case (一事一评) ----------------------------------------------------------

def _my_case(request: HttpRequest, ref: str) -> Case:
    case = case_selectors.case_find(request.user, ref)
    if case is None or not policies.is_served_online(request.user, case):
        raise Http404
    return case


@require_login
def rate_case(request: HttpRequest, ref: str) -> HttpResponse:
    case = _my_case(request, ref)
    state = selectors.case_rating_state(request.user, case)
    form = RatingForm(request.POST or None, channel=Channel.ONLINE)
    status = 200
    if request.method == "POST" and state.can_rate:
        if form.is_valid():
            try:
                services.rating_submit(actor=request.user, case=case, **form.service_kwargs())
            except RuleViolation as exc:
                add_problems(form, exc, form.field_map())
            except AccessDenied as exc:
                raise _denied(exc) from exc
            else:
                return redirect("ratings:rate_case", ref=case.number)
        status = 422
    rating = state.rating
    ticket = getattr(rating, "ticket", None) if rating is not None else None
    return render(request, "ratings/rate_case.html", {
        "case": case, "state": state, "form": form, "rating": rating, "ticket": ticket,
        "fix_form": (RateFixForm(prefix="rate_fix")
                     if ticket and ticket.state == TicketState.AWAITING_RATER else None),
        "window_days": settings.RATING_WINDOW_DAYS}, status=status)


# --- on site: the window's rating page (一次一评) -------------------------------------------------

def _latest_visit(user: Actor, window: Window | None) -> Visit | None:
    since = timezone.now() - dt.timedelta(minutes=settings.RATING_VISIT_TOKEN_MINUTES)
    mine = Q(recorded_by=user)
    if window is not None:
        mine = Q(window=window) | Q(window=None, recorded_by=user)
    return (Visit.objects.select_related("case", "case__item_version", "window")
            .filter(mine, hall=getattr(user, "hall_id", None), at__gte=since, rating__isnull=True)
            .order_by("-at", "-pk").first())


@require_roles(Role.CLERK)
def window_page(request: HttpRequest) -> HttpResponse:
    """The clerk's window shows, for the latest visit it served, the QR code of the rating
    page (for the applicant's phone) and the same rating form (for the window's tablet)."""
    user = request.user
    windows = list(Window.objects.filter(hall_id=getattr(user, "hall_id", None) or 0).order_by("number"))
    chosen = request.GET.get("window") or request.session.get(SESSION_WINDOW)
    window = next((w for w in windows if str(w.pk) == str(chosen)), None)
    if window is not None:
        request.session[SESSION_WINDOW] = window.pk
    visit = _latest_visit(user, window)
    context: dict[str, Any] = {"windows": windows, "window": window, "visit": visit}
    if visit is not None:
        token = services.visit_token(visit)
        path = reverse("ratings:rate_visit", args=[token])
        url = (settings.PUBLIC_URL + path) if settings.PUBLIC_URL else request.build_absolute_uri(path)
        context.update(url=url, qr=qr_svg_data_uri(url), token=token,
                       form=RatingForm(channel=Channel.ON_SITE),
                       minutes=settings.RATING_VISIT_TOKEN_MINUTES)
    return render(request, "ratings/window.html", context)


@public
def rate_visit(request: HttpRequest, token: str) -> HttpResponse:
    """The rating page of one visit, reached by the window's QR code or shown on its tablet.

    The signed token is the proof of having been served; the rating is the served person's
    (from the case), never the logged-in staff member's: a staff session is recorded as
    "rated on the window's device"."""
    visit = services.visit_from_token(token)
    if visit is None:
        return render(request, "ratings/visit_expired.html", status=410)
    form = RatingForm(request.POST or None, channel=Channel.ON_SITE)
    status = 200
    user = request.user
    staff = policies.is_staff(user)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.rating_submit(actor=None if staff else user, visit=visit, token=token,
                                       on_staff_device=staff, **form.service_kwargs())
            except RuleViolation as exc:
                add_problems(form, exc, form.field_map())
            except AccessDenied as exc:
                raise _denied(exc) from exc
            else:
                return render(request, "ratings/thanks.html", {"again": staff})
        status = 422
    rated = Visit.objects.filter(pk=visit.pk, rating__isnull=False).exists()
    return render(request, "ratings/rate_visit.html", {
        "visit": visit, "form": form, "token": token, "rated": rated}, status=status)


# --- tickets --------------------------------------------------------------------------------------

@require_roles(*TICKET_ROLES)
def tickets(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    if state not in TicketState.values:
        state = ""
    rows = list(selectors.tickets_for(request.user, state=state)[:200])
    today = timezone.localdate()
    department = getattr(request.user, "department_id", None)
    figures = selectors.ticket_figures(today.replace(day=1), today + dt.timedelta(days=1),
                                       department_id=None if policies.is_supervisor(request.user)
                                       else department)
    return render(request, "ratings/tickets.html", {
        "tickets": rows, "state": state, "states": TicketState.choices, "figures": figures,
        "now": timezone.now()})


def _ticket_or_404(request: HttpRequest, ticket_id: int) -> RectificationTicket:
    ticket = selectors.ticket_find(request.user, ticket_id)
    if ticket is None:
        raise Http404
    return ticket


ACTIONS: dict[str, Any] = {
    "respond": RespondForm, "callback": CallbackForm, "appeal": AppealForm,
    "decide": AppealDecisionForm, "rate_fix": RateFixForm,
}


def _available(user: Actor, ticket: RectificationTicket) -> set[str]:
    acts = policies.acts_on_ticket(user, ticket)
    out = set()
    if ticket.state == TicketState.OPEN and acts:
        out.add("respond")
        if not ticket.appeal_decision:
            out.add("appeal")
    if ticket.state == TicketState.RESPONDED and policies.can_record_callback(user, ticket):
        out.add("callback")
    if ticket.state == TicketState.APPEALED and policies.can_decide_appeal(user):
        out.add("decide")
    if ticket.state == TicketState.AWAITING_RATER and not policies.is_staff(user) \
            and ticket.rating.rater_id == getattr(user, "pk", None):
        out.add("rate_fix")
    return out


def _run(action: str, user: Actor, ticket: RectificationTicket, data: dict[str, Any],
         version: int | None) -> None:
    common: dict[str, Any] = {"actor": user, "ticket": ticket, "expected_version": version}
    if action == "respond":
        services.ticket_respond(response=data["response"], text=data["text"],
                                ledger_deadline=data["ledger_deadline"], **common)
    elif action == "callback":
        services.ticket_callback(reached=data["reached"], note=data["note"],
                                 satisfied=data["satisfied"], **common)
    elif action == "appeal":
        services.ticket_appeal(reason=data["reason"], **common)
    elif action == "decide":
        services.ticket_decide_appeal(accept=data["accept"], note=data["note"], **common)
    elif action == "rate_fix":
        services.ticket_rate_fix(satisfied=data["satisfied"], **common)


@require_login
def ticket_page(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket_or_404(request, ticket_id)
    available = _available(request.user, ticket)
    forms = {name: ACTIONS[name](prefix=name) for name in available}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in ACTIONS:
            raise Http404
        form = ACTIONS[action](request.POST, prefix=action)
        forms[action] = form
        if form.is_valid():
            try:
                raw = request.POST.get("version", "")
                version = int(raw) if raw.isdecimal() else None
                _run(action, request.user, ticket, form.cleaned_data, version)
            except RuleViolation as exc:
                add_problems(form, exc)
            except AccessDenied as exc:
                raise _denied(exc) from exc
            else:
                if action == "rate_fix":
                    return redirect("ratings:rate_case", ref=ticket.rating.case.number)
                return redirect("ratings:ticket", ticket_id=ticket.pk)
        status = 422
    rater = selectors.rater_for(request.user, ticket.rating, reveal=True)
    services.rater_data_access_record(actor=request.user, rating=ticket.rating)
    return render(request, "ratings/ticket.html", {
        "ticket": ticket, "rating": ticket.rating, "rater": rater, "forms": forms,
        "now": timezone.now()}, status=status)


@require_roles(Role.SUPERVISOR)
def appeals(request: HttpRequest) -> HttpResponse:
    return render(request, "ratings/appeals.html", {"tickets": selectors.appeals_pending()})


# --- the public monthly report -----------------------------------------------------------------

def _month(year: int, month: int) -> selectors.MonthlyReport:
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise Http404
    return selectors.monthly_report(year, month)


@public
def report_index(request: HttpRequest) -> HttpResponse:
    months = [{"label": f"{y:04d}-{m:02d}", "year": y, "month": m}
              for y, m in selectors.report_months()]
    return render(request, "ratings/report_index.html", {"months": months})


@public
def report(request: HttpRequest, year: int, month: int) -> HttpResponse:
    data = _month(year, month)
    channels = [(Channel(ch).label, levels) for ch, levels in data.ratings_by_channel_level.items()]
    case_channels = [(CaseChannel(ch).label if ch in CaseChannel.values else ch, n)
                     for ch, n in data.cases_by_channel.items()]
    return render(request, "ratings/report.html", {"report": data, "channels": channels,
                                                   "case_channels": case_channels,
                                                   "rectification_days":
                                                   settings.RATING_RECTIFICATION_WORKING_DAYS})


@public
def report_json(request: HttpRequest, year: int, month: int) -> HttpResponse:
    response = JsonResponse(_month(year, month).as_dict(), json_dumps_params={"ensure_ascii": False})
    response["Content-Disposition"] = f'inline; filename="ratings-{year:04d}-{month:02d}.json"'
    return response


@public
def report_csv(request: HttpRequest, year: int, month: int) -> HttpResponse:
    """One row per figure: section, name, metric, value (UTF-8 with BOM for spreadsheets)."""
    data = _month(year, month).as_dict()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="ratings-{year:04d}-{month:02d}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(["section", "name", "metric", "value"])
    writer.writerow(["cases", "all", "total", data["cases"]["total"]])
    for channel, n in data["cases"]["by_channel"].items():
        writer.writerow(["cases", channel, "completed", n])
    ratings = data["ratings"]
    for key in ("total", "excluded_after_appeal", "avg_score_10", "good_rate"):
        writer.writerow(["ratings", "all", key, ratings[key]])
    for channel, levels in ratings["by_channel_and_level"].items():
        for level, n in levels.items():
            writer.writerow(["ratings", channel, f"level_{level}", n])
    for key, value in data["rectification"].items():
        writer.writerow(["rectification", "all", key, value])
    for tag in data["top_tags"]:
        writer.writerow(["tags", tag["tag"], "count", tag["count"]])
    for section in ("departments", "items"):
        for row in data[section]:
            for key, value in row.items():
                if key != "name":
                    writer.writerow([section, row["name"], key, value])
    return response
