"""API of 双随机一公开 under ``/api/v1/inspections/``: public reads of published tasks and their
verification; staff create, draw, publish and record results through the same services."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from tongban.core.errors import AccessDenied, Problem, RuleViolation
from tongban.organizations.models import Department

from . import selectors, services
from .models import DrawnEntity, DrawTask, InspectionItem, ResultKind
from .schemas import (
    CheckOut,
    DrawnEntityOut,
    DrawTaskOut,
    DrawTaskSummaryOut,
    DrawVerificationOut,
    InspectorOut,
    ResultIn,
    TaskIn,
)
from .verification import verify_task

router = Router(tags=["inspections"])


def _summary(task: DrawTask) -> DrawTaskSummaryOut:
    return DrawTaskSummaryOut(
        id=task.pk, name=task.name, department=task.department.name, status=task.status,
        ratio_percent=task.ratio_percent, count=task.count,
        drawn_count=getattr(task, "drawn_count", 0), recorded_count=getattr(task, "recorded_count", 0),
        published_at=task.published_at)


def _drawn(d: DrawnEntity) -> DrawnEntityOut:
    return DrawnEntityOut(
        position=d.position, uscc=d.uscc, name=d.name,
        inspectors=[InspectorOut(name=i.name, certificate_number=i.certificate_number)
                    for i in d.inspectors.all()],
        recused_count=len(d.recused), result=d.result or None,
        result_label=str(ResultKind(d.result).label) if d.result else None,
        findings=d.findings, inspected_on=d.inspected_on)


def _task(task: DrawTask) -> DrawTaskOut:
    drawn = list(task.drawn.all())
    return DrawTaskOut(
        id=task.pk, name=task.name, department=task.department.name, status=task.status,
        ratio_percent=task.ratio_percent, count=task.count, drawn_count=len(drawn),
        recorded_count=sum(1 for d in drawn if d.result), published_at=task.published_at,
        items=[f"{i.code} {i.name}" for i in task.items.all()],
        filters={"industries": task.industries, "division_codes": task.division_codes,
                 "risk_levels": task.risk_levels, "entity_types": task.entity_types},
        inspectors_per_entity=task.inspectors_per_entity, algorithm=task.algorithm, seed=task.seed,
        entity_pool_size=len(task.entity_pool), inspector_pool_size=len(task.inspector_pool),
        entity_pool_hash=task.entity_pool_hash, inspector_pool_hash=task.inspector_pool_hash,
        drawn_at=task.drawn_at, drawn=[_drawn(d) for d in drawn])


@router.get("/tasks", response=list[DrawTaskSummaryOut], auth=None, summary="Published draw tasks")
def published_tasks(request: HttpRequest) -> list[DrawTaskSummaryOut]:
    return [_summary(t) for t in selectors.published_tasks()]


@router.get("/tasks/{int:task_id}", response=DrawTaskOut, auth=None, summary="A published draw task")
def published_task(request: HttpRequest, task_id: int) -> DrawTaskOut:
    """The task with its drawn entities, their inspectors (name and certificate number) and
    results, the seed and both pool hashes. The pool snapshots: ``/inspections/{id}/pools.json``."""
    task = selectors.published_task(task_id)
    if task is None:
        raise Http404
    return _task(task)


@router.get("/tasks/{int:task_id}/verify", response=DrawVerificationOut, auth=None,
            summary="Verify a published draw")
def verify(request: HttpRequest, task_id: int) -> DrawVerificationOut:
    """Recompute the pool hashes, re-run the draw from the seed and compare it and the results
    with what is stored and with the audit log; ``ok`` is false on any difference."""
    task = selectors.published_task(task_id)
    if task is None:
        raise Http404
    report = verify_task(task)
    return DrawVerificationOut(task=task.pk, ok=report.ok,
                           directories_unchanged=report.directories_unchanged,
                           checks=[CheckOut(label=c.label, ok=c.ok, details=c.details)
                                   for c in report.checks])


@router.get("/staff/tasks", response=list[DrawTaskSummaryOut], summary="Draw tasks the caller may read")
def staff_tasks(request: HttpRequest) -> list[DrawTaskSummaryOut]:
    return [_summary(t) for t in selectors.staff_tasks(request.user)]


@router.get("/staff/tasks/{int:task_id}", response=DrawTaskOut, summary="A draw task (staff)")
def staff_task(request: HttpRequest, task_id: int) -> DrawTaskOut:
    task = selectors.staff_task(request.user, task_id)
    if task is None:
        raise Http404
    return _task(task)


@router.post("/staff/tasks", response={201: DrawTaskOut}, summary="Create a draw task")
def create_task(request: HttpRequest, body: TaskIn) -> Status[DrawTaskOut]:
    """A task of the caller's department (officers and heads)."""
    department = Department.objects.filter(pk=getattr(request.user, "department_id", None) or 0).first()
    if department is None:
        raise AccessDenied(_("只有本部门的经办人和负责人可以创建抽查任务"))
    items = list(InspectionItem.objects.filter(code__in=body.items))
    missing = sorted(set(body.items) - {i.code for i in items})
    if missing:
        raise RuleViolation([Problem("items", _("检查事项不存在：%(v)s") % {"v": "、".join(missing)})])
    task = services.task_create(actor=request.user, department=department, fields=services.TaskFields(
        name=body.name, items=items, industries=body.industries, division_codes=body.division_codes,
        risk_levels=body.risk_levels, entity_types=body.entity_types,
        ratio_percent=body.ratio_percent, count=body.count,
        inspectors_per_entity=body.inspectors_per_entity, seed=body.seed))
    return Status(201, _task(selectors.staff_task(request.user, task.pk) or task))


def _staff_task(request: HttpRequest, task_id: int) -> DrawTask:
    task = selectors.staff_task(request.user, task_id)
    if task is None:
        raise Http404
    return task


@router.post("/staff/tasks/{int:task_id}/draw", response=DrawTaskOut, summary="Draw a task")
def draw_task(request: HttpRequest, task_id: int) -> DrawTaskOut:
    services.task_draw(actor=request.user, task=_staff_task(request, task_id))
    return _task(_staff_task(request, task_id))


@router.post("/staff/tasks/{int:task_id}/publish", response=DrawTaskOut, summary="Publish a drawn task")
def publish_task(request: HttpRequest, task_id: int) -> DrawTaskOut:
    services.task_publish(actor=request.user, task=_staff_task(request, task_id))
    return _task(_staff_task(request, task_id))


@router.post("/staff/tasks/{int:task_id}/results/{uscc}", response=DrawnEntityOut,
             summary="Record a drawn entity's result")
def record_result(request: HttpRequest, task_id: int, uscc: str, body: ResultIn) -> DrawnEntityOut:
    """Only the inspectors drawn for that entity (their linked accounts) may record it."""
    task = _staff_task(request, task_id)
    drawn = DrawnEntity.objects.filter(task=task, uscc=uscc).first()
    if drawn is None:
        raise Http404
    services.result_record(actor=request.user, drawn=drawn, result=body.result,
                           findings=body.findings, inspected_on=body.inspected_on)
    return _drawn(DrawnEntity.objects.prefetch_related("inspectors").get(pk=drawn.pk))
