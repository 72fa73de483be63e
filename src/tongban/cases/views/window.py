"""The comprehensive window (综合窗口): a clerk accepts any department's item for a walk-in
applicant (无差别受理).

1. ``/window/`` — find the item (the catalog's Chinese search, or its implementation code), and
   today's window cases of the clerk's hall.
2. ``/window/items/<code>/`` — identify the applicant (or agent with authorisation) and fill in the
   item's application form → ``services.case_create`` (channel ``window``, the clerk as actor).
3. ``/window/cases/<id>/`` — check the materials against the item's list (scan uploaded,
   original or copy received; 容缺 promised in writing), then accept (即收即办 items are
   completed on the spot), issue the one-time supplement notice, or refuse with a reason. Each
   in-person interaction is a visit; the page shows them against the item's promise, and the
   notices with their PDFs.

The rules are the case services'; these views parse the forms and call them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from tongban.accounts.masking import mask_id_number, mask_phone
from tongban.accounts.models import Role
from tongban.catalog.models import Commitment, Item, Material, VersionStatus
from tongban.clock.deadline import SHANGHAI
from tongban.core.access import require_roles
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.core.forms import add_problems
from tongban.organizations.models import Window

from .. import materials as case_materials
from .. import selectors, services
from ..actions import available_actions
from ..forms import ApplicationFieldsForm, form_fields
from ..models import ApplicantKind, Case, CaseMaterial, Channel, Delivery, Notice, Status

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

CLERK = Role.CLERK
SESSION_WINDOW = "tongban.window_id"
SEARCH_LIMIT = 20


# --- finding the item -------------------------------------------------------------------------

@require_roles(CLERK)
def home(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    results = selectors.window_find_items(q, limit=SEARCH_LIMIT)
    return render(request, "cases/window/home.html", {
        "q": q, "searched": "q" in request.GET, "results": results,
        "today": selectors.window_cases_today(request.user), "hall": _actor(request).hall})


# --- intake: who applies, the application form --------------------------------------------------

class IntakeForm(ApplicationFieldsForm):
    """The applicant (or agent) and the item's application form (fields ``form_<name>``).

    Fields are not required here: the case service checks everything and names the field."""

    applicant_kind = forms.ChoiceField(label=_("申请人类型"), choices=ApplicantKind.choices,
                                       widget=forms.RadioSelect, initial=ApplicantKind.NATURAL)
    applicant_name = forms.CharField(label=_("申请人姓名或单位名称"), max_length=100, required=False)
    applicant_id_number = forms.CharField(
        label=_("证件号码"), max_length=30, required=False,
        help_text=_("自然人填写18位公民身份号码，法人填写18位统一社会信用代码"))
    applicant_phone = forms.CharField(label=_("申请人联系电话"), max_length=20, required=False,
                                      widget=forms.TextInput(attrs={"type": "tel",
                                                                    "autocomplete": "off"}))
    by_agent = forms.BooleanField(label=_("由代理人（受托人）代为办理"), required=False)
    agent_name = forms.CharField(label=_("代理人姓名"), max_length=100, required=False)
    agent_id_number = forms.CharField(label=_("代理人公民身份号码"), max_length=30, required=False)
    authorization = forms.CharField(
        label=_("授权委托说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("如：委托书一份，委托事项及期限；已核验受托人身份证原件"))
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def applicant_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in ("applicant_name", "applicant_id_number", "applicant_phone")]

    def agent_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in ("agent_name", "agent_id_number", "authorization")]


def _intake_field_map(form: IntakeForm) -> dict[str, str]:
    return {"applicant.kind": "applicant_kind", "applicant.name": "applicant_name",
            "applicant.id_number": "applicant_id_number", "applicant.phone": "applicant_phone",
            "agent.name": "agent_name", "agent.id_number": "agent_id_number",
            "agent.authorization": "authorization", **form.problem_fields()}


def _published_item(code: str) -> Item:
    item = (Item.objects.select_related("current", "department").filter(implementation_code=code)
            .first())
    if item is None or item.current is None or item.current.status != VersionStatus.PUBLISHED:
        raise Http404
    return item


@require_roles(CLERK)
def intake(request: HttpRequest, code: str) -> HttpResponse:
    item = _published_item(code)
    version = item.current
    assert version is not None
    specs = form_fields(version)
    if request.method == "POST":
        form = IntakeForm(request.POST, specs=specs)
        if form.is_valid():
            d = form.cleaned_data
            agent = services.AgentData(name=d["agent_name"], id_number=d["agent_id_number"],
                                       authorization=d["authorization"]) if d["by_agent"] else None
            try:
                case = services.case_create(
                    actor=_actor(request), item=item, channel=Channel.WINDOW,
                    applicant=services.ApplicantData(
                        kind=d["applicant_kind"], name=d["applicant_name"],
                        id_number=d["applicant_id_number"].strip(),
                        phone=d["applicant_phone"].replace(" ", "")),
                    agent=agent, form_data=form.form_data(), hall=_actor(request).hall,
                    idempotency_key=d["idempotency_key"])
            except RuleViolation as exc:
                add_problems(form, exc, _intake_field_map(form))
            except AccessDenied as exc:
                raise _forbidden(exc) from exc
            else:
                return HttpResponseRedirect(reverse("cases:window_case", args=[case.pk]))
    else:
        form = IntakeForm(specs=specs, initial={"idempotency_key": uuid.uuid4().hex})
    response = render(request, "cases/window/intake.html", {
        "item": item, "version": version, "form": form,
        "materials": version.materials.all(),
        "intake_failed": request.method == "POST"})
    patch_cache_control(response, private=True, no_store=True)
    return response


def _actor(request: HttpRequest) -> Any:
    """The user object itself, not Django's lazy proxy around it (its ``hall`` is read and
    stored on the case)."""
    return getattr(request.user, "_wrapped", request.user)


def _forbidden(exc: AccessDenied) -> Exception:
    from django.core.exceptions import PermissionDenied

    return PermissionDenied(str(exc))


# --- the case at the window: materials, then accept / supplement / refuse -----------------------

def _window_case(request: HttpRequest, pk: int) -> Case:
    case = selectors.case_find(request.user, str(pk))
    if case is None or case.pk != pk:
        raise Http404
    return case


def _windows(user: Actor) -> list[Window]:
    if not user.is_authenticated or user.hall_id is None:
        return []
    return list(Window.objects.filter(hall_id=user.hall_id).order_by("-is_comprehensive", "number"))


def _selected_window(request: HttpRequest, windows: list[Window]) -> Window | None:
    chosen = request.POST.get("window") or request.session.get(SESSION_WINDOW)
    for w in windows:
        if str(w.pk) == str(chosen):
            return w
    return windows[0] if windows else None


class Row:
    """One line of the materials checklist: the item's material and what the case holds."""

    def __init__(self, material: Material, held: CaseMaterial | None, missing: bool) -> None:
        self.material, self.held, self.missing = material, held, missing


