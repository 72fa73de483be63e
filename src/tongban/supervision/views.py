"""Supervision pages: the dashboard (live counts, drill-down, records, trend chart), the
records and their answers, the metrics, and the public per-item figures.

Thin views: parse, call a selector or a service, map ``RuleViolation`` onto the form, show
``AccessDenied`` as 403.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.accounts.models import Role
from tongban.cases.models import DeadlineState
from tongban.catalog.models import Item
from tongban.core.access import public, require_roles
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.core.forms import CalendarDateField, add_problems
from tongban.core.keyset import cursor_or_none, keyset_page
from tongban.organizations.models import Department

from . import metrics, policies, selectors, services
from .models import Kind, State

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

DASHBOARD_ROLES = (Role.SUPERVISOR, Role.ADMIN, Role.HEAD)
RECORD_ROLES = (Role.SUPERVISOR, Role.ADMIN, Role.HEAD, Role.OFFICER, Role.PROXY_AGENT, Role.CLERK)
STATE_LABELS: dict[str, Any] = {DeadlineState.GREEN: _("绿·正常"), DeadlineState.YELLOW: _("黄·预警"),
                                DeadlineState.RED: _("红·超期")}
GROUP_LABELS: dict[str, Any] = {
    "waiting": _("待受理"), "supplement": _("待补正"), "in_progress": _("办理中"),
    "suspended": _("暂停计时"), "completed": _("已办结"), "refused": _("不予受理"),
    "closed": _("撤回或终止"),
}
METRIC_GROUPS: dict[str, Any] = {"department": _("按部门"), "division": _("按区划"), "item": _("按事项")}


class Form(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def _department_choices(user: Actor) -> list[tuple[str, Any]]:
    only = policies.dashboard_department(user)
    departments = Department.objects.order_by("name")
    if only is not None:
        departments = departments.filter(pk=only)
    return [("", _("全部"))] + [(str(d.pk), d.name) for d in departments]


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdecimal() else None


def _require_dashboard(user: Actor) -> None:
    if not policies.can_view_dashboard(user):
        raise PermissionDenied


# --- the dashboard ------------------------------------------------------------------------------

@require_roles(*DASHBOARD_ROLES)
def dashboard(request: HttpRequest) -> HttpResponse:
    _require_dashboard(request.user)
    now = timezone.now()
    rows, total = selectors.board(request.user, now=now)
    points = selectors.trend(request.user, now=now)
    counts = selectors.record_counts(request.user)
    recent = list(selectors.records(request.user).exclude(state=State.CLOSED)[:10])
    return render(request, "supervision/dashboard.html", {
        "rows": rows, "total": total, "groups": GROUP_LABELS, "states": STATE_LABELS,
        "points": points, "chart": {**selectors.trend_chart(points), "labels": {
            "accepted": str(_("受理")), "completed": str(_("办结")),
            "overdue": str(_("超期办结")), "records": str(_("监察记录"))}},
        "record_counts": [(Kind(k).label, k, counts.get(k, 0)) for k in Kind.values],
        "recent": recent, "now": now,
        "head_only": policies.dashboard_department(request.user) is not None,
    })


CASES_PAGE = 25


@require_roles(*DASHBOARD_ROLES)
def cases(request: HttpRequest) -> HttpResponse:
    _require_dashboard(request.user)
    now = timezone.now()
    department = _int(request.GET.get("department"))
    group = request.GET.get("group", "")
    state = request.GET.get("state", "")
    found = selectors.drill_down(request.user, now=now, department=department, group=group,
                                 state=state)
    page = keyset_page([found], key="due_at", nullable=True, descending=False, size=CASES_PAGE,
                       cursor=cursor_or_none(request.GET.get("page")))
    states = _states(page.rows, now)
    rows = [(case, STATE_LABELS.get(states[case.pk], "")) for case in page.rows]
    return render(request, "supervision/cases.html", {
        "page": page, "rows": rows,
        "department": Department.objects.filter(pk=department).first() if department else None,
        "group_label": GROUP_LABELS.get(group, ""), "state_label": STATE_LABELS.get(state, ""),
    })


def _states(cases: list[Any], now: dt.datetime) -> dict[int, str]:
    from tongban.cases.selectors import case_deadline_states

    return case_deadline_states(cases, now=now)


# --- records ------------------------------------------------------------------------------------

class RecordFilter(Form):
    kind = forms.ChoiceField(label=_("类型"), required=False,
                             choices=[("", _("全部")), *list(Kind.choices)])
    state = forms.ChoiceField(label=_("状态"), required=False,
                              choices=[("", _("全部")), *list(State.choices)])
    department = forms.ChoiceField(label=_("责任部门"), required=False, choices=[])


@require_roles(*RECORD_ROLES)
def record_list(request: HttpRequest) -> HttpResponse:
    form = RecordFilter(request.GET or None)
    department_field = form.fields["department"]
    assert isinstance(department_field, forms.ChoiceField)
    department_field.choices = _department_choices(request.user)
    data = form.cleaned_data if form.is_valid() else {}
    found = selectors.records(request.user, kind=data.get("kind", ""),
                              state=data.get("state", ""),
                              department=_int(data.get("department")))
    page = Paginator(found, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "supervision/records.html", {
        "form": form, "page": page, "query": query.urlencode(),
        "show_dashboard": policies.can_view_dashboard(request.user)})


class ExplainForm(Form):
    explanation = forms.CharField(label=_("情况说明"), required=False, max_length=4000,
                                  widget=forms.Textarea(attrs={"rows": 3}))


class CloseForm(Form):
    note = forms.CharField(label=_("办结意见"), required=False, max_length=4000,
                           widget=forms.Textarea(attrs={"rows": 3}))


@require_roles(*RECORD_ROLES)
def record_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = selectors.record_find(request.user, pk)
    if record is None:
        raise Http404
    explain = ExplainForm(prefix="explain")
    close = CloseForm(prefix="close")
    if request.method == "POST":
        op = request.POST.get("op", "")
        try:
            if op == "acknowledge":
                services.supervision_record_acknowledge(actor=request.user, record=record)
                messages.success(request, _("已签收"))
            elif op == "explain":
                explain = ExplainForm(request.POST, prefix="explain")
                if explain.is_valid():
                    services.supervision_record_explain(
                        actor=request.user, record=record,
                        explanation=explain.cleaned_data["explanation"])
                    messages.success(request, _("情况说明已提交"))
            elif op == "close":
                close = CloseForm(request.POST, prefix="close")
                if close.is_valid():
                    services.supervision_record_close(actor=request.user, record=record,
                                                      note=close.cleaned_data["note"])
                    messages.success(request, _("监察记录已办结"))
            else:
                raise Http404
        except AccessDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        except RuleViolation as exc:
            target = close if op == "close" else explain
            add_problems(target, exc)
            if not target.errors:
                messages.error(request, "；".join(str(p.message) for p in exc.problems))
        else:
            if not explain.errors and not close.errors:
                return redirect("supervision:record", pk=record.pk)
        record = selectors.record_find(request.user, pk) or record
    return render(request, "supervision/record.html", {
        "record": record, "explain": explain, "close": close,
        "can_answer": record.state in (State.OPEN, State.ACKNOWLEDGED)
        and policies.can_answer(request.user, record),
        "can_acknowledge": record.state == State.OPEN and policies.can_answer(request.user, record),
        "can_close": record.state != State.CLOSED and policies.can_close(request.user),
    }, status=422 if (explain.errors or close.errors) else 200)


# --- metrics --------------------------------------------------------------------------------------

def default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The current month up to today."""
    return today.replace(day=1), today


