"""Handling: acting on the workflow's open steps, and the decision (准予 / 不予)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.cases.workflows import services as workflows
from tongban.cases.workflows.definition import END
from tongban.cases.workflows.models import StepTask
from tongban.core.errors import Problem, RuleViolation

from .. import policies
from ..models import Case, Notice
from .transitions import (
    EventRef,
    _after_commit,
    _check,
    _check_open_task,
    _deny,
    _lock,
    _move,
    _notice,
    _require_reason,
)

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor


@transaction.atomic
def case_step(*, actor: Actor, task: StepTask, action: str, reason: str = "",
              return_to: str = "", expected_version: int | None = None,
              basis: dict[str, Any] | None = None) -> Case:
    """Act on an open step: approve (pass, or decide at a deciding step), forward (代办 centre
    hands over), deny (at a deciding step, with reasons) or return to an earlier step.

    ``basis``: what an automatic decision (秒批) rested on — rule set, version, the conditions
    and whether each held — written into the decision notice as ``automatic``."""
    case = _lock(task.case_id, expected_version)
    _check(case, "step")
    task, others = _check_open_task(actor, case, task, action)
    definition = workflows.definition_of(case)
    step = definition.step(task.step_key)
    at = timezone.now()
    if action == "deny":
        _require_reason(reason)
        if not step.decides:
            raise RuleViolation([Problem("action", _("只有决定环节可以作出不予办理决定"))])
        workflows.task_finish(task, actor=actor, outcome=action, at=at)
        workflows.tasks_cancel(case, at=at)
        event = _decide(case, actor=actor, approve=False, reason=reason, at=at, basis=basis)
    elif action == "return":
        # The step sent back must know why (what to check again): as a denial, a reason.
        _require_reason(reason)
        target = return_to or (step.return_to[0] if step.return_to else "")
        workflows.task_finish(task, actor=actor, outcome=action, at=at)
        workflows.task_return(case, task, to=target, at=at)
        event = _move(case, "step", actor=actor, reason=reason, at=at,
                      data={"step": task.step_key, "action": action, "to": target})
    elif action in ("approve", "forward", "complete"):
        workflows.task_finish(task, actor=actor, outcome=action, at=at)
        opened, ended = workflows.task_open_next(case, task, at=at, others=others)
        data = {"step": task.step_key, "action": action, "late": task.late,
                "opened": [t.step_key for t in opened]}
        if step.decides and END in step.next and ended:
            event = _decide(case, actor=actor, approve=True, reason=reason, at=at, basis=basis)
        else:
            event = _move(case, "step", actor=actor, reason=reason, at=at, data=data)
    else:
        raise RuleViolation([Problem("action", _("请使用对应的补正、特别程序或延期操作"))])
    _after_commit(event)
    return case


def _decide(case: Case, *, actor: Actor, approve: bool, reason: str, at: dt.datetime,
            basis: dict[str, Any] | None = None) -> EventRef:
    case.decided_at = at
    case.decision_reason = reason
    case.result_name = case.item_version.result_name if approve else ""
    body: dict[str, Any] = {"approved": approve, "reason": reason, "result_name": case.result_name}
    if basis:
        body["automatic"] = basis
    _notice(case, Notice.Kind.DECISION, actor=actor, body=body)
    return _move(case, "approve" if approve else "deny", actor=actor, reason=reason, at=at,
                 fields=["decided_at", "decision_reason", "result_name"])


@transaction.atomic
def case_reopen(*, actor: Actor, case: Case | int, reason: str,
                expected_version: int | None = None) -> Case:
    """人工复核 (个人信息保护法 Art. 24): the applicant's side has a decision made automatically
    (秒批) taken again by a human. The case goes back to accepted with the workflow's deciding
    step open; the decision, its result and its delivery are cleared (the history keeps them)."""
    case = _lock(case, expected_version)
    if not policies.can_reopen(actor, case):
        raise _deny()
    _check(case, "reopen")
    _require_reason(reason)
    at = timezone.now()
    before = {"decided_at": case.decided_at.isoformat() if case.decided_at else None,
              "result_name": case.result_name, "delivery": case.delivery}
    case.decided_at, case.decision_reason, case.result_name = None, "", ""
    case.delivered_at, case.delivery = None, ""
    task = workflows.task_reopen_decision(case, at=at)
    event = _move(case, "reopen", actor=actor, reason=reason, at=at,
                  fields=["decided_at", "decision_reason", "result_name", "delivered_at",
                          "delivery"],
                  data={"step": task.step_key, "before": before})
    _after_commit(event)
    return case