def _checklist(case: Case) -> list[Row]:
    held = {m.material_id: m for m in case.materials.filter(superseded=False)}
    missing = {m.pk for m in services.missing_materials(case)}
    return [Row(m, held.get(m.pk), m.pk in missing)
            for m in case.item_version.materials.order_by("position")]


@require_roles(CLERK)
def case_page(request: HttpRequest, pk: int) -> HttpResponse:
    case = _window_case(request, pk)
    version = case.item_version
    windows = _windows(request.user)
    sees = selectors.sees_identifiers(request.user, case)
    # The applicant's personal data is on the page: the clerk's read is audited, as on the
    # workbench and through the API.
    services.case_data_access_record(actor=request.user, case=case, what="viewed",
                                     detail={"identifiers_in_full": sees})
    checklist = _checklist(case)
    may = available_actions(request.user, case)
    # The window's intake submits a walk-in's draft, or takes a supplement in, before it
    # accepts, refuses or issues a one-time notice (``_into_intake``).
    intake_open = bool({"submit", "supply", "accept"} & may.codes)
    open_supplement = case.notices.filter(kind=Notice.Kind.SUPPLEMENT, resolved_at=None).last() \
        if case.status == Status.SUPPLEMENT else None
    response = render(request, "cases/window/case.html", {
        "case": case, "version": version, "checklist": checklist,
        "missing": [r for r in checklist if r.missing],
        "extras": case.materials.filter(superseded=False, material=None),
        "may": may, "intake_open": intake_open,
        # One one-time notice at a time: a second one only once the first was supplied.
        "can_notify_supplement": intake_open and "supply" not in may,
        "on_the_spot": version.commitment == Commitment.ON_THE_SPOT,
        "windows": windows, "window": _selected_window(request, windows),
        "applicant_id": case.applicant_id_number if sees else mask_id_number(case.applicant_id_number),
        "applicant_phone": case.applicant_phone if sees else mask_phone(case.applicant_phone),
        "agent_id": case.agent_id_number if sees else mask_id_number(case.agent_id_number),
        "allowed_visits": services.allowed_visits(case),
        "visit_records": case.visit_records.select_related("window").order_by("at"),
        "notices": case.notices.order_by("issued_at"),
        "open_supplement": open_supplement,
        "today": timezone.now().astimezone(SHANGHAI).date(),
        "completed": case.status in (Status.APPROVED, Status.DELIVERED),
    })
    patch_cache_control(response, private=True, no_store=True)
    return response


