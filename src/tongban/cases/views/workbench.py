"""The department workbench (部门工作台): the inbox of open steps, one case with the actions of
its current step, the department head's overview and the proxy agents' 代办服务 desk.

Thin views: each parses a form, calls a case or workflow service and maps its problems onto the
form (``add_problems``); ``AccessDenied`` is a 403 and a case the user may not see a 404. Every
action form carries the case version the page showed (``version``): a case someone else changed
meanwhile answers 409 with the page as it is now (``CaseConflict``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from tongban.accounts.models import Role
from tongban.cases.workflows import services as workflows
from tongban.catalog.models import Commitment, Material
from tongban.core.access import require_roles
from tongban.core.errors import AccessDenied, Problem, RuleViolation
from tongban.core.forms import add_problems
from tongban.core.keyset import cursor_or_none

from .. import selectors, services
from .. import workbench_selectors as bench
from ..models import Delivery, HaltGround, SpecialProcedure, Status
from ..services import ACTION_LABELS, CaseConflict

WORKBENCH_ROLES = (Role.OFFICER, Role.HEAD, Role.PROXY_AGENT)
# Who may open a case on the workbench (read-only unless the workflow gives them a step).
CASE_ROLES = (*WORKBENCH_ROLES, Role.CLERK, Role.SUPERVISOR, Role.ADMIN)
# The desk a case page leads back to (its breadcrumb), by role: URL name and label.
DESKS: dict[str, tuple[str, Any]] = {
    Role.PROXY_AGENT: ("cases:proxy", _("代办服务")),
    Role.OFFICER: ("cases:workbench", _("工作台")), Role.HEAD: ("cases:workbench", _("工作台"))}
CONFLICT = _("该办件已被他人处理，页面已更新为最新状态，请核对后重试。")
STEP_OPS = ("approve", "forward", "complete", "deny", "return")
EXTRA_EVENT_LABELS = {"create": _("创建申请"), "promise_material": _("容缺承诺"),
                      "extension_rejected": _("延期未获批准")}


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


def _version(request: HttpRequest) -> int | None:
    value = request.POST.get("version", "")
    return int(value) if value.isdecimal() else None


def _problem_text(problems: RuleViolation) -> str:
    return "；".join(str(p.message) for p in problems.problems)


# --- forms -------------------------------------------------------------------------------------

class Form(forms.Form):
    """Labels as written (no trailing colon appended)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class ReasonForm(Form):
    reason = forms.CharField(label=_("意见/理由"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class DenyForm(Form):
    reason = forms.CharField(label=_("不予办理的理由"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": _("须填写不予办理的理由")})


class ReturnForm(Form):
    return_to = forms.ChoiceField(label=_("退回到环节"))
    reason = forms.CharField(label=_("退回理由"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": _("须填写退回理由")})

    def __init__(self, *args: Any, targets: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["return_to"].choices = targets  # type: ignore[attr-defined]


class SuspendForm(Form):
    procedure = forms.ChoiceField(label=_("特别程序种类"),
                                  choices=[("", "—"), *SpecialProcedure.choices],
                                  error_messages={"required": _("须选择特别程序种类")})
    reason = forms.CharField(label=_("特别程序事由"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": _("须填写特别程序事由")})
    expected_working_days = forms.IntegerField(
        label=_("预计所需工作日"), min_value=1, max_value=365,
        error_messages={"required": _("须填写预计所需工作日"),
                        "invalid": _("预计所需工作日须为整数"),
                        "min_value": _("预计所需工作日至少为1")})


class HaltForm(Form):
    ground = forms.ChoiceField(label=_("中止事由类型"), choices=HaltGround.choices,
                               widget=forms.RadioSelect,
                               error_messages={"required": _("须选择中止事由类型")})
    reason = forms.CharField(label=_("中止理由（将书面告知申请人）"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": _("须填写中止理由")})


class ExtensionForm(Form):
    working_days = forms.IntegerField(
        label=_("延长工作日"), min_value=1, max_value=10,
        error_messages={"required": _("须填写延长的工作日数"), "invalid": _("延长工作日须为整数"),
                        "min_value": _("延期须为1至10个工作日"),
                        "max_value": _("延期须为1至10个工作日")})
    reason = forms.CharField(label=_("延期理由（将告知申请人）"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": _("须填写延期理由")})


class SupplementForm(Form):
    """一次性告知: every missing or faulty material at once, each with its reason."""

    extra_name = forms.CharField(label=_("其他需补正事项（选填）"), required=False, max_length=200)
    extra_reason = forms.CharField(label=_("其他事项的补正原因"), required=False, max_length=500)
    note = forms.CharField(label=_("补充说明（选填）"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, materials: list[Material], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.materials = materials
        for m in materials:
            self.fields[f"m{m.pk}"] = forms.BooleanField(label=m.name, required=False)
            self.fields[f"r{m.pk}"] = forms.CharField(
                label=_("“%(name)s”的补正原因") % {"name": m.name}, required=False, max_length=500)

    def material_rows(self) -> list[tuple[Any, Any]]:
        return [(self[f"m{m.pk}"], self[f"r{m.pk}"]) for m in self.materials]

    def items(self) -> tuple[list[services.SupplementItem], dict[str, str]]:
        """The notice's items, and which form field each ``items[i]`` problem belongs to."""
        items: list[services.SupplementItem] = []
        fields: dict[str, str] = {}
        for m in self.materials:
            if self.cleaned_data.get(f"m{m.pk}"):
                fields[f"items[{len(items)}].reason"] = f"r{m.pk}"
                fields[f"items[{len(items)}].name"] = f"m{m.pk}"
                items.append(services.SupplementItem(
                    name=m.name, reason=self.cleaned_data.get(f"r{m.pk}", ""), material_id=m.pk))
        extra = self.cleaned_data.get("extra_name", "").strip()
        if extra:
            fields[f"items[{len(items)}].reason"] = "extra_reason"
            fields[f"items[{len(items)}].name"] = "extra_name"
            items.append(services.SupplementItem(name=extra,
                                                 reason=self.cleaned_data.get("extra_reason", "")))
        fields["items"] = "__all__"
        return items, fields


class RefuseForm(Form):
    reason = forms.CharField(label=_("不予受理的理由"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": _("须填写不予受理的理由")})


class DeliverForm(Form):
    delivery = forms.ChoiceField(label=_("送达方式"), choices=Delivery.choices,
                                 widget=forms.RadioSelect)


class AssignForm(Form):
    to = forms.TypedChoiceField(label=_("交给"), coerce=int,
                                error_messages={"required": _("请选择接手的工作人员")})
    reason = forms.CharField(label=_("分派/转办说明"), required=False, max_length=500)

    def __init__(self, *args: Any, people: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("请选择")), *((p.pk, str(p)) for p in people)]
        self.fields["to"].choices = choices  # type: ignore[attr-defined]


# --- the inbox ---------------------------------------------------------------------------------

@require_roles(*WORKBENCH_ROLES)
def workbench(request: HttpRequest) -> HttpResponse:
    """The inbox: 我的 / 待认领 / 全部, most urgent first, with filters and search."""
    params = request.GET
    state = params.get("state", "")
    box = bench.inbox(request.user, tab=params.get("tab", "mine"), item=params.get("item", ""),
                      step=params.get("step", ""),
                      state=state if state in bench.URGENCY else "", q=params.get("q", ""),
                      now=timezone.now(), cursor=cursor_or_none(params.get("page")))
    tabs = [(key, label, box.counts[key])
            for key, label in (("mine", _("我的")), ("unclaimed", _("待认领")), ("all", _("全部")))]
    return render(request, "cases/workbench/inbox.html", {
        "box": box, "page": box, "tabs": tabs, "params": params, "labels": bench.DEADLINE_LABELS,
        "intake": bench.intake(request.user), "here": request.get_full_path()})


@require_POST
@require_roles(*WORKBENCH_ROLES)
def task_claim(request: HttpRequest, task_id: int) -> HttpResponse:
    task = bench.task_for(request.user, task_id)
    if task is None:
        raise Http404
    try:
        workflows.task_claim(actor=request.user, task=task)
    except AccessDenied as exc:
        raise PermissionDenied(str(exc)) from exc
    except RuleViolation as exc:
        messages.error(request, _problem_text(exc))
    else:
        messages.success(request, _("已认领：%(case)s %(step)s") % {"case": task.case.number,
                                                                   "step": task.name})
    return redirect(_back(request, reverse("cases:workbench")))


@require_POST
@require_roles(*WORKBENCH_ROLES)
def task_assign(request: HttpRequest, task_id: int) -> HttpResponse:
    """分派 (the head) or 转办 (the holder, to a colleague of the same role)."""
    task = bench.task_for(request.user, task_id)
    if task is None:
        raise Http404
    form = AssignForm(request.POST, people=bench.colleagues(task))
    if not form.is_valid():
        messages.error(request, "；".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(_back(request, reverse("cases:workbench")))
    to = get_user_model().objects.select_related("hall").get(pk=form.cleaned_data["to"])
    try:
        workflows.task_assign(actor=request.user, task=task, to=to,
                              reason=form.cleaned_data["reason"])
    except AccessDenied as exc:
        raise PermissionDenied(str(exc)) from exc
    except RuleViolation as exc:
        messages.error(request, _problem_text(exc))
    else:
        messages.success(request, _("已将%(case)s的“%(step)s”交给%(to)s") % {
            "case": task.case.number, "step": task.name, "to": to})
    return redirect(_back(request, reverse("cases:workbench")))


# --- one case ----------------------------------------------------------------------------------

def _action_forms(sc: bench.StaffCase) -> dict[str, Any]:
    """Blank forms for every action the page offers, keyed ``<op>-<task id>`` (or ``<op>``)."""
    result: dict[str, Any] = {}
    for open_step in sc.open_steps:
        t = open_step.task.pk
        for op in open_step.actions:
            key = f"{op}-{t}"
            auto = f"{key}-%s"
            if op in ("approve", "forward", "complete"):
                result[key] = ReasonForm(auto_id=auto)
            elif op == "deny":
                result[key] = DenyForm(auto_id=auto)
            elif op == "return" and open_step.return_to:
                result[key] = ReturnForm(targets=open_step.return_to, auto_id=auto)
            elif op == "supplement":
                result[key] = SupplementForm(materials=sc.supplement_materials, auto_id=auto)
            elif op == "suspend":
                result[key] = SuspendForm(auto_id=auto)
            elif op == "extend":
                result[key] = ExtensionForm(auto_id=auto)
    if sc.can_receive:
        result["intake_supplement"] = SupplementForm(materials=sc.supplement_materials,
                                                     auto_id="intake-supplement-%s")
        result["refuse"] = RefuseForm(auto_id="refuse-%s")
    if sc.can_halt:
        result["halt"] = HaltForm(auto_id="halt-%s")
    if sc.can_deliver:
        result["deliver"] = DeliverForm(auto_id="deliver-%s")
    return result


def _render_case(request: HttpRequest, sc: bench.StaffCase, *, bound: dict[str, Any] | None = None,
                 conflict: str = "", status: int = 200) -> HttpResponse:
    action_forms = _action_forms(sc)
    action_forms.update(bound or {})
    labels = {**ACTION_LABELS, **EXTRA_EVENT_LABELS}
    step_names = {t.step_key: t.name for t, _state in sc.tasks}

    def label(event: Any) -> str:
        text = str(labels.get(event.action, event.action))
        step = event.data.get("step") if isinstance(event.data, dict) else None
        if event.action == "step" and step:
            outcome = OP_LABELS.get(event.data.get("action", ""), "")
            text += f"：{step_names.get(step, step)}" + (f"（{outcome}）" if outcome else "")
        return text

    events = [(e, label(e),
               Status(e.from_status).label if e.from_status in Status.values else "",
               Status(e.to_status).label if e.to_status in Status.values else "")
              for e in sc.events]
    steps = [(s, [(op, OP_LABELS.get(op, op), action_forms.get(f"{op}-{s.task.pk}"))
                  for op in s.actions]) for s in sc.open_steps]
    response = render(request, "cases/workbench/case.html", {
        "sc": sc, "case": sc.case, "events": events, "steps": steps, "forms": action_forms,
        "labels": bench.DEADLINE_LABELS, "op_labels": OP_LABELS, "conflict": conflict,
        "desk": DESKS.get(getattr(request.user, "role", "")),
        "is_proxy": sc.case.item_version.commitment == Commitment.PROXY}, status=status)
    response["Cache-Control"] = "private, no-store"
    return response


OP_LABELS = {"approve": _("通过"), "forward": _("转交主管部门"), "complete": _("办结"),
             "deny": _("不予办理"), "return": _("退回"), "supplement": _("一次性告知补正"),
             "suspend": _("特别程序（暂停计时）"), "extend": _("申请延期")}


def _staff_case(request: HttpRequest, number: str) -> bench.StaffCase:
    sc = bench.staff_case(request.user, number, now=timezone.now())
    if sc is None:
        raise Http404
    return sc


@require_roles(*CASE_ROLES)
def staff_case(request: HttpRequest, number: str) -> HttpResponse:
    """One case: parties, form, materials, history, notices, clock and the current step."""
    sc = _staff_case(request, number)
    services.case_data_access_record(actor=request.user, case=sc.case, what="viewed",
                                     detail={"identifiers_in_full": sc.full})
    return _render_case(request, sc)


def _open_task(sc: bench.StaffCase, request: HttpRequest) -> bench.OpenStep:
    value = request.POST.get("task", "")
    found = next((s for s in sc.open_steps if str(s.task.pk) == value), None)
    if found is None:
        raise RuleViolation([Problem("task", _("该环节已办理或不存在"))])
    return found


def _perform(request: HttpRequest, sc: bench.StaffCase, op: str,
             form_box: dict[str, Any]) -> str | None:
    """Run one action; returns the success message, or None when the form was invalid (the
    bound form is left in ``form_box``)."""
    user, case, version = request.user, sc.case, _version(request)
    post = request.POST
    if op in STEP_OPS or op in ("supplement", "suspend", "extend"):
        open_step = _open_task(sc, request)
        task, key = open_step.task, f"{op}-{open_step.task.pk}"
        auto = f"{key}-%s"
        if op in ("approve", "forward", "complete"):
            form: forms.Form = ReasonForm(post, auto_id=auto)
        elif op == "deny":
            form = DenyForm(post, auto_id=auto)
        elif op == "return":
            form = ReturnForm(post, targets=open_step.return_to, auto_id=auto)
        elif op == "supplement":
            form = SupplementForm(post, materials=sc.supplement_materials, auto_id=auto)
        elif op == "suspend":
            form = SuspendForm(post, auto_id=auto)
        else:
            form = ExtensionForm(post, auto_id=auto)
        form_box[key] = form
        if not form.is_valid():
            return None
        data = form.cleaned_data
        try:
            if op in STEP_OPS:
                services.case_step(actor=user, task=task, action=op, reason=data.get("reason", ""),
                                   return_to=data.get("return_to", ""), expected_version=version)
            elif op == "supplement":
                assert isinstance(form, SupplementForm)
                items, field_map = form.items()
                services.case_request_supplement(actor=user, case=case, items=items, task=task,
                                                 note=data["note"], expected_version=version)
            elif op == "suspend":
                services.case_suspend(actor=user, task=task, procedure=data["procedure"],
                                      reason=data["reason"],
                                      expected_working_days=data["expected_working_days"],
                                      expected_version=version)
            else:
                services.case_request_extension(actor=user, task=task,
                                                working_days=data["working_days"],
                                                reason=data["reason"], expected_version=version)
        except CaseConflict:
            raise
        except RuleViolation as exc:
            mapping = field_map if op == "supplement" else {"to": "return_to"}
            add_problems(form, exc, {k: v for k, v in mapping.items() if v != "__all__"})
            return None
        return str(_("已办理：%(op)s") % {"op": OP_LABELS.get(op, op)})
    if op in INTAKE_OPS:
        return _intake(request, sc, op, form_box)
    if op == "resume":
        halted = case.status == Status.HALTED
        services.case_resume(actor=user, case=case, expected_version=version)
        return str(_("中止已结束，恢复计时") if halted else _("特别程序已结束，恢复计时"))
    if op == "halt":
        form = form_box["halt"] = HaltForm(post, auto_id="halt-%s")
        if not _through_form(form, lambda d: services.case_halt(
                actor=user, case=case, ground=d["ground"], reason=d["reason"],
                expected_version=version)):
            return None
        return str(_("已中止办理，暂停计时"))
    if op == "deliver":
        form = form_box["deliver"] = DeliverForm(post, auto_id="deliver-%s")
        if not _through_form(form, lambda d: services.case_deliver(
                actor=user, case=case, delivery=d["delivery"], expected_version=version)):
            return None
        return str(_("办理结果已送达"))
    raise RuleViolation([Problem("op", _("未知的操作"))])


def _through_form(form: forms.Form, call: Callable[[dict[str, Any]], Any]) -> bool:
    """Run the service ``call`` with the form's cleaned data; a rule it finds broken is shown on
    the form (False). A conflict (someone acted first) goes on to the page's 409."""
    if not form.is_valid():
        return False
    try:
        call(form.cleaned_data)
    except CaseConflict:
        raise
    except RuleViolation as exc:
        add_problems(form, exc)
        return False
    return True


INTAKE_OPS = ("pre_review", "accept", "refuse", "intake_supplement")


def _intake(request: HttpRequest, sc: bench.StaffCase, op: str,
            form_box: dict[str, Any]) -> str | None:
    """受理环节 of an online application: pre-review, accept (the clock starts), refuse with a
    reason, or the one-time supplement notice (the clock has not started)."""
    user, case, version = request.user, sc.case, _version(request)
    if op == "pre_review":
        services.case_pre_review(actor=user, case=case, expected_version=version)
        return str(_("已开始预审"))
    if op == "accept":
        services.case_accept(actor=user, case=case, expected_version=version, in_person=False)
        return str(_("已受理，开始计时"))
    if op == "refuse":
        form: forms.Form = RefuseForm(request.POST, auto_id="refuse-%s")
        form_box["refuse"] = form
        if not _through_form(form, lambda d: services.case_refuse(
                actor=user, case=case, reason=d["reason"], expected_version=version)):
            return None
        return str(_("已作出不予受理决定"))
    form = SupplementForm(request.POST, materials=sc.supplement_materials,
                          auto_id="intake-supplement-%s")
    form_box["intake_supplement"] = form
    if not form.is_valid():
        return None
    items, field_map = form.items()
    try:
        services.case_request_supplement(actor=user, case=case, items=items,
                                         note=form.cleaned_data["note"], expected_version=version)
    except CaseConflict:
        raise
    except RuleViolation as exc:
        add_problems(form, exc, {k: f for k, f in field_map.items() if f != "__all__"})
        return None
    return str(_("已一次性告知申请人补正"))


@require_POST
@require_roles(*CASE_ROLES)
def case_act(request: HttpRequest, number: str) -> HttpResponse:
    """Every action of the case page: the step's (approve, forward, deny, return, supplement,
    special procedure, extension), suspension (中止), resume and deliver."""
    sc = _staff_case(request, number)
    op = request.POST.get("op", "")
    bound: dict[str, Any] = {}
    try:
        done = _perform(request, sc, op, bound)
    except AccessDenied as exc:
        raise PermissionDenied(str(exc)) from exc
    except CaseConflict as exc:
        fresh = _staff_case(request, number)
        return _render_case(request, fresh, conflict=f"{CONFLICT}（{_problem_text(exc)}）",
                            status=409)
    except RuleViolation as exc:
        messages.error(request, _problem_text(exc))
        return redirect("cases:staff_case", number=number)
    if done is None:
        return _render_case(request, sc, bound=bound, status=422)
    messages.success(request, done)
    return redirect(_back(request, reverse("cases:staff_case", args=[number])))


@xframe_options_sameorigin
@require_roles(*CASE_ROLES)
def material_file(request: HttpRequest, number: str, record_id: int) -> FileResponse:
    """A material's file shown in the browser (images inline, PDFs in the viewer), for whoever
    may view the case."""
    case = selectors.case_find(request.user, number)
    if case is None:
        raise Http404
    record = case.materials.filter(pk=record_id).exclude(file="").first()
    if record is None:
        raise Http404
    services.case_data_access_record(actor=request.user, case=case, what="material_viewed",
                                     detail={"material": record.pk, "name": record.name})
    response = FileResponse(record.file.open("rb"), content_type=record.content_type,
                            as_attachment=record.content_type not in (
                                "application/pdf", "image/jpeg", "image/png"),
                            filename=record.original_name or record.file.name or "")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- the department head -----------------------------------------------------------------------

urlpatterns: list[URLPattern] = [
    path("workbench/", workbench, name="workbench"),
    path("workbench/tasks/<int:task_id>/claim/", task_claim, name="task_claim"),
    path("workbench/tasks/<int:task_id>/assign/", task_assign, name="task_assign"),
    path("workbench/cases/<str:number>/", staff_case, name="staff_case"),
    path("workbench/cases/<str:number>/act/", case_act, name="staff_case_act"),
    path("workbench/cases/<str:number>/materials/<int:record_id>/", material_file,
         name="staff_material"),
]
