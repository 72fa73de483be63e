"""The applicant's cases and messages (``/my/cases/``, ``/my/cases/<ref>/``, ``/my/messages/``):
the list, one case's timeline with what is needed now (the one-time notice's upload slots),
supplying, withdrawing; the in-app messages. Part of the applicant's door; the shared helpers
are in ``portal``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from tongban.cases.notifications import selectors as notification_selectors
from tongban.cases.notifications import services as notification_services
from tongban.cases.notifications.models import Notification
from tongban.core.access import require_roles
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.core.keyset import cursor_or_none

from .. import selectors, services
from ..actions import available_actions
from ..materials import outstanding_promises
from ..models import Case, Notice, Status
from .portal import (
    APPLICANTS,
    DEADLINE_MARKS,
    EXTRA_ACTION_LABELS,
    RESULT_STATES,
    _case_party,
    _case_url,
    _current_materials,
    _form_rows,
    _int,
    _own_case,
    _private,
    _upload_rules,
)


def _deadline(case: Case, state: str) -> dict[str, Any] | None:
    if case.due_at is None:
        return None
    return {"state": state, "label": DEADLINE_MARKS.get(state, state)}


@require_roles(*APPLICANTS)
def my_cases(request: HttpRequest) -> HttpResponse:
    """Every case of mine (as applicant or agent), drafts included, newest first, a page at a
    time (keyset: the ``?page=`` token of the 下一页/上一页 links, no total)."""
    now = timezone.now()
    page = selectors.case_page(request.user, selectors.CaseFilter(), now=now,
                               cursor=cursor_or_none(request.GET.get("page")))
    states = selectors.case_deadline_states(page.rows, now=now)
    # The labels once a page (``get_status_display`` builds the choices' dict on every call).
    labels = dict(Status.choices)
    rows = [{"case": c, "deadline": _deadline(c, states[c.pk]), "ref": c.number or c.pk,
             "status": labels.get(c.status, c.status)} for c in page.rows]
    return _private(render(request, "cases/portal/my_cases.html", {"rows": rows, "page": page}))


def _timeline(case: Case) -> list[dict[str, Any]]:
    labels = {**services.ACTION_LABELS, **EXTRA_ACTION_LABELS}
    statuses = dict(Status.choices)
    return [{"at": e.at, "action": labels.get(e.action, e.action),
             "status": statuses.get(e.to_status, e.to_status), "reason": e.reason,
             "by_me": e.actor_id is not None and e.actor_id in (case.applicant_id, case.agent_id)}
            for e in case.events.order_by("seq")]


def _open_supplement(case: Case, errors: dict[str, Any]) -> dict[str, Any] | None:
    if case.status != Status.SUPPLEMENT:
        return None
    notice = case.notices.filter(kind=Notice.Kind.SUPPLEMENT, resolved_at=None).order_by(
        "issued_at", "pk").last()
    if notice is None:
        return None
    have = _current_materials(case)
    items = []
    for i, entry in enumerate(notice.body.get("items", [])):
        material_id = entry.get("material_id")
        records = [r for r in have.get(material_id, []) if r.uploaded_at >= notice.issued_at
                   and (material_id or r.name == entry.get("name"))]
        items.append({"index": i, "name": entry.get("name", ""), "reason": entry.get("reason", ""),
                      "material_id": material_id, "supplied": records[-1] if records else None,
                      "error": errors.get(f"file_{material_id}" if material_id else f"extra_{i}")})
    return {"notice": notice, "items": items, "note": notice.body.get("note", "")}


def _case_context(request: HttpRequest, case: Case, *, errors: dict[str, Any]) -> dict[str, Any]:
    now = timezone.now()
    may = available_actions(request.user, case)
    notices = list(case.notices.order_by("issued_at", "pk"))
    decision = next((n for n in notices if n.kind == Notice.Kind.DECISION), None)
    case_messages = notification_selectors.notification_list(user=request.user).filter(case=case)
    promises = outstanding_promises(case) if case.status not in services.FINAL else []
    return {
        "case": case, "ref": case.number or case.pk, "item": case.item,
        "version": case.item_version, "party": _case_party(case),
        "deadline": _deadline(case, selectors.case_deadline_state(case, now=now)),
        "timeline": _timeline(case),
        "supplement": _open_supplement(case, errors), "promises": promises,
        "notices": notices, "decision": decision if case.status in RESULT_STATES else None,
        "materials": [r for records in _current_materials(case).values() for r in records],
        "form_rows": _form_rows(case), "case_messages": list(case_messages[:20]),
        "may": may, "can_withdraw": "withdraw" in may, "is_draft": case.status == Status.DRAFT,
        "rules": _upload_rules(), "errors": errors,
    }


@require_roles(*APPLICANTS)
def my_case(request: HttpRequest, ref: str) -> HttpResponse:
    case = _own_case(request, ref)
    return _private(render(request, "cases/portal/case_detail.html",
                           _case_context(request, case, errors={})))


@require_roles(*APPLICANTS)
@require_POST
def case_supply(request: HttpRequest, ref: str) -> HttpResponse:
    """补正完成: tell the department the one-time notice's materials are in
    (``services.case_supply``)."""
    case = _own_case(request, ref)
    try:
        services.case_supply(actor=request.user, case=case,
                             expected_version=_int(request.POST.get("version")))
    except RuleViolation as error:
        case.refresh_from_db()
        errors = {"supply": "；".join(str(p.message) for p in error.problems)}
        return _private(render(request, "cases/portal/case_detail.html",
                               _case_context(request, case, errors=errors), status=422))
    except AccessDenied as error:
        raise PermissionDenied(str(error)) from error
    messages.success(request, _("补正材料已提交，等待部门审查。"))
    return redirect(_case_url(case))


@require_roles(*APPLICANTS)
@require_POST
def case_withdraw(request: HttpRequest, ref: str) -> HttpResponse:
    """撤回 while the state machine allows it (``services.case_withdraw``)."""
    case = _own_case(request, ref)
    try:
        services.case_withdraw(actor=request.user, case=case,
                               reason=request.POST.get("reason", "").strip(),
                               expected_version=_int(request.POST.get("version")))
    except RuleViolation as error:
        case.refresh_from_db()
        errors = {"withdraw": "；".join(str(p.message) for p in error.problems)}
        return _private(render(request, "cases/portal/case_detail.html",
                               _case_context(request, case, errors=errors), status=409))
    except AccessDenied as error:
        raise PermissionDenied(str(error)) from error
    messages.success(request, _("申请已撤回。"))
    return redirect(_case_url(case))


# --- messages ----------------------------------------------------------------------------------

@require_roles(*APPLICANTS)
def my_messages(request: HttpRequest) -> HttpResponse:
    """My in-app messages, unread first."""
    items = (notification_selectors.notification_list(user=request.user)
             .order_by(F("read_at").asc(nulls_first=True), "-created_at", "-pk"))
    return _private(render(request, "cases/portal/messages.html", {
        "items": list(items[:200]),
        "unread": notification_selectors.unread_count(user=request.user)}))


@require_roles(*APPLICANTS)
@require_POST
def message_read(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    try:
        notification_services.notification_mark_read(actor=request.user, notification_id=pk)
    except Notification.DoesNotExist:
        raise Http404 from None
    return redirect("cases:my_messages")


@require_roles(*APPLICANTS)
@require_POST
def messages_read_all(request: HttpRequest) -> HttpResponseRedirect:
    count = notification_services.notifications_mark_all_read(actor=request.user)
    if count:
        messages.success(request, _("已将%(n)s条消息标为已读。") % {"n": count})
    return redirect("cases:my_messages")


urlpatterns: list[URLPattern] = [
    path("my/cases/", my_cases, name="my_cases"),
    path("my/cases/<str:ref>/", my_case, name="my_case"),
    path("my/cases/<str:ref>/supply/", case_supply, name="my_supply"),
    path("my/cases/<str:ref>/withdraw/", case_withdraw, name="my_withdraw"),
    path("my/messages/", my_messages, name="my_messages"),
    path("my/messages/read-all/", messages_read_all, name="my_messages_read_all"),
    path("my/messages/<int:pk>/read/", message_read, name="my_message_read"),
]
