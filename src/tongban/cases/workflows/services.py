"""Saving workflow definitions, and running them: opening and closing the step tasks of a case.

The runtime functions (``workflow_start``, ``task_open_next`` …) are called by the case services
inside the case's transaction; they never commit on their own and never change the case status.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.accounts import permissions
from tongban.accounts.models import Role
from tongban.audit.services import audit_record
from tongban.catalog.models import Commitment, Item, LimitUnit
from tongban.clock import selectors as clock
from tongban.clock.deadline import (
    SHANGHAI,
    business_add,
    limit_in_working_days,
    working_day_seconds,
)
from tongban.core import prepared
from tongban.core.errors import AccessDenied, Problem, RuleViolation
from tongban.organizations.models import Department

from .defaults import DEFAULTS
from .definition import (
    ITEM_DEPARTMENT,
    RECEIVING_UNIT,
    Definition,
    Step,
    check_definition,
    steps_to_open,
)
from .models import StepTask, TaskStatus, WorkflowDefinition

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor


def committed_working_days(version: Any) -> Decimal:
    """An item version's committed limit in working days (calendar days count as 5/7)."""
    days = limit_in_working_days(version.committed_limit, version.committed_limit_unit)
    if version.committed_limit_unit == LimitUnit.NATURAL_DAYS:
        return Decimal(days).quantize(Decimal("0.01"))
    return Decimal(version.committed_limit)


@transaction.atomic
def workflow_save(*, actor: Actor, definition: dict[str, Any], name: str, item: Item | None = None,
                  commitment: str = "") -> WorkflowDefinition:
    """Save a new version of an item's workflow (or of a list's default), validated first."""
    if not permissions.is_bureau_admin(actor):
        raise AccessDenied(_("只有政务服务管理局管理员可以修改办理流程"))
    parsed = Definition.from_dict(definition)
    limit = None
    if item is not None and item.current is not None:
        limit = committed_working_days(item.current)
    problems = check_definition(parsed, committed_working_days=limit)
    if not name.strip():
        problems.append(Problem("name", _("流程名称不能为空")))
    for index, step in enumerate(parsed.steps):
        # A step handled by a named department: it must exist (cases would fail at that step).
        if step.department not in (ITEM_DEPARTMENT, RECEIVING_UNIT) and \
                not Department.objects.filter(uscc=step.department).exists():
            problems.append(Problem(f"steps[{index}].department", _(
                "办理部门须为@item（事项的实施主体）、@receiving_unit（代办受理单位）或已登记部门的统一社会信用代码")))
    if item is not None and commitment:
        problems.append(Problem("commitment", _("事项流程与清单默认流程只能二选一")))
    elif item is None and commitment not in Commitment.values:
        problems.append(Problem("commitment", _("须指定事项，或指定默认流程适用的承诺类别（%(all)s）") % {
            "all": "、".join(Commitment.values)}))
    if problems:
        raise RuleViolation(problems)
    scope = WorkflowDefinition.objects.filter(item=item, commitment="" if item else commitment)
    number = (scope.aggregate(n=Max("version"))["n"] or 0) + 1
    scope.filter(is_active=True).update(is_active=False)
    saved = WorkflowDefinition.objects.create(
        item=item, commitment="" if item else commitment, version=number, name=name,
        definition=parsed.as_dict(), created_by=permissions.account_of(actor))
    audit_record(actor=actor, action="workflow.saved", object_type="workflow",
                 object_id=saved.pk, detail={"item": item.implementation_code if item else None,
                                             "commitment": commitment, "version": number})
    return saved


def workflow_for(item: Item | int, commitment: str) -> WorkflowDefinition:
    """The active definition for a new case: the item's own, else its list's default."""
    item_id = item if isinstance(item, int) else item.pk
    # The item's own and the lists' defaults in one query (every acceptance asks).
    candidates = _ACTIVE_WORKFLOWS.all(item_id)
    for wanted in (lambda wf: wf.item_id == item_id, lambda wf: wf.commitment == commitment):
        found = next((wf for wf in candidates if wanted(wf)), None)
        if found is not None:
            return found
    data = DEFAULTS[commitment]
    try:
        with transaction.atomic():
            return WorkflowDefinition.objects.create(
                item=None, commitment=commitment, version=1, name=data["name"],
                definition={k: v for k, v in data.items() if k != "name"})
    except IntegrityError:  # another request created it first
        return WorkflowDefinition.objects.get(item=None, commitment=commitment, version=1)


