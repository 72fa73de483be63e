"""Reads of workflows: the staff inbox, one step task, and the saved workflow definitions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from tongban.accounts import permissions
from tongban.accounts.models import PUBLIC_ROLES, Role
from tongban.core.errors import AccessDenied, Problem, RuleViolation

from .models import StepTask, TaskStatus, WorkflowDefinition
from .services import can_work_on

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

INBOX_SCOPES = ("mine", "department")


def _active_role(user: Actor) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return getattr(user, "role", None)


def _units(user: Actor) -> list[int]:
    """The departments a user works for: their own, and their hall's managing department."""
    department_id = getattr(user, "department_id", None)
    units = [department_id] if department_id else []
    hall = getattr(user, "hall", None) if getattr(user, "hall_id", None) else None
    if hall is not None and hall.department_id:
        units.append(hall.department_id)
    return units


def inbox(user: Actor, *, scope: str = "mine", item: str = "", step: str = "") -> QuerySet[StepTask]:
    """Open step tasks, soonest due first.

    ``mine``: tasks assigned to the user plus unassigned ones of their department (or hall's
    department) and role — what :func:`can_work_on` allows. ``department``: every open task of
    the head's department, to assign.
    """
    role = _active_role(user)
    if role is None or role in PUBLIC_ROLES or not user.is_authenticated:
        return StepTask.objects.none()
    if scope not in INBOX_SCOPES:
        raise RuleViolation([Problem("scope", _("范围须为mine（我的待办）或department（本部门）"))])
    tasks = StepTask.objects.filter(status=TaskStatus.OPEN)
    if scope == "department":
        if role != Role.HEAD or not user.department_id:
            raise AccessDenied(_("只有部门负责人可以查看本部门的全部待办"))
        tasks = tasks.filter(department_id=user.department_id)
    else:
        tasks = tasks.filter(Q(assignee=user)
                             | Q(assignee=None, role=role, department_id__in=_units(user)))
    if item:
        tasks = tasks.filter(case__item__implementation_code=item)
    if step:
        tasks = tasks.filter(step_key=step)
    return (tasks.select_related("case", "case__item", "case__item_version", "case__workflow",
                                 "department", "assignee")
            .order_by(F("due_at").asc(nulls_last=True), "pk"))


def task_find(user: Actor, task_id: int) -> StepTask | None:
    """The task, if ``user`` may see it: who may work on it, the head of its department, or
    anyone who may see its case. Otherwise None (answered as absent)."""
    from tongban.cases import policies

    task = (StepTask.objects.select_related("case", "department", "assignee", "finished_by")
            .filter(pk=task_id).first())
    if task is None or _active_role(user) is None:
        return None
    if can_work_on(user, task) or policies.can_view(user, task.case):
        return task
    if getattr(user, "role", None) == Role.HEAD \
            and getattr(user, "department_id", None) == task.department_id:
        return task
    return None


def can_view_workflows(user: Actor) -> bool:
    """Workflow definitions are internal working rules: staff and the bureau read them."""
    role = _active_role(user)
    return permissions.is_bureau_admin(user) or (role is not None and role not in PUBLIC_ROLES)


def workflow_list(user: Actor, *, item: str = "", commitment: str = "",
                  active_only: bool = False) -> QuerySet[WorkflowDefinition]:
    if not can_view_workflows(user):
        raise AccessDenied(_("只有工作人员可以查看办理流程"))
    workflows = WorkflowDefinition.objects.select_related("item", "created_by")
    if item:
        workflows = workflows.filter(item__implementation_code=item)
    if commitment:
        workflows = workflows.filter(item=None, commitment=commitment)
    if active_only:
        workflows = workflows.filter(is_active=True)
    return workflows.order_by("item__implementation_code", "commitment", "-version")


def workflow_get(user: Actor, workflow_id: int) -> WorkflowDefinition | None:
    if not can_view_workflows(user):
        raise AccessDenied(_("只有工作人员可以查看办理流程"))
    return (WorkflowDefinition.objects.select_related("item", "created_by")
            .filter(pk=workflow_id).first())

