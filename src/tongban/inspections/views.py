"""双随机一公开 pages: the public list with results and verification, and the department's
staff pages (directory import, tasks, draw, publish, results). Thin: rules are in ``services``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from tongban.accounts.models import Role
from tongban.catalog.views.bureau import WorkbookUploadForm, _megabytes
from tongban.catalog.workbook import WorkbookRejected
from tongban.core.access import public, require_roles
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.core.forms import CalendarDateField, add_problems
from tongban.organizations.models import Division

from . import draw, policies, selectors, services
from .models import (
    MIN_INSPECTORS_PER_ENTITY,
    DrawnEntity,
    DrawTask,
    EntityType,
    InspectionItem,
    MarketEntity,
    ResultKind,
    RiskLevel,
    TaskStatus,
)
from .verification import verify_task
from .workbook import SHEETS, template_workbook

STAFF = tuple(sorted(policies.STAFF_ROLES))
TASK_MANAGERS = (Role.HEAD, Role.OFFICER)


def _problems_text(exc: RuleViolation) -> str:
    return "；".join(str(p.message) for p in exc.problems)


# --- public ----------------------------------------------------------------------------------

@public
def public_index(request: HttpRequest) -> HttpResponse:
    """双随机一公开: every published task with its ratio, size and progress."""
    return render(request, "inspections/public_index.html", {"tasks": selectors.published_tasks()})


def _published_or_404(pk: int) -> DrawTask:
    task = selectors.published_task(pk)
    if task is None:
        raise Http404
    return task


@public
def public_task(request: HttpRequest, pk: int) -> HttpResponse:
    """One published task: drawn entities with results, inspectors, and how to re-run the draw."""
    task = _published_or_404(pk)
    return render(request, "inspections/public_task.html", {
        "task": task, "drawn": task.drawn.all(), "algorithm_doc": draw.__doc__,
        "complete": selectors.task_complete(task)})


@public
def public_verify(request: HttpRequest, pk: int) -> HttpResponse:
    """The verification report of a published task (复核结果)."""
    task = _published_or_404(pk)
    return render(request, "inspections/verify.html", {"task": task, "report": verify_task(task)})


def pools_document(task: DrawTask) -> dict[str, Any]:
    """Everything needed to re-run a draw, as published."""
    return {
        "task": task.pk, "name": task.name, "department": task.department.name,
        "algorithm": task.algorithm, "seed": task.seed,
        "count": task.count,
        "ratio_percent": str(task.ratio_percent) if task.ratio_percent is not None else None,
        "inspectors_per_entity": task.inspectors_per_entity,
        "entity_pool_hash": task.entity_pool_hash, "inspector_pool_hash": task.inspector_pool_hash,
        "entity_pool": task.entity_pool, "inspector_pool": task.inspector_pool,
        "drawn": [{"uscc": d.uscc, "name": d.name,
                   "inspectors": [i.certificate_number for i in d.inspectors.all()]}
                  for d in task.drawn.all()],
    }


@public
def public_pools(request: HttpRequest, pk: int) -> HttpResponse:
    """The pool snapshots, seed and draw of a published task as JSON (for re-running it)."""
    task = _published_or_404(pk)
    response = JsonResponse(pools_document(task), json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Content-Disposition"] = f'attachment; filename="draw-{task.pk}.json"'
    return response


# --- staff: overview and directories ---------------------------------------------------------

@require_roles(*STAFF)
def staff_index(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(request, "inspections/staff_index.html", {
        "tasks": selectors.staff_tasks(user), "counts": selectors.directory_counts(user),
        "may_create": getattr(user, "role", None) in TASK_MANAGERS,
        "may_import": getattr(user, "role", None) in (*TASK_MANAGERS, Role.ADMIN)})


class DirectoryUploadForm(WorkbookUploadForm):
    file = forms.FileField(label=_("名录工作簿（.xlsx）"))


@require_roles(Role.HEAD, Role.OFFICER, Role.ADMIN)
def staff_import(request: HttpRequest) -> HttpResponse:
    """Upload a directories workbook; show the counts, or every fault of a rejected file."""
    context: dict[str, Any] = {"sheets": SHEETS, "max_mb": _megabytes(settings.CATALOG_UPLOAD_MAX_BYTES)}
    if request.method != "POST":
        return render(request, "inspections/import.html", {**context, "form": DirectoryUploadForm()})
    form = DirectoryUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "inspections/import.html", {**context, "form": form}, status=400)
    upload: UploadedFile[bytes] = form.cleaned_data["file"]
    name = upload.name or "workbook.xlsx"
    try:
        report = services.directory_import(actor=request.user, source=upload, name=name,
                                           dry_run=form.cleaned_data["dry_run"])
    except AccessDenied as exc:
        raise PermissionDenied from exc
    except WorkbookRejected as rejected:
        return render(request, "inspections/import.html", {
            **context, "form": DirectoryUploadForm(), "name": name, "rejected": rejected}, status=422)
    return render(request, "inspections/import.html", {
        **context, "form": DirectoryUploadForm(), "name": name, "report": report})


@require_roles(*STAFF)
def staff_template(request: HttpRequest) -> HttpResponse:
    """The empty directories workbook (four sheets with their column names)."""
    response = HttpResponse(template_workbook(), content_type=(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    response["Content-Disposition"] = 'attachment; filename="inspection-directories.xlsx"'
    return response


# --- staff: tasks ----------------------------------------------------------------------------

class TaskForm(forms.Form):
    name = forms.CharField(label=_("任务名称"), max_length=200)
    items = forms.ModelMultipleChoiceField(label=_("检查事项"), queryset=InspectionItem.objects.none(),
                                           widget=forms.CheckboxSelectMultiple)
    industries = forms.MultipleChoiceField(label=_("行业"), required=False,
                                           widget=forms.CheckboxSelectMultiple)
    division_codes = forms.MultipleChoiceField(label=_("行政区划"), required=False,
                                               widget=forms.CheckboxSelectMultiple)
    risk_levels = forms.MultipleChoiceField(label=_("风险等级"), required=False,
                                            choices=RiskLevel.choices, widget=forms.CheckboxSelectMultiple)
    entity_types = forms.MultipleChoiceField(label=_("主体类型"), required=False,
                                             choices=EntityType.choices, widget=forms.CheckboxSelectMultiple)
    ratio_percent = forms.DecimalField(label=_("抽查比例（%）"), required=False, max_digits=5,
                                       decimal_places=2,
                                       help_text=_("如 5 表示抽取 5%，向上取整；与抽查户数二选一"))
    count = forms.IntegerField(label=_("抽查户数"), required=False, min_value=1)
    inspectors_per_entity = forms.IntegerField(label=_("每户检查人员数"), initial=MIN_INSPECTORS_PER_ENTITY,
                                               min_value=1, help_text=_("不少于 2 名"))
    seed = forms.CharField(label=_("随机种子（选填）"), required=False, max_length=64,
                           help_text=_("留空时在抽取时由系统随机生成（推荐）；十六进制数字"))

    def __init__(self, *args: Any, department_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["items"].queryset = InspectionItem.objects.filter(department_id=department_id)  # type: ignore[attr-defined]
        entities = MarketEntity.objects.filter(department_id=department_id)
        self.fields["industries"].choices = [  # type: ignore[attr-defined]
            (v, v) for v in entities.order_by("industry").values_list("industry", flat=True).distinct()]
        ids = set(entities.values_list("division_id", flat=True))
        divisions = {d.pk: d for d in Division.objects.filter(pk__in=ids)}
        parents = set(d.parent_id for d in divisions.values() if d.parent_id)
        divisions.update({d.pk: d for d in Division.objects.filter(pk__in=parents)})
        self.fields["division_codes"].choices = [  # type: ignore[attr-defined]
            (d.code, f"{d.name}（{d.code}）") for d in sorted(divisions.values(), key=lambda d: d.code)]

    def fields_for_service(self) -> services.TaskFields:
        data = self.cleaned_data
        return services.TaskFields(
            name=data["name"], items=list(data["items"]), industries=data["industries"],
            division_codes=data["division_codes"], risk_levels=data["risk_levels"],
            entity_types=data["entity_types"], ratio_percent=data["ratio_percent"],
            count=data["count"], inspectors_per_entity=data["inspectors_per_entity"],
            seed=data["seed"])


@require_roles(*TASK_MANAGERS)
def staff_task_new(request: HttpRequest) -> HttpResponse:
    department = request.user.department  # type: ignore[union-attr]
    if department is None:
        raise PermissionDenied
    form = TaskForm(request.POST or None, department_id=department.pk)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                task = services.task_create(actor=request.user, department=department,
                                            fields=form.fields_for_service())
            except AccessDenied as exc:
                raise PermissionDenied from exc
            except RuleViolation as exc:
                add_problems(form, exc)
            else:
                messages.success(request, _("抽查任务已创建，请核对后抽取"))
                return redirect("inspections:staff_task", pk=task.pk)
        status = 422
    return render(request, "inspections/task_new.html", {"form": form, "department": department},
                  status=status)


def _staff_task_or_404(request: HttpRequest, pk: int) -> DrawTask:
    task = selectors.staff_task(request.user, pk)
    if task is None:
        raise Http404
    return task


@require_roles(*STAFF)
def staff_task(request: HttpRequest, pk: int) -> HttpResponse:
    """A task for its department: filters, pool preview, draw/publish, drawn rows, results."""
    task = _staff_task_or_404(request, pk)
    user = request.user
    dept = task.department_id
    context: dict[str, Any] = {
        "task": task, "drawn": task.drawn.all(), "Status": TaskStatus,
        "complete": selectors.task_complete(task),
        "may_draw": task.status == TaskStatus.DRAFT and policies.can_manage_tasks(user, dept),
        "may_publish": task.status == TaskStatus.DRAWN and policies.can_publish_task(user, dept),
        "mine": selectors.my_drawn_ids(user, task),
    }
    if task.status == TaskStatus.DRAFT:
        pools = selectors.current_pools(task)
        context.update(pool_entities=len(pools.entities), pool_inspectors=len(pools.inspectors),
                       wanted=draw.sample_size(len(pools.entities), count=task.count,
                                               ratio_percent=task.ratio_percent))
    else:
        context["report"] = verify_task(task)
    return render(request, "inspections/staff_task.html", context)


@require_roles(*TASK_MANAGERS)
@require_POST
def staff_task_action(request: HttpRequest, pk: int) -> HttpResponse:
    task = _staff_task_or_404(request, pk)
    action = request.POST.get("action", "")
    try:
        if action == "draw":
            services.task_draw(actor=request.user, task=task)
            messages.success(request, _("已抽取，结果已记录且不可更改"))
        elif action == "publish":
            services.task_publish(actor=request.user, task=task)
            messages.success(request, _("已公示，公众可在“双随机一公开”页面查看"))
        else:
            raise Http404
    except AccessDenied as exc:
        raise PermissionDenied from exc
    except RuleViolation as exc:
        messages.error(request, _problems_text(exc))
    return redirect("inspections:staff_task", pk=task.pk)


class ResultForm(forms.Form):
    result = forms.ChoiceField(label=_("检查结果"), choices=ResultKind.choices, widget=forms.RadioSelect)
    findings = forms.CharField(label=_("检查情况"), required=False, max_length=2000,
                               widget=forms.Textarea(attrs={"rows": 4}),
                               help_text=_("结果不是“未发现问题”时必填：发现的问题和处理措施"))
    inspected_on = CalendarDateField(label=_("检查日期"), widget=forms.DateInput(attrs={"type": "date"}))


@require_roles(*STAFF)
def staff_result(request: HttpRequest, pk: int, drawn_pk: int) -> HttpResponse:
    """Record the result of one drawn entity (the entity's drawn inspectors only)."""
    task = _staff_task_or_404(request, pk)
    drawn = DrawnEntity.objects.filter(task=task, pk=drawn_pk).prefetch_related("inspectors").first()
    if drawn is None:
        raise Http404
    if drawn.pk not in selectors.my_drawn_ids(request.user, task):
        raise PermissionDenied
    initial = {"result": drawn.result, "findings": drawn.findings, "inspected_on": drawn.inspected_on}
    form = ResultForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.result_record(actor=request.user, drawn=drawn, result=data["result"],
                                       findings=data["findings"], inspected_on=data["inspected_on"])
            except AccessDenied as exc:
                raise PermissionDenied from exc
            except RuleViolation as exc:
                add_problems(form, exc)
            else:
                messages.success(request, _("已录入 %(name)s 的检查结果") % {"name": drawn.name})
                return redirect("inspections:staff_task", pk=task.pk)
        status = 422
    return render(request, "inspections/result.html", {"task": task, "drawn": drawn, "form": form},
                  status=status)