# Parsed definitions by (id, created_at) of their saved version: saved versions never change, so
# each is parsed once per process (every step of every case reads its definition).
_parsed: dict[tuple[int, Any], Definition] = {}


_ACTIVE_WORKFLOWS = prepared.Lookup(lambda pk: WorkflowDefinition.objects.filter(
    Q(item_id=pk) | Q(item__isnull=True), is_active=True))
_OPEN_TASKS = prepared.Lookup(lambda pk: StepTask.objects.filter(case_id=pk,
                                                                 status=TaskStatus.OPEN))


def definition_of(case: Any) -> Definition:
    """The steps of the workflow version the case runs under."""
    workflow = case.workflow
    if workflow.pk is None:
        return Definition.from_dict(workflow.definition)
    key = (workflow.pk, workflow.created_at)
    parsed = _parsed.get(key)
    if parsed is None:
        if len(_parsed) >= 1000:
            _parsed.clear()
        parsed = _parsed[key] = Definition.from_dict(workflow.definition)
    return parsed


def _department_id(case: Any, step: Step) -> int:
    if step.department == ITEM_DEPARTMENT:
        return int(case.department_id)
    if step.department == RECEIVING_UNIT:
        if case.receiving_unit_id is None:
            raise RuleViolation([Problem("workflow", _("该办件没有代办受理单位"))])
        return int(case.receiving_unit_id)
    return Department.objects.values_list("pk", flat=True).get(uscc=step.department)


def _step_due(case: Any, definition: Definition, step: Step, at: dt.datetime, *,
              stopped: float = 0.0) -> dt.datetime:
    """A step opened at ``at`` is due its own budget of business time later, plus the business
    time its case's clock stood still (``stopped``) since."""
    budget = definition.budget(step, committed_working_days(case.item_version))
    calendar, hours = clock.work_calendar(), clock.office_hours(case.hall_id)
    seconds = float(budget) * working_day_seconds(hours, at.astimezone(SHANGHAI).date())
    return business_add(at, seconds + stopped, calendar=calendar, hours=hours).due


def task_refresh_due(task: StepTask, case: Any, *, stopped: float = 0.0) -> None:
    """Recompute an open step's due instant on the current calendar (after a calendar change),
    ``stopped`` being the business time of the case's ended clock stops since it opened."""
    definition = definition_of(case)
    try:
        step = definition.step(task.step_key)
    except KeyError:
        return  # not a step of the case's workflow version: left as it is
    task.due_at = _step_due(case, definition, step, task.opened_at, stopped=stopped)


def _open(case: Any, definition: Definition, key: str, at: dt.datetime) -> StepTask:
    step = definition.step(key)
    due = _step_due(case, definition, step, at)
    task = StepTask(case=case, step_key=key, name=step.name,
                    department_id=_department_id(case, step), role=step.role, opened_at=at,
                    due_at=due)
    prepared.insert(task)  # compiled once: every step of every case opens a task
    return task


def workflow_start(case: Any, *, at: dt.datetime) -> list[StepTask]:
    definition = definition_of(case)
    return [_open(case, definition, definition.start, at)]


def task_finish(task: StepTask, *, actor: Actor, outcome: str, at: dt.datetime) -> None:
    task.status = TaskStatus.DONE
    task.outcome = outcome
    task.finished_at = at
    task.finished_by = permissions.account_of(actor)
    task.late = bool(task.due_at and at > task.due_at)
    prepared.update(task, ["status", "outcome", "finished_at", "finished_by", "late"])


def task_open_next(case: Any, task: StepTask, *, at: dt.datetime,
                   others: list[StepTask] | None = None) -> tuple[list[StepTask], bool]:
    """Open the steps after ``task``. Returns the new tasks and whether the workflow reached
    its end (no step open any more). ``others``: the case's open steps but ``task``, when the
    caller has read them (locked) already."""
    definition = definition_of(case)
    if others is None:
        others = _OPEN_TASKS.all(case.pk)
    open_keys = {t.step_key for t in others if t.pk != task.pk}
    # 并联审批: a joining step waits until every branch that can reach it has arrived.
    opened = [_open(case, definition, key, at)
              for key in steps_to_open(definition, task.step_key, open_keys)]
    return opened, not (open_keys or opened)


