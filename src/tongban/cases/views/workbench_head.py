"""The department head's overview (``/workbench/head/``): the department's open cases and
steps, and the extension requests waiting for the head's decision (``case_decide_extension``).
Part of the workbench door (``workbench``)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from tongban.accounts.models import Role
from tongban.core.access import require_roles
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.core.keyset import cursor_or_none

from .. import services
from .. import workbench_selectors as bench
from ..services import CaseConflict
from .workbench import CONFLICT, Form, _back, _problem_text, _version


class ExtensionDecideForm(Form):
    decision = forms.ChoiceField(choices=[("approve", _("批准")), ("reject", _("不批准"))])
    note = forms.CharField(label=_("意见"), required=False, max_length=1000)


@require_roles(Role.HEAD)
def head(request: HttpRequest) -> HttpResponse:
    """The head's department: open cases by deadline state, extensions to approve, load."""
    state = request.GET.get("state", "")
    shown = state if state in bench.URGENCY else ""
    overview = bench.head_overview(request.user, now=timezone.now(), state=shown,
                                   cursor=cursor_or_none(request.GET.get("page")))
    return render(request, "cases/workbench/head.html", {
        "o": overview, "state": shown, "labels": bench.DEADLINE_LABELS, "page": overview.page,
        "groups": [(s, bench.DEADLINE_LABELS[s], overview.counts.get(s, 0))
                   for s in ("red", "yellow", "green")]})


@require_POST
@require_roles(Role.HEAD)
def extension_decide(request: HttpRequest, extension_id: int) -> HttpResponse:
    extension = bench.extension_for(request.user, extension_id)
    if extension is None:
        raise Http404
    form = ExtensionDecideForm(request.POST)
    back = _back(request, reverse("cases:head"))
    if not form.is_valid():
        messages.error(request, _("请选择批准或不批准"))
        return redirect(back)
    approve = form.cleaned_data["decision"] == "approve"
    try:
        services.case_decide_extension(actor=request.user, extension=extension, approve=approve,
                                       note=form.cleaned_data["note"],
                                       expected_version=_version(request))
    except AccessDenied as exc:
        raise PermissionDenied(str(exc)) from exc
    except CaseConflict as exc:
        messages.error(request, f"{CONFLICT}（{_problem_text(exc)}）")
        return redirect(back)
    except RuleViolation as exc:
        messages.error(request, _problem_text(exc))
        return redirect(back)
    messages.success(request, (_("已批准%(case)s延期%(n)s个工作日") if approve
                               else _("未批准%(case)s的延期申请")) % {
        "case": extension.case.number, "n": extension.working_days})
    return redirect(back)


# --- proxy agents ------------------------------------------------------------------------------

urlpatterns: list[URLPattern] = [
    path("workbench/head/", head, name="head"),
    path("workbench/extensions/<int:extension_id>/decide/", extension_decide,
         name="extension_decide"),
]
