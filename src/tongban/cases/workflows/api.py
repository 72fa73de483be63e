"""The staff inbox (claim, assign, transfer) and workflow definitions as data.

Acting on a step (approve, forward, deny, return, suspend, extension) is part of the case API
(``POST /tasks/{id}/act`` …), because it moves the case.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from tongban.cases import selectors as case_selectors
from tongban.cases.schemas import ErrorOut, ProblemsOut, TaskOut, local
from tongban.catalog.models import Item
from tongban.core.errors import Problem, RuleViolation
from tongban.core.schemas import PageNumber

from . import selectors, services
from .definition import END, ITEM_DEPARTMENT, Definition
from .models import StepTask, WorkflowDefinition

router = Router(tags=["inbox and workflows"])


# --- the inbox --------------------------------------------------------------------------------

class InboxQuery(Schema):
    scope: str = Field("mine", description="mine: assigned to me plus unassigned ones of my "
                                           "department and role; department: all open tasks of "
                                           "my department (heads)")
    item: str = Field("", description="实施编码 of the item")
    step: str = Field("", description="Step key, e.g. review")
    deadline_state: str = Field("", description="green / yellow / red")
    page: PageNumber = 1
    page_size: int = Field(50, ge=1, le=200)


class InboxEntryOut(TaskOut):
    case_status: str
    item_name: str
    applicant_name: str


class InboxOut(Schema):
    count: int
    page: int
    page_size: int
    items: list[InboxEntryOut]


class AssignIn(Schema):
    to: int = Field(description="Id of the user who takes the task over")
    reason: str = Field("", max_length=500)


def _definition(task: StepTask) -> Definition | None:
    workflow = task.case.workflow
    return Definition.from_dict(workflow.definition) if workflow is not None else None


def _entry(task: StepTask, *, state: str) -> InboxEntryOut:
    case = task.case
    base = TaskOut.build(task, case, deadline_state=state, definition=_definition(task))
    return InboxEntryOut(**base.model_dump(), case_status=case.status,
                         item_name=case.item_version.name, applicant_name=case.applicant_name)


def _task_out(task_id: int) -> TaskOut:
    task = (StepTask.objects.select_related("case", "case__workflow", "department", "assignee",
                                            "finished_by").get(pk=task_id))
    state = case_selectors.task_deadline_state(task, now=timezone.now(), hall_id=task.case.hall_id)
    return TaskOut.build(task, task.case, deadline_state=state, definition=_definition(task))


def _task(request: HttpRequest, task_id: int) -> StepTask:
    task = selectors.task_find(request.user, task_id)
    if task is None:
        raise HttpError(404, _("环节任务不存在，或您无权查看"))
    return task


@router.get("/inbox", response={200: InboxOut, 403: ErrorOut, 422: ProblemsOut},
            summary="My open step tasks, soonest due first")
def my_inbox(request: HttpRequest, query: Query[InboxQuery]) -> Any:
    if query.deadline_state and query.deadline_state not in ("green", "yellow", "red"):
        raise RuleViolation([Problem("deadline_state", _("时限状态须为green、yellow或red"))])
    tasks = list(selectors.inbox(request.user, scope=query.scope, item=query.item,
                                 step=query.step))
    states = case_selectors.task_deadline_states(tasks, now=timezone.now())
    entries = [_entry(t, state=states[t.pk]) for t in tasks]
    if query.deadline_state:
        entries = [e for e in entries if e.deadline_state == query.deadline_state]
    start = (query.page - 1) * query.page_size
    return InboxOut(count=len(entries), page=query.page, page_size=query.page_size,
                    items=entries[start:start + query.page_size])


@router.post("/tasks/{task_id}/claim", response={200: TaskOut, 403: ErrorOut, 404: ErrorOut,
                                                  422: ProblemsOut},
             summary="Claim an unassigned task")
def claim(request: HttpRequest, task_id: int) -> Any:
    task = services.task_claim(actor=request.user, task=_task(request, task_id))
    return _task_out(task.pk)


@router.post("/tasks/{task_id}/assign", response={200: TaskOut, 403: ErrorOut, 404: ErrorOut,
                                                   422: ProblemsOut},
             summary="Assign (department head) or transfer (current holder) a task")
def assign(request: HttpRequest, task_id: int, payload: AssignIn) -> Any:
    """To a person of the task's department and role."""
    task = _task(request, task_id)
    to = get_user_model().objects.select_related("hall").filter(pk=payload.to).first()
    if to is None:
        raise RuleViolation([Problem("to", _("用户不存在"))])
    task = services.task_assign(actor=request.user, task=task, to=to, reason=payload.reason)
    return _task_out(task.pk)


# --- workflow definitions ---------------------------------------------------------------------

