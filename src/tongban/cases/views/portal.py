"""The applicant's door (citizens and companies, online): apply for an item, follow one's cases,
read one's messages.

Applying is three pages over a draft case: the application form (``/apply/<code>/``, then
``/my/cases/<ref>/form/``), the materials (``…/materials/``) and the review with the submit
button (``…/review/``). The draft is created by ``services.case_create`` with an idempotency key
the form carries (a double click or a retried POST finds the same draft), edited with
``drafts.case_draft_update`` and submitted with ``services.case_submit``. ``/my/cases/<ref>/``
shows a case's timeline, what is needed from the applicant now (the one-time supplement notice
with its upload slots), notices, the result and withdrawal. ``ref`` is the case number, or the
id of a draft (drafts have no number yet).

Every page is for the roles citizen and enterprise; a case that is not the user's own is
answered 404. Rules live in the services: these views parse, call, and show problems next to
the field they name.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from tongban.accounts.masking import mask_id_number, mask_phone
from tongban.accounts.models import Role
from tongban.cases.notifications import selectors as notification_selectors
from tongban.cases.notifications import services as notification_services
from tongban.cases.notifications.models import Notification
from tongban.catalog.models import Commitment, Item, Material, VersionStatus
from tongban.core.access import require_roles
from tongban.core.errors import AccessDenied, Problem, RuleViolation
from tongban.core.forms import add_problems

from .. import drafts, policies, selectors, services
from ..actions import available_actions
from ..forms import FORM_KEY, ApplicationFieldsForm, form_fields
from ..materials import case_material_add, outstanding_promises, size_text
from ..models import ApplicantKind, Case, CaseMaterial, Channel, DeadlineState, Notice, Status

APPLICANTS = drafts.PUBLIC_ROLES
FIELD_PREFIX = "f_"
ACCEPTED_TYPES = "PDF、JPG、PNG、OFD"
ACCEPT_ATTR = ".pdf,.jpg,.jpeg,.png,.ofd,application/pdf,image/jpeg,image/png"
# History actions that are not transitions (``services.ACTION_LABELS`` names the transitions).
EXTRA_ACTION_LABELS = {
    "create": _("创建申请"),
    "promise_material": _("容缺承诺"),
    "extension_rejected": _("延期未获批准"),
}
DEADLINE_MARKS: dict[str, Any] = {DeadlineState.GREEN: _("正常"), DeadlineState.YELLOW: _("临近期限"),
                  DeadlineState.RED: _("已超期")}
RESULT_STATES = {Status.APPROVED, Status.DENIED, Status.DELIVERED}


def _private(response: HttpResponse) -> HttpResponse:
    """Personal data: never kept by shared caches or the browser's back-forward cache."""
    patch_cache_control(response, private=True, no_store=True)
    return response


def _own_case(request: HttpRequest, ref: str) -> Case:
    """The user's own case (as applicant or agent), or 404 — whether it exists or not."""
    case = selectors.case_find(request.user, ref)
    if case is None or not policies.is_applicant_side(request.user, case):
        raise Http404
    return case


def _case_url(case: Case, name: str = "cases:my_case") -> str:
    return reverse(name, args=[case.number or case.pk])


# --- the application form ----------------------------------------------------------------------

