"""The proxy agents' desk (代办服务, ``/workbench/proxy/``): receive a resident's application
at the centre — form, materials, acceptance, all or nothing (``case_proxy_receive``) — so that
it can be forwarded. Part of the workbench door (``workbench``)."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.accounts.models import Role
from tongban.catalog.models import Item
from tongban.core.access import require_roles
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.core.forms import add_problems

from .. import services
from .. import workbench_selectors as bench
from ..forms import ApplicationFieldsForm, form_fields
from ..models import ApplicantKind
from .workbench import Form


@require_roles(Role.PROXY_AGENT)
def proxy(request: HttpRequest) -> HttpResponse:
    """The centre's 代办服务 cases: forward what is received; late forwarding is marked."""
    return render(request, "cases/workbench/proxy.html", {
        "rows": bench.proxy_cases(request.user, now=timezone.now()),
        "labels": bench.DEADLINE_LABELS, "here": request.get_full_path()})


class ReceiveForm(Form, ApplicationFieldsForm):
    """A walk-in resident's application at the street/town centre: who applies, the item's own
    form (fields ``form.<name>``) and one file per material (``material.<id>``)."""

    key = forms.CharField(widget=forms.HiddenInput, required=False)
    applicant_name = forms.CharField(label=_("申请人姓名"), max_length=100,
                                     error_messages={"required": _("须填写申请人姓名")})
    applicant_id_number = forms.CharField(label=_("申请人公民身份号码"), max_length=18,
                                          error_messages={"required": _("须填写申请人公民身份号码")})
    applicant_phone = forms.CharField(label=_("申请人手机号码"), max_length=20, required=False)

    spec_prefix = "form."

    def __init__(self, *args: Any, item: Item, **kwargs: Any) -> None:
        super().__init__(*args, specs=form_fields(item.current), **kwargs)
        self.materials = list(item.current.materials.all()) if item.current else []
        for m in self.materials:
            self.fields[f"material.{m.pk}"] = forms.FileField(
                label=m.name, required=False,
                help_text=f"{m.get_necessity_display()}" + (f"；{m.notes}" if m.notes else ""))

    def party_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("applicant_name", "applicant_id_number", "applicant_phone")]


PARTY_FIELDS = {"applicant.name": "applicant_name", "applicant.id_number": "applicant_id_number",
                "applicant.phone": "applicant_phone"}


@require_roles(Role.PROXY_AGENT)
def proxy_receive(request: HttpRequest) -> HttpResponse:
    """Receive a resident's application: create it at the centre, attach the materials, submit
    and accept it — all or nothing — so that it can be forwarded."""
    code = request.POST.get("item") or request.GET.get("item") or ""
    items = list(bench.proxy_items(request.user))
    item = next((i for i in items if i.implementation_code == code), None)
    if item is None:
        return render(request, "cases/workbench/proxy_items.html", {"items": items})
    if request.method != "POST":
        form = ReceiveForm(item=item, initial={"key": uuid.uuid4().hex})
        return render(request, "cases/workbench/proxy_receive.html", {"form": form, "item": item})
    form = ReceiveForm(request.POST, request.FILES, item=item)
    if not form.is_valid():
        return render(request, "cases/workbench/proxy_receive.html",
                      {"form": form, "item": item}, status=422)
    # The user row itself, not the request's lazy wrapper: ``case_create`` locks it by its class
    # to make a repeated submission with the same key wait for the first.
    user = get_user_model().objects.select_related("hall").get(pk=getattr(request.user, "pk", 0))
    data = form.cleaned_data
    uploads = [(m, data[f"material.{m.pk}"]) for m in form.materials
               if data.get(f"material.{m.pk}") is not None]
    try:
        case = services.case_proxy_receive(
            actor=user, item=item, form_data=form.form_data(), uploads=uploads,
            applicant=services.ApplicantData(
                kind=ApplicantKind.NATURAL, name=data["applicant_name"],
                id_number=data["applicant_id_number"], phone=data["applicant_phone"]),
            idempotency_key=data.get("key", "")[:64])
    except AccessDenied as exc:
        raise PermissionDenied(str(exc)) from exc
    except RuleViolation as exc:
        add_problems(form, exc, {**PARTY_FIELDS, **form.problem_fields()})
        return render(request, "cases/workbench/proxy_receive.html",
                      {"form": form, "item": item}, status=422)
    case.refresh_from_db()
    messages.success(request, _("已受理：办件编号%(number)s。请核对后转交主管部门。") % {
        "number": case.number})
    return HttpResponseRedirect(reverse("cases:staff_case", args=[case.number]))


urlpatterns: list[URLPattern] = [
    path("workbench/proxy/", proxy, name="proxy"),
    path("workbench/proxy/receive/", proxy_receive, name="proxy_receive"),
]