def task_return(case: Any, task: StepTask, *, to: str, at: dt.datetime) -> StepTask:
    definition = definition_of(case)
    step = definition.step(task.step_key)
    if to not in step.return_to:
        raise RuleViolation([Problem("to", _("不能退回到环节“%(key)s”") % {"key": to})])
    # Parallel branches still open are cancelled: the case goes back to one earlier point.
    StepTask.objects.filter(case=case, status=TaskStatus.OPEN).exclude(pk=task.pk).update(
        status=TaskStatus.CANCELLED, finished_at=at)
    return _open(case, definition, to, at)


def task_reopen_decision(case: Any, *, at: dt.datetime) -> StepTask:
    """Open the deciding step again (人工复核 of an automatic decision): every other open step
    is cancelled, so a human takes the decision anew."""
    definition = definition_of(case)
    tasks_cancel(case, at=at)
    key = next(s.key for s in definition.steps if s.decides)
    return _open(case, definition, key, at)


def tasks_cancel(case: Any, *, at: dt.datetime) -> None:
    StepTask.objects.filter(case=case, status=TaskStatus.OPEN).update(
        status=TaskStatus.CANCELLED, finished_at=at)


# --- the inbox -------------------------------------------------------------------------------

def can_work_on(user: Actor, task: StepTask) -> bool:
    """The task's assignee, or — while unassigned — anyone of its department and role."""
    if not getattr(user, "is_authenticated", False) or task.status != TaskStatus.OPEN:
        return False
    if task.assignee_id is not None:
        return bool(task.assignee_id == user.pk)
    if permissions.is_automatic(user):  # 秒批: the steps of the case's department (and centre)
        return task.department_id in (getattr(user, "department_id", None),
                                      getattr(user, "receiving_unit_id", None))
    return _in_unit(user, task) and getattr(user, "role", None) == task.role


def _in_unit(user: Actor, task: StepTask) -> bool:
    if getattr(user, "department_id", None) == task.department_id:
        return True
    # Clerks and proxy agents belong to a hall; the hall's managing department is their unit.
    hall = getattr(user, "hall", None) if getattr(user, "hall_id", None) else None
    return bool(hall is not None and hall.department_id == task.department_id)


@transaction.atomic
def task_claim(*, actor: Actor, task: StepTask) -> StepTask:
    task = StepTask.objects.select_for_update().get(pk=task.pk)
    if task.assignee_id is not None and task.assignee_id != actor.pk:
        raise RuleViolation([Problem("task", _("该任务已被其他人认领"))])
    if not can_work_on(actor, task):
        raise AccessDenied(_("您不能认领该任务"))
    task.assignee = permissions.account_of(actor)
    task.save(update_fields=["assignee"])
    audit_record(actor=actor, action="task.claimed", object_type="task", object_id=task.pk,
                 detail={"case": task.case_id})
    return task


@transaction.atomic
def task_assign(*, actor: Actor, task: StepTask, to: Any, reason: str = "") -> StepTask:
    """The department head assigns (or reassigns) a task to a person of the department; the
    assignee may transfer it to a colleague of the same department and role."""
    task = StepTask.objects.select_for_update().get(pk=task.pk)
    if task.status != TaskStatus.OPEN:
        raise RuleViolation([Problem("task", _("该任务已办结"))])
    is_head = (actor.is_authenticated and actor.role == Role.HEAD
               and actor.department_id == task.department_id)
    is_holder = task.assignee_id == actor.pk
    if not (is_head or is_holder or permissions.is_bureau_admin(actor)):
        raise AccessDenied(_("只有部门负责人或当前办理人可以分派、转办"))
    if not (to.is_active and to.role == task.role and _in_unit(to, task)):
        raise RuleViolation([Problem("assignee", _("只能交给本部门同一角色的工作人员"))])
    previous = task.assignee_id
    task.assignee = to
    task.save(update_fields=["assignee"])
    audit_record(actor=actor, action="task.assigned", object_type="task", object_id=task.pk,
                 detail={"case": task.case_id, "from": previous, "to": to.pk, "reason": reason})
    if to.pk != actor.pk:
        from tongban.cases.notifications.tasks import send_task_assigned
        from tongban.scheduling.queue import enqueue_after_commit

        enqueue_after_commit(send_task_assigned, task.pk, to.pk)
    return task


def now() -> dt.datetime:
    return timezone.now()