class ApplicationForm(ApplicationFieldsForm):
    """The item's application form (``cases.forms``: fields ``f_<name>``), plus — for a citizen
    starting an application — the optional 代他人办理 part.

    Django checks nothing here: every value goes to ``form_validate`` through the service,
    whose problems are attached to these fields (``add_problems``).
    """

    spec_prefix = FIELD_PREFIX
    own_data = True

    def __init__(self, *args: Any, specs: list[dict[str, Any]], agent_part: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(*args, specs=specs, **kwargs)
        self.agent_part = agent_part
        if agent_part:
            self.fields["as_agent"] = forms.BooleanField(
                label=_("我代他人办理（代理人）"), required=False)
            self.fields["principal_kind"] = forms.ChoiceField(
                label=_("申请人类型"), required=False, choices=ApplicantKind.choices,
                initial=ApplicantKind.NATURAL, widget=forms.RadioSelect)
            self.fields["principal_name"] = forms.CharField(
                label=_("申请人姓名或单位名称"), required=False, max_length=100)
            self.fields["principal_id_number"] = forms.CharField(
                label=_("申请人证件号码"), required=False, max_length=18,
                help_text=_("自然人填18位公民身份号码，法人填18位统一社会信用代码"),
                widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false",
                                              "autocapitalize": "characters", "maxlength": 18}))
            self.fields["principal_phone"] = forms.CharField(
                label=_("申请人联系电话"), required=False, max_length=20,
                widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}))
            self.fields["authorization"] = forms.CharField(
                label=_("授权委托说明"), required=False,
                help_text=_("写明委托人、受托人、委托事项和权限；受理时须出示授权委托书原件"),
                widget=forms.Textarea(attrs={"rows": 3}))

    def agent_fields(self) -> list[forms.BoundField]:
        names = ("principal_name", "principal_id_number", "principal_phone", "authorization")
        return [self[name] for name in names] if self.agent_part else []

    def wants_agent(self) -> bool:
        return self.agent_part and self.data.get("as_agent") in ("on", "true", "1")


def _prefill(user: Any, specs: list[dict[str, Any]]) -> dict[str, Any]:
    """Initial values from the account for the fields that stand for the applicant's own data
    (editable: the applicant may apply for a business whose details differ)."""
    enterprise = user.role == Role.ENTERPRISE
    by_element = {"联系电话": user.phone}
    if enterprise:
        by_element.update({"市场主体名称": user.real_name, "统一社会信用代码": user.uscc,
                           "法定代表人姓名": user.legal_representative})
    else:
        by_element.update({"姓名": user.real_name, "公民身份号码": user.id_number})
    initial = {}
    for spec in specs:
        value = by_element.get(spec.get("data_element") or "")
        if not value and spec["type"] == "phone":
            value = user.phone
        if not value and enterprise and spec["type"] == "uscc":
            value = user.uscc
        if value:
            initial[FIELD_PREFIX + spec["name"]] = value
    return initial


def _problems_to_form(form: ApplicationForm, problems: RuleViolation, *, agent: bool) -> None:
    # With an agent, the applicant the service names is the principal entered on this form.
    party = {f"applicant.{n}": f"principal_{n}" for n in ("kind", "name", "id_number", "phone")}
    add_problems(form, problems, {**form.problem_fields(), **(party if agent else {}),
                                  "agent.authorization": "authorization"})


def _applicant(user: Any) -> services.ApplicantData:
    """The account holder as applicant: a person with their ID number, a company with its
    USCC. Neither is editable on the form."""
    if user.role == Role.ENTERPRISE:
        return services.ApplicantData(kind=ApplicantKind.LEGAL, name=user.real_name,
                                      id_number=user.uscc, phone=user.phone)
    return services.ApplicantData(kind=ApplicantKind.NATURAL, name=user.real_name,
                                  id_number=user.id_number, phone=user.phone)


def _party(user: Any) -> dict[str, Any]:
    applicant = _applicant(user)
    enterprise = user.role == Role.ENTERPRISE
    return {"kind": ApplicantKind(applicant.kind).label, "name": applicant.name,
            "id_label": _("统一社会信用代码") if enterprise else _("公民身份号码"),
            # A person's own ID number and phone are masked here too, as on the account page
            # (read over the shoulder); the USCC is a public identifier.
            "id_number": applicant.id_number if enterprise else mask_id_number(applicant.id_number),
            "phone": mask_phone(applicant.phone),
            "legal_representative": user.legal_representative if enterprise else ""}


