"""Queue pages: take a ticket (kiosk or phone), follow it, the window's calling page, the hall
screen and the waiting-time figures. Thin: every rule is in ``services`` and ``selectors``."""

from __future__ import annotations

from typing import Any, NoReturn

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from tongban.accounts.masking import mask_phone
from tongban.accounts.models import HALL_ROLES
from tongban.core.access import public, require_roles
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.core.forms import CalendarDateField, add_problems
from tongban.organizations.models import Hall, Window

from . import selectors, services
from .models import ServiceCategory, Ticket, TicketStatus
from .policies import FIGURE_ROLES

SESSION_WINDOW = "queues_window_id"
MAX_FIGURE_DAYS = 366
HALL_STAFF = tuple(sorted(HALL_ROLES))


def _problems_text(exc: RuleViolation) -> str:
    return "；".join(str(p.message) for p in exc.problems)


# --- public: halls, taking a ticket, following it --------------------------------------------

@public
def hall_index(request: HttpRequest) -> HttpResponse:
    """Halls that hand out tickets, each with its take and screen pages."""
    show_figures = getattr(request.user, "role", None) in FIGURE_ROLES
    return render(request, "queues/index.html", {"halls": selectors.hall_list(),
                                                 "show_figures": show_figures})


class TakeForm(forms.Form):
    phone = forms.CharField(label=_("手机号码（选填）"), required=False, max_length=20,
                            help_text=_("填写后可凭此号码查询，同一号码在本大厅只能有一个等候中的号"))
    category = forms.IntegerField(widget=forms.HiddenInput, required=False)


@public
def take(request: HttpRequest, hall_id: int) -> HttpResponse:
    """取号: big buttons per category with the number waiting and the estimated wait."""
    hall = get_object_or_404(Hall, pk=hall_id)
    form = TakeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        category = ServiceCategory.objects.filter(hall=hall, pk=request.POST.get("category") or 0).first()
        if category is None:
            form.add_error(None, _("请选择业务类别"))
        else:
            try:
                ticket = services.ticket_take(hall=hall, category=category,
                                              phone=form.cleaned_data["phone"])
            except RuleViolation as exc:
                add_problems(form, exc)
            else:
                return redirect("queues:ticket", token=ticket.token)
        status = 422
    return render(request, "queues/take.html", {
        "hall": hall, "form": form, "queues": selectors.hall_queues(hall)}, status=status)


def _ticket_or_404(token: Any) -> Ticket:
    ticket = selectors.ticket_by_token(token)
    if ticket is None:
        raise Http404
    return ticket


def _ticket_context(ticket: Ticket) -> dict[str, Any]:
    return {"ticket": ticket, "position": selectors.ticket_position(ticket),
            "masked_phone": mask_phone(ticket.phone), "Status": TicketStatus}


@public
def ticket(request: HttpRequest, token: Any) -> HttpResponse:
    """The taken ticket: number, position, estimated wait; the status part refreshes itself."""
    t = _ticket_or_404(token)
    return render(request, "queues/ticket.html", _ticket_context(t))


@public
def ticket_status(request: HttpRequest, token: Any) -> HttpResponse:
    """The fragment the ticket page polls with htmx."""
    t = _ticket_or_404(token)
    return render(request, "queues/_ticket_status.html", _ticket_context(t))


@public
@require_POST
def ticket_cancel(request: HttpRequest, token: Any) -> HttpResponse:
    t = _ticket_or_404(token)
    try:
        services.ticket_cancel(ticket=t, token=str(t.token))
    except RuleViolation as exc:
        messages.error(request, _problems_text(exc))
    else:
        messages.success(request, _("已取消 %(number)s 号") % {"number": t.number})
    return redirect("queues:ticket", token=t.token)


# --- the hall screen ---------------------------------------------------------------------------

def _board_context(hall: Hall) -> dict[str, Any]:
    calls = selectors.latest_calls(hall)
    return {"hall": hall, "latest": calls[0] if calls else None, "calls": calls[1:],
            "queues": selectors.hall_queues(hall), "now": timezone.now()}


@public
def display(request: HttpRequest, hall_id: int) -> HttpResponse:
    """The hall screen: latest calls in large type, waiting per category; polls its board."""
    hall = get_object_or_404(Hall, pk=hall_id)
    return render(request, "queues/display.html", _board_context(hall))


@public
def display_board(request: HttpRequest, hall_id: int) -> HttpResponse:
    hall = get_object_or_404(Hall, pk=hall_id)
    return render(request, "queues/_board.html", _board_context(hall))


# --- the window's calling page -----------------------------------------------------------------

def _chosen_window(request: HttpRequest) -> Window | None:
    window_id = request.session.get(SESSION_WINDOW)
    if not window_id:
        return None
    return Window.objects.filter(pk=window_id, hall_id=getattr(request.user, "hall_id", None) or 0).first()