class PeriodForm(Form):
    group = forms.ChoiceField(label=_("统计维度"), required=False, choices=list(METRIC_GROUPS.items()))
    start = CalendarDateField(label=_("开始日期"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    end = CalendarDateField(label=_("结束日期"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("结束日期不能早于开始日期"))
        return data


def _period(form: PeriodForm) -> tuple[str, dt.date, dt.date]:
    today = timezone.localdate()
    first, last = default_period(today)
    data = form.cleaned_data if form.is_valid() else {}
    return (data.get("group") or "department", data.get("start") or first,
            data.get("end") or last)


@require_roles(*DASHBOARD_ROLES)
def metrics_page(request: HttpRequest) -> HttpResponse:
    _require_dashboard(request.user)
    form = PeriodForm(request.GET or None)
    group, start, end = _period(form)
    rows, total = metrics.metrics_table(group=group, start=start, end=end,
                                        department_id=policies.dashboard_department(request.user))
    return render(request, "supervision/metrics.html", {
        "form": form, "rows": rows, "total": total, "group": group,
        "group_label": METRIC_GROUPS[group], "start": start, "end": end,
        "definitions": metrics.METRICS, "ratings": metrics.ratings_installed(),
    }, status=422 if form.errors else 200)


# --- public figures per item ------------------------------------------------------------------------

def item_rows(start: dt.date, end: dt.date) -> list[tuple[Item, metrics.ItemPerformance]]:
    performance = metrics.item_performance(start, end)
    items = Item.objects.filter(pk__in=performance).select_related("current", "department") \
        .order_by("department__name", "implementation_code")
    return [(item, performance[item.pk]) for item in items]


@public
def public_items(request: HttpRequest) -> HttpResponse:
    form = PeriodForm(request.GET or None)
    _group, start, end = _period(form)
    return render(request, "supervision/public_items.html", {
        "form": form, "rows": item_rows(start, end), "start": start, "end": end,
    }, status=422 if form.errors else 200)