def _back(case: Case, anchor: str = "") -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("cases:window_case", args=[case.pk]) + anchor)


def _say(request: HttpRequest, exc: RuleViolation, prefix: str = "") -> None:
    for problem in exc.problems:
        messages.error(request, f"{prefix}{problem.message}")


def _act(request: HttpRequest, case: Case, action: Callable[[], Any], done: Any,
         anchor: str = "") -> HttpResponseRedirect:
    """Run ``action`` (one service call, which is all or nothing) and say how it went."""
    try:
        action()
    except RuleViolation as exc:
        _say(request, exc)
        return _back(case, anchor)
    except AccessDenied as exc:
        raise _forbidden(exc) from exc
    messages.success(request, done)
    return _back(case)


def _material_of(case: Case, value: str | None) -> Material | None:
    if not value or not value.isdecimal():
        return None
    return case.item_version.materials.filter(pk=int(value)).first()


@require_roles(CLERK)
@require_POST
def material_upload(request: HttpRequest, pk: int) -> HttpResponse:
    case = _window_case(request, pk)
    material = _material_of(case, request.POST.get("material"))
    if material is None:
        raise Http404
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("%(name)s：请选择扫描件文件") % {"name": material.name})
        return _back(case, f"#material-{material.pk}")
    try:
        case_materials.case_material_add(
            actor=request.user, case=case, material=material, name="", upload=upload,
            original_name=upload.name or "",
            checked_at_window=request.POST.get("received") == "original")
    except RuleViolation as exc:
        _say(request, exc, prefix=f"{material.name}：")
        return _back(case, f"#material-{material.pk}")
    except AccessDenied as exc:
        raise _forbidden(exc) from exc
    messages.success(request, _("已收取：%(name)s") % {"name": material.name})
    return _back(case, "#materials")