def _actor(request: HttpRequest) -> Any:
    """The logged-in user itself, not Django's lazy wrapper around it (services compare and
    store the actor)."""
    user = request.user
    user.pk  # noqa: B018  (evaluates the lazy object)
    return getattr(user, "_wrapped", user)


def _new_key() -> str:
    return uuid.uuid4().hex


@require_roles(*APPLICANTS)
def apply_start(request: HttpRequest, code: str) -> HttpResponse:
    """Start an online application: the item's form; saving creates the draft."""
    item = get_object_or_404(Item.objects.select_related("current", "department"),
                             implementation_code=code)
    version = drafts.online_version(item)
    if version is None:
        current = item.current
        return render(request, "cases/portal/apply_unavailable.html", {
            "item": item, "version": current,
            "published": current is not None and current.status == VersionStatus.PUBLISHED})
    specs = form_fields(version)
    me = _actor(request)
    agent_part = me.role == Role.CITIZEN
    context: dict[str, Any] = {"item": item, "version": version, "party": _party(me), "step": 1}
    if request.method == "POST":
        form = ApplicationForm(request.POST, specs=specs, agent_part=agent_part)
        form.is_valid()  # collects the values; the service checks them
        key = (request.POST.get("idempotency_key") or "").strip() or _new_key()
        agent = None
        applicant = _applicant(me)
        if form.wants_agent():
            applicant = services.ApplicantData(
                kind=request.POST.get("principal_kind") or ApplicantKind.NATURAL,
                name=request.POST.get("principal_name", ""),
                id_number=request.POST.get("principal_id_number", "").strip().upper(),
                phone=request.POST.get("principal_phone", "").strip())
            agent = services.AgentData(name=me.real_name, id_number=me.id_number,
                                       authorization=request.POST.get("authorization", "").strip(),
                                       user=me)
        try:
            case = services.case_create(actor=me, item=item, channel=Channel.ONLINE,
                                        applicant=applicant, agent=agent,
                                        form_data=form.form_data(), idempotency_key=key)
        except RuleViolation as error:
            _problems_to_form(form, error, agent=agent is not None)
        except AccessDenied as error:
            raise PermissionDenied(str(error)) from error
        else:
            if case.status != Status.DRAFT:  # a retried request after the case went on
                return redirect(_case_url(case))
            messages.success(request, _("草稿已保存。请上传申请材料。"))
            return redirect(_case_url(case, "cases:my_materials"))
    else:
        form = ApplicationForm(initial=_prefill(me, specs), specs=specs,
                               agent_part=agent_part)
        key = _new_key()
    context.update({"form": form, "idempotency_key": key,
                    "action": reverse("cases:apply", args=[code])})
    return _private(render(request, "cases/portal/apply_form.html", context))


def _require_draft(request: HttpRequest, case: Case) -> HttpResponse | None:
    if case.status != Status.DRAFT:
        messages.info(request, _("该申请已提交，不能再修改。"))
        return redirect(_case_url(case))
    return None


