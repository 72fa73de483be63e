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

The door in three modules: here applying (form, review, submit) and the helpers the others
share; ``portal_materials`` the materials step; ``portal_cases`` one's cases and messages.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from tongban.accounts.masking import mask_id_number, mask_phone
from tongban.accounts.models import Role, User
from tongban.catalog.models import Item, VersionStatus
from tongban.core.access import require_roles
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.core.forms import add_problems

from .. import drafts, policies, selectors, services
from ..forms import FORM_KEY, ApplicationFieldsForm, form_fields
from ..materials import size_text
from ..models import ApplicantKind, Case, CaseMaterial, Channel, DeadlineState, Status

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


def _prefill(user: User, specs: list[dict[str, Any]]) -> dict[str, Any]:
    """Initial values from the account for the fields that stand for the applicant's own data
    (editable: the applicant may apply for a business whose details differ)."""
    enterprise = user.role == Role.ENTERPRISE
    # By data element: DE00011 联系电话, DE00020 市场主体名称, DE00021 统一社会信用代码,
    # DE00022 法定代表人姓名, DE00001 姓名, DE00002 公民身份号码.
    by_element = {"DE00011": user.phone}
    if enterprise:
        by_element.update({"DE00020": user.real_name, "DE00021": user.uscc,
                           "DE00022": user.legal_representative})
    else:
        by_element.update({"DE00001": user.real_name, "DE00002": user.id_number})
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


def _applicant(user: User) -> services.ApplicantData:
    """The account holder as applicant: a person with their ID number, a company with its
    USCC. Neither is editable on the form."""
    if user.role == Role.ENTERPRISE:
        return services.ApplicantData(kind=ApplicantKind.LEGAL, name=user.real_name,
                                      id_number=user.uscc, phone=user.phone)
    return services.ApplicantData(kind=ApplicantKind.NATURAL, name=user.real_name,
                                  id_number=user.id_number, phone=user.phone)


def _party(user: User) -> dict[str, Any]:
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

urlpatterns: list[URLPattern] = [
    path("apply/<str:code>/", apply_start, name="apply"),
    path("my/cases/<str:ref>/form/", draft_form, name="my_draft_form"),
    path("my/cases/<str:ref>/review/", draft_review, name="my_review"),
    path("my/cases/<str:ref>/submit/", draft_submit, name="my_submit"),
]