@require_roles(CLERK)
@require_POST
def material_promise(request: HttpRequest, pk: int) -> HttpResponse:
    case = _window_case(request, pk)
    material = _material_of(case, request.POST.get("material"))
    if material is None:
        raise Http404
    raw = request.POST.get("promised_by", "")
    try:
        promised_by = dt.date.fromisoformat(raw)
    except ValueError:
        messages.error(request, _("%(name)s：承诺补交日期应为有效日期（YYYY-MM-DD）") % {
            "name": material.name})
        return _back(case, f"#material-{material.pk}")
    try:
        services.case_material_promise(actor=request.user, case=case, material=material,
                                       promise=request.POST.get("promise", ""),
                                       promised_by=promised_by)
    except RuleViolation as exc:
        _say(request, exc, prefix=f"{material.name}：")
        return _back(case, f"#material-{material.pk}")
    except AccessDenied as exc:
        raise _forbidden(exc) from exc
    messages.success(request, _("已记录容缺承诺：%(name)s") % {"name": material.name})
    return _back(case, "#materials")


def _version(request: HttpRequest) -> int | None:
    value = request.POST.get("version", "")
    return int(value) if value.isdecimal() else None


@require_roles(CLERK)
@require_POST
def accept(request: HttpRequest, pk: int) -> HttpResponse:
    case = _window_case(request, pk)
    windows = _windows(request.user)
    window = _selected_window(request, windows)
    if window is not None:
        request.session[SESSION_WINDOW] = window.pk

    on_the_spot = case.item_version.commitment == Commitment.ON_THE_SPOT
    return _act(request, case, lambda: services.case_window_accept(
        actor=_actor(request), case=case, window=window, expected_version=_version(request)),
        _("已受理并当场办结") if on_the_spot else _("已受理"), anchor="#decide")


@require_roles(CLERK)
@require_POST
def supplement(request: HttpRequest, pk: int) -> HttpResponse:
    case = _window_case(request, pk)
    window = _selected_window(request, _windows(request.user))
    items = []
    for row in _checklist(case):
        if request.POST.get(f"need_{row.material.pk}"):
            items.append(services.SupplementItem(
                name=row.material.name, reason=request.POST.get(f"reason_{row.material.pk}", ""),
                material_id=row.material.pk))
    other = request.POST.get("other_name", "").strip()
    if other:
        items.append(services.SupplementItem(name=other,
                                             reason=request.POST.get("other_reason", "")))
    note = request.POST.get("note", "")

    return _act(request, case, lambda: services.case_window_supplement(
        actor=_actor(request), case=case, items=items, note=note, window=window,
        expected_version=_version(request)), _("已出具一次性告知书"), anchor="#decide")


@require_roles(CLERK)
@require_POST
def refuse(request: HttpRequest, pk: int) -> HttpResponse:
    case = _window_case(request, pk)
    window = _selected_window(request, _windows(request.user))
    reason = request.POST.get("reason", "")

    return _act(request, case, lambda: services.case_window_refuse(
        actor=_actor(request), case=case, reason=reason, window=window,
        expected_version=_version(request)), _("已出具不予受理通知书"), anchor="#decide")


@require_roles(CLERK)
@require_POST
def deliver(request: HttpRequest, pk: int) -> HttpResponse:
    """Hand over a decided case's result at the window (窗口领取)."""
    case = _window_case(request, pk)
    return _act(request, case, lambda: services.case_deliver(
        actor=request.user, case=case, delivery=Delivery.PICKUP,
        expected_version=_version(request)), _("办理结果已送达"))


urlpatterns: list[URLPattern] = [
    path("window/", home, name="window"),
    path("window/items/<str:code>/", intake, name="window_intake"),
    path("window/cases/<int:pk>/", case_page, name="window_case"),
    path("window/cases/<int:pk>/materials/", material_upload, name="window_material"),
    path("window/cases/<int:pk>/promise/", material_promise, name="window_promise"),
    path("window/cases/<int:pk>/accept/", accept, name="window_accept"),
    path("window/cases/<int:pk>/supplement/", supplement, name="window_supplement"),
    path("window/cases/<int:pk>/refuse/", refuse, name="window_refuse"),
    path("window/cases/<int:pk>/deliver/", deliver, name="window_deliver"),
]