@require_roles(*APPLICANTS)
def draft_form(request: HttpRequest, ref: str) -> HttpResponse:
    """Edit the form data of one's draft (``drafts.case_draft_update``)."""
    case = _own_case(request, ref)
    gone = _require_draft(request, case)
    if gone is not None:
        return gone
    specs = form_fields(case.item_version)
    if request.method == "POST":
        form = ApplicationForm(request.POST, specs=specs)
        form.is_valid()  # collects the values; the service checks them
        try:
            drafts.case_draft_update(actor=request.user, case=case, form_data=form.form_data(),
                                     expected_version=_int(request.POST.get("version")))
        except RuleViolation as error:
            _problems_to_form(form, error, agent=False)
        except AccessDenied as error:
            raise PermissionDenied(str(error)) from error
        else:
            messages.success(request, _("申请表已保存。"))
            return redirect(_case_url(case, "cases:my_materials"))
    else:
        initial = {FIELD_PREFIX + name: value for name, value in case.form_data.items()
                   if name != FORM_KEY}
        form = ApplicationForm(initial=initial, specs=specs)
    return _private(render(request, "cases/portal/apply_form.html", {
        "item": case.item, "version": case.item_version, "case": case, "form": form,
        "party": _case_party(case), "step": 1,
        "action": _case_url(case, "cases:my_draft_form")}))


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _case_party(case: Case) -> dict[str, Any]:
    natural = case.applicant_kind == ApplicantKind.NATURAL
    return {"kind": ApplicantKind(case.applicant_kind).label, "name": case.applicant_name,
            "id_label": _("公民身份号码") if natural else _("统一社会信用代码"),
            "id_number": mask_id_number(case.applicant_id_number) if natural
            else case.applicant_id_number,
            "phone": mask_phone(case.applicant_phone),
            "agent_name": case.agent_name, "agent_id_number": mask_id_number(case.agent_id_number),
            "authorization": case.authorization}


# --- materials ---------------------------------------------------------------------------------

def _current_materials(case: Case) -> dict[int | None, list[CaseMaterial]]:
    by_material: dict[int | None, list[CaseMaterial]] = {}
    for record in case.materials.filter(superseded=False).order_by("pk"):
        by_material.setdefault(record.material_id, []).append(record)
    return by_material