class StepIn(Schema):
    key: str = Field(max_length=50, description="Identifier of the step, unique in the workflow")
    name: str = Field(max_length=100)
    role: str = Field(description="clerk / officer / head / proxy_agent")
    department: str = Field(ITEM_DEPARTMENT, description="@item (the item's department), "
                                                         "@receiving_unit (代办) or a USCC")
    budget_working_days: Decimal = Field(
        Decimal(0), description="The step's own time budget: working days (0–365), or a share "
                                "(0–1) of the committed limit when budget_mode is share; at "
                                "most 4 decimal places")
    actions: list[str] = Field(default_factory=lambda: ["approve"],
                               description="approve / deny / forward / return / supplement / "
                                           "suspend / extend / complete")
    next: list[str] = Field(default_factory=lambda: [END],
                            description="Following steps (several run in parallel); end ends")
    join: bool = Field(False, description="Wait until every step leading here has finished")
    return_to: list[str] = Field(default_factory=list)
    decides: bool = Field(False, description="This step decides (approve / deny) the case")


class WorkflowIn(Schema):
    """A new version of an item's workflow (``item``) or of a list's default (``commitment``).

    Rule violations answer 422 naming the JSON path, e.g. ``steps[1].next``.
    """

    item: str | None = Field(None, description="实施编码 of the item")
    commitment: str = Field("", description="on_the_spot / same_day / time_limited / proxy")
    name: str = Field(max_length=100)
    start: str = Field(description="Key of the first step")
    budget_mode: str = Field("working_days", description="working_days / share")
    steps: list[StepIn]


class StepOut(Schema):
    key: str
    name: str
    role: str
    department: str
    budget_working_days: str
    actions: list[str]
    next: list[str]
    join: bool
    return_to: list[str]
    decides: bool


class WorkflowOut(Schema):
    id: int
    item: str | None
    item_name: str | None
    commitment: str
    version: int
    name: str
    is_active: bool
    created_at: dt.datetime
    created_by: str | None
    start: str
    budget_mode: str
    steps: list[StepOut]

    @staticmethod
    def build(w: WorkflowDefinition) -> WorkflowOut:
        definition = Definition.from_dict(w.definition)
        return WorkflowOut(
            id=w.pk, item=w.item.implementation_code if w.item else None,
            item_name=w.item.current.name if w.item and w.item.current else None,
            commitment=w.commitment, version=w.version, name=w.name, is_active=w.is_active,
            created_at=local(w.created_at), created_by=w.created_by.username if w.created_by else None,
            start=definition.start, budget_mode=definition.budget_mode,
            steps=[StepOut(**s.as_dict()) for s in definition.steps])


class WorkflowQuery(Schema):
    item: str = Field("", description="实施编码 of the item")
    commitment: str = Field("", description="List defaults of this commitment category")
    active: bool = Field(False, description="Only the versions in force")


@router.get("/workflows", response={200: list[WorkflowOut], 403: ErrorOut},
            summary="Saved workflow versions (staff)")
def list_workflows(request: HttpRequest, query: Query[WorkflowQuery]) -> Any:
    workflows = selectors.workflow_list(request.user, item=query.item, commitment=query.commitment,
                                        active_only=query.active)
    return [WorkflowOut.build(w) for w in workflows.select_related("item__current")]


@router.post("/workflows", response={201: WorkflowOut, 403: ErrorOut, 422: ProblemsOut},
             summary="Save a new workflow version (bureau)")
def save_workflow(request: HttpRequest, payload: WorkflowIn) -> Any:
    """Validated before saving: every step reachable and reaching the end, returns only to
    earlier steps, exactly one deciding step that only the end follows and that every path
    meets, parallel branches joined where they meet, budgets finite and bounded (0–365 working
    days, or a share of 0–1, at most 4 decimal places) and within the committed limit. Cases
    keep the version they started under."""
    item = None
    if payload.item:
        item = Item.objects.select_related("current").filter(
            implementation_code=payload.item.strip()).first()
        if item is None:
            raise RuleViolation([Problem("item", _("没有实施编码为“%(code)s”的事项") % {
                "code": payload.item})])
    definition = {"start": payload.start, "budget_mode": payload.budget_mode,
                  "steps": [s.model_dump() for s in payload.steps]}
    saved = services.workflow_save(actor=request.user, definition=definition, name=payload.name,
                                   item=item, commitment=payload.commitment)
    return Status(201, WorkflowOut.build(saved))


@router.get("/workflows/{workflow_id}", response={200: WorkflowOut, 403: ErrorOut, 404: ErrorOut},
            summary="One workflow version")
def get_workflow(request: HttpRequest, workflow_id: int) -> Any:
    workflow = selectors.workflow_get(request.user, workflow_id)
    if workflow is None:
        raise HttpError(404, _("办理流程不存在"))
    return WorkflowOut.build(workflow)