def _window_action(request: HttpRequest, window: Window) -> None:
    action = request.POST.get("action", "")
    user = request.user
    if action == "call_next":
        ids = request.POST.getlist("categories")
        chosen = (list(ServiceCategory.objects.filter(pk__in=[i for i in ids if i.isdecimal()]))
                  if ids else None)
        called = services.ticket_call_next(actor=user, window=window, categories=chosen)
        if called is None:
            messages.info(request, _("当前没有等候的号码"))
        else:
            messages.success(request, _("已呼叫 %(number)s 号") % {"number": called.number})
        return
    current = Ticket.objects.filter(pk=request.POST.get("ticket") or 0, window=window).first()
    if current is None:
        messages.error(request, _("本窗口没有这个号码，请刷新"))
        return
    if action == "recall":
        services.ticket_recall(actor=user, ticket=current)
        messages.success(request, _("已重呼 %(number)s 号") % {"number": current.number})
    elif action == "start":
        services.ticket_start(actor=user, ticket=current)
    elif action == "finish":
        services.ticket_finish(actor=user, ticket=current,
                               case_number=request.POST.get("case_number", ""))
        messages.success(request, _("%(number)s 号已办结") % {"number": current.number})
    elif action == "no_show":
        services.ticket_no_show(actor=user, ticket=current)
        messages.info(request, _("%(number)s 号已标记未到") % {"number": current.number})
    else:
        messages.error(request, _("未知操作"))


@require_roles(*HALL_STAFF)
def window_page(request: HttpRequest) -> HttpResponse:
    """叫号: choose one's window once, then call, recall, start, finish or mark 未到."""
    user = request.user
    window = _chosen_window(request)
    if request.method == "POST":
        if request.POST.get("action") == "choose":
            chosen = selectors.windows_of(user).filter(pk=request.POST.get("window") or 0).first()
            if chosen is None:
                messages.error(request, _("请选择本大厅的窗口"))
            else:
                request.session[SESSION_WINDOW] = chosen.pk
            return redirect("queues:window")
        if request.POST.get("action") == "change":
            request.session.pop(SESSION_WINDOW, None)
            return redirect("queues:window")
        if window is None:
            messages.error(request, _("请先选择您所在的窗口"))
            return redirect("queues:window")
        try:
            _window_action(request, window)
        except RuleViolation as exc:
            messages.error(request, _problems_text(exc))
        except AccessDenied as exc:
            raise_denied(exc)
        return redirect("queues:window")
    if window is None:
        return render(request, "queues/window_choose.html", {
            "windows": selectors.windows_of(user), "hall": getattr(user, "hall", None)})
    served = list(services.categories_for_window(window))
    queues = [q for q in selectors.hall_queues(window.hall) if q.category in served]
    current = selectors.window_current(window)
    return render(request, "queues/window.html", {
        "window": window, "hall": window.hall, "queues": queues, "current": current,
        "masked_phone": mask_phone(current.phone) if current else "",
        "waiting_total": sum(q.waiting for q in queues), "Status": TicketStatus})


def raise_denied(exc: AccessDenied) -> NoReturn:
    raise PermissionDenied(str(exc)) from exc


# --- figures -----------------------------------------------------------------------------------

class PeriodForm(forms.Form):
    start = CalendarDateField(label=_("开始日期"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    end = CalendarDateField(label=_("结束日期"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        today = timezone.localdate()
        start, end = data.get("start") or today, data.get("end") or today
        if "start" in self.errors or "end" in self.errors:
            return data
        if end < start:
            self.add_error("end", _("结束日期不能早于开始日期"))
        elif (end - start).days >= MAX_FIGURE_DAYS:
            self.add_error("end", _("统计期间不能超过 %(days)s 天") % {"days": MAX_FIGURE_DAYS})
        data["start"], data["end"] = start, end
        return data


@require_roles(*sorted(FIGURE_ROLES))
def figures(request: HttpRequest, hall_id: int) -> HttpResponse:
    """Waiting-time figures per category, for today and for a chosen period, with the formulas."""
    hall = get_object_or_404(Hall, pk=hall_id)
    form = PeriodForm(request.GET or None)
    today = timezone.localdate()
    start = end = today
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    try:
        today_rows = selectors.hall_figures(request.user, hall, start=today, end=today)
        period_rows = (selectors.hall_figures(request.user, hall, start=start, end=end)
                       if (start, end) != (today, today) else None)
    except AccessDenied as exc:
        raise_denied(exc)
    return render(request, "queues/figures.html", {
        "hall": hall, "form": form, "today_rows": today_rows, "period_rows": period_rows,
        "start": start, "end": end, "today": today,
        "api_url": reverse("api:queue_figures", kwargs={"hall_id": hall.pk}),
    }, status=200 if not form.errors else 422)