def _material_rows(case: Case, errors: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Each material of the pinned item version with what the case has for it (and the
    problem of its last upload or promise, if any)."""
    have = _current_materials(case)
    errors = errors or {}
    rows = []
    for material in case.item_version.materials.order_by("position"):
        records = have.get(material.pk, [])
        rows.append({"material": material, "record": records[-1] if records else None,
                     "error": errors.get(f"file_{material.pk}"),
                     "promise_error": errors.get(f"promise_{material.pk}")})
    return rows


def _upload_rules() -> dict[str, Any]:
    return {"max_size": size_text(settings.CASE_UPLOAD_MAX_BYTES), "types": ACCEPTED_TYPES,
            "accept": ACCEPT_ATTR}


@require_roles(*APPLICANTS)
def case_materials(request: HttpRequest, ref: str) -> HttpResponse:
    """Step 2 of applying: a slot per material of the item version (GET); uploads are posted
    to :func:`material_upload`."""
    case = _own_case(request, ref)
    gone = _require_draft(request, case)
    if gone is not None:
        return gone
    return _private(render(request, "cases/portal/materials.html",
                           _materials_context(case, errors={})))


def _materials_context(case: Case, *, errors: dict[str, Any]) -> dict[str, Any]:
    today = timezone.localdate()
    return {"case": case, "item": case.item, "version": case.item_version, "step": 2,
            "rows": _material_rows(case, errors), "rules": _upload_rules(), "errors": errors,
            "extras": _current_materials(case).get(None, []),
            "on_the_spot": case.item_version.commitment == Commitment.ON_THE_SPOT,
            "today": today.isoformat()}


@require_roles(*APPLICANTS)
@require_POST
def material_upload(request: HttpRequest, ref: str) -> HttpResponse:
    """Store the files chosen in the slots (``file_<material id>``; ``extra_<n>`` with
    ``extra_name_<n>`` for a document the one-time notice names without a catalog material),
    each through ``materials.case_material_add``. A refused file is named next to its slot;
    the others are kept."""
    case = _own_case(request, ref)
    back = request.POST.get("back")
    materials = {m.pk: m for m in case.item_version.materials.all()}
    errors: dict[str, Any] = {}
    stored: list[str] = []
    for name, uploads in request.FILES.lists():
        upload = uploads[-1]
        material: Material | None = None
        label = ""
        if name.startswith("file_"):
            material = materials.get(_int(name.removeprefix("file_")) or 0)
            if material is None:
                continue
        elif name.startswith("extra_"):
            label = request.POST.get("extra_name_" + name.removeprefix("extra_"), "")
        else:
            continue
        try:
            record = case_material_add(actor=request.user, case=case, material=material,
                                       name=label, upload=upload, original_name=upload.name or "")
        except RuleViolation as error:
            errors[name] = "；".join(str(p.message) for p in error.problems)
        except AccessDenied as error:
            raise PermissionDenied(str(error)) from error
        else:
            stored.append(record.name)
    if stored:
        messages.success(request, _("已上传：%(names)s") % {"names": "、".join(stored)})
    if not errors and not stored:
        errors["none"] = _("请先选择要上传的文件")
    if errors:
        case.refresh_from_db()
        if back == "case":
            return _private(render(request, "cases/portal/case_detail.html",
                                   _case_context(request, case, errors=errors), status=422))
        return _private(render(request, "cases/portal/materials.html",
                               _materials_context(case, errors=errors), status=422))
    if back == "case":
        return redirect(_case_url(case) + "#needed")
    return redirect(_case_url(case, "cases:my_materials"))


@require_roles(*APPLICANTS)
@require_POST
def material_promise(request: HttpRequest, ref: str) -> HttpResponse:
    """容缺: promise in writing to supply a deferrable material by a date
    (``services.case_material_promise``)."""
    case = _own_case(request, ref)
    material = case.item_version.materials.filter(pk=_int(request.POST.get("material")) or 0).first()
    key = f"promise_{material.pk if material else ''}"
    problems: list[Problem] = []
    promised_by: dt.date | None = None
    try:
        promised_by = dt.date.fromisoformat(request.POST.get("promised_by", "").strip())
    except ValueError:
        problems.append(Problem("promised_by", _("请填写承诺补交日期（格式YYYY-MM-DD）")))
    if material is None:
        problems.append(Problem("material", _("请选择要容缺承诺的材料")))
    if not problems:
        assert material is not None and promised_by is not None
        try:
            services.case_material_promise(actor=request.user, case=case, material=material,
                                           promise=request.POST.get("promise", ""),
                                           promised_by=promised_by)
        except RuleViolation as error:
            problems = error.problems
        except AccessDenied as error:
            raise PermissionDenied(str(error)) from error
    if problems:
        case.refresh_from_db()
        errors = {key: "；".join(str(p.message) for p in problems)}
        return _private(render(request, "cases/portal/materials.html",
                               _materials_context(case, errors=errors), status=422))
    messages.success(request, _("已记录容缺承诺：%(name)s") % {"name": material.name if material else ""})
    return redirect(_case_url(case, "cases:my_materials"))


@require_roles(*APPLICANTS)
def material_file(request: HttpRequest, ref: str, pk: int) -> FileResponse:
    """One's own uploaded file, shown in the browser (PDF and images) for checking."""
    case = _own_case(request, ref)
    record = get_object_or_404(CaseMaterial, pk=pk, case=case)
    if not record.file:
        raise Http404
    response = FileResponse(record.file.open("rb"), content_type=record.content_type,
                            filename=record.original_name or (record.file.name or "").rsplit("/", 1)[-1])
    response["Content-Disposition"] = response["Content-Disposition"].replace("attachment", "inline")
    patch_cache_control(response, private=True, no_store=True)
    return response


# --- review and submit -------------------------------------------------------------------------

def _form_rows(case: Case) -> list[dict[str, Any]]:
    """The form as filled, in the order of its fields, with choice and empty values readable."""
    from ..forms import case_form_fields

    rows = []
    for spec in case_form_fields(case.form_data):
        value = case.form_data.get(spec["name"])
        rows.append({"label": spec["label"], "value": "" if value is None else value,
                     "type": spec["type"]})
    return rows


@require_roles(*APPLICANTS)
def draft_review(request: HttpRequest, ref: str) -> HttpResponse:
    """Step 3: everything that will be submitted, and the submit button."""
    case = _own_case(request, ref)
    gone = _require_draft(request, case)
    if gone is not None:
        return gone
    return _private(render(request, "cases/portal/review.html", _review_context(case, errors=[])))


def _review_context(case: Case, *, errors: list[Any]) -> dict[str, Any]:
    return {"case": case, "item": case.item, "version": case.item_version, "step": 3,
            "party": _case_party(case), "form_rows": _form_rows(case),
            "rows": _material_rows(case), "extras": _current_materials(case).get(None, []),
            "missing": services.missing_materials(case), "errors": errors}


@require_roles(*APPLICANTS)
@require_POST
def draft_submit(request: HttpRequest, ref: str) -> HttpResponse:
    """Submit the draft (``services.case_submit``) as reviewed at ``version``. Submitting twice
    (a double click, a retried POST) gives the same case and number."""
    case = _own_case(request, ref)
    if case.status != Status.DRAFT and case.submitted_at is not None:
        return redirect(_case_url(case))
    try:
        case = services.case_submit(actor=request.user, case=case,
                                    expected_version=_int(request.POST.get("version")))
    except services.CaseConflict as error:
        case.refresh_from_db()
        if case.status != Status.DRAFT and case.submitted_at is not None:
            return redirect(_case_url(case))  # the first of two clicks already submitted it
        return _private(render(request, "cases/portal/review.html",
                               _review_context(case, errors=[p.message for p in error.problems]),
                               status=409))
    except RuleViolation as error:
        case.refresh_from_db()
        return _private(render(request, "cases/portal/review.html",
                               _review_context(case, errors=[p.message for p in error.problems]),
                               status=422))
    except AccessDenied as error:
        raise PermissionDenied(str(error)) from error
    messages.success(request, _("申请已提交，办件编号 %(number)s。") % {"number": case.number})
    return redirect(_case_url(case))


# --- my cases ----------------------------------------------------------------------------------

def _deadline(case: Case, state: str) -> dict[str, Any] | None:
    if case.due_at is None:
        return None
    return {"state": state, "label": DEADLINE_MARKS.get(state, state)}


@require_roles(*APPLICANTS)
def my_cases(request: HttpRequest) -> HttpResponse:
    """Every case of mine (as applicant or agent), drafts included, newest first."""
    now = timezone.now()
    cases = list(selectors.case_list(request.user, selectors.CaseFilter(), now=now))
    states = selectors.case_deadline_states(cases, now=now)
    rows = [{"case": c, "deadline": _deadline(c, states[c.pk]), "ref": c.number or c.pk}
            for c in cases]
    return _private(render(request, "cases/portal/my_cases.html", {"rows": rows}))


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
    path("apply/<str:code>/", apply_start, name="apply"),
    path("my/cases/", my_cases, name="my_cases"),
    path("my/cases/<str:ref>/", my_case, name="my_case"),
    path("my/cases/<str:ref>/form/", draft_form, name="my_draft_form"),
    path("my/cases/<str:ref>/materials/", case_materials, name="my_materials"),
    path("my/cases/<str:ref>/materials/upload/", material_upload, name="my_material_upload"),
    path("my/cases/<str:ref>/materials/promise/", material_promise, name="my_material_promise"),
    path("my/cases/<str:ref>/files/<int:pk>/", material_file, name="my_material_file"),
    path("my/cases/<str:ref>/review/", draft_review, name="my_review"),
    path("my/cases/<str:ref>/submit/", draft_submit, name="my_submit"),
    path("my/cases/<str:ref>/supply/", case_supply, name="my_supply"),
    path("my/cases/<str:ref>/withdraw/", case_withdraw, name="my_withdraw"),
    path("my/messages/", my_messages, name="my_messages"),
    path("my/messages/read-all/", messages_read_all, name="my_messages_read_all"),
    path("my/messages/<int:pk>/read/", message_read, name="my_message_read"),
]
