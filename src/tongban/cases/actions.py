"""What an actor may do next on a case: the transition table (``services.TRANSITIONS``) read
together with who may do what (``policies``) and the open steps of the workflow.

Pages show their buttons and forms from :func:`available_actions`, and the API returns it with
the case, so no page or client repeats a status or role rule. The services check everything
again when the action is taken: an action listed here may still be refused for the data sent
with it (a reason missing, a material not supplied) or because someone acted first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tongban.cases.workflows.models import StepTask, TaskStatus
from tongban.cases.workflows.services import can_work_on, definition_of

from . import policies
from .models import Case, Extension
from .services import ACTION_LABELS, TRANSITIONS

# Taken only by the deadline sweep (行政许可法 Art. 32), never offered to a person.
SYSTEM_ONLY = frozenset({"accept_by_law"})
# Taken on an open step of the workflow; the step's own ``actions`` say which.
STEP_BOUND = {"step": None, "suspend": "suspend", "request_extension": "extend"}
# ``approve`` and ``deny`` decide the case at a deciding step: they are outcomes of ``step``.
STEP_OUTCOMES = frozenset({"approve", "deny"})
# A step's operations and the action each one is; the others (approve, forward, complete,
# deny, return) are ``step``.
OP_ACTIONS = {"supplement": "request_supplement", "suspend": "suspend",
              "extend": "request_extension"}

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor


@dataclass(frozen=True)
class Action:
    """One action an actor may take now: a transition of ``TRANSITIONS`` (``code``) with its
    label; for an action on an open step, the step task and the step's operations."""

    code: str
    label: str
    task_id: int | None = None
    ops: tuple[str, ...] = ()


@dataclass(frozen=True)
class Actions:
    """The actions available, in the order of the transition table.

    Iterating gives :class:`Action` objects; in templates ``may.accept`` is true when the
    action is available (an unknown name is an error, not a silent false)."""

    items: tuple[Action, ...] = ()
    codes: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "codes", frozenset(a.code for a in self.items))

    def __iter__(self) -> Iterator[Action]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def __contains__(self, code: object) -> bool:
        return code in self.codes

    def __getitem__(self, code: str) -> bool:
        if code not in TRANSITIONS:
            # LookupError (not KeyError) is not swallowed by the template engine's lookup: a
            # misspelt action name fails the page instead of hiding a button.
            raise LookupError(f"no case action named {code!r}")
        return code in self.codes


def _open_steps(user: Actor, case: Case) -> list[tuple[StepTask, tuple[str, ...]]]:
    """The open steps ``user`` may work on, with the operations each step allows."""
    if case.pk is None or not case.workflow_id:
        return []
    definition = definition_of(case)
    steps = []
    for task in case.tasks.all():
        if task.status != TaskStatus.OPEN or not can_work_on(user, task):
            continue
        try:
            step = definition.step(task.step_key)
        except KeyError:
            continue
        steps.append((task, tuple(step.actions)))
    return steps


def _pending_extension(case: Case) -> bool:
    return any(e.state == Extension.State.REQUESTED for e in case.extensions.all())


def _staff_or_head(user: Actor, case: Case) -> bool:
    return policies.is_department_staff(user, case) or policies.can_terminate(user, case)


# Who may take each action that is not bound to a step (the services' own checks).
WHO: dict[str, Callable[[Any, Case], bool]] = {
    "submit": lambda u, c: policies.is_applicant_side(u, c) or policies.can_receive(u, c),
    "pre_review": policies.can_receive,
    "request_supplement": policies.can_receive,
    "supply": lambda u, c: policies.is_applicant_side(u, c) or policies.can_receive(u, c),
    "accept": policies.can_receive,
    "refuse": policies.can_receive,
    "halt": _staff_or_head,
    "resume": _staff_or_head,
    "extend": lambda u, c: policies.can_approve_extension(u, c) and _pending_extension(c),
    "deliver": policies.can_deliver,
    "withdraw": policies.is_applicant_side,
    "terminate": policies.can_terminate,
    "record_visit": policies.can_record_visit,
    "reopen": policies.can_reopen,
}


def available_actions(actor: Actor, case: Case) -> Actions:
    """The actions ``actor`` may take on ``case`` now: those the transition table allows from
    the case's status and the policies allow this actor. Step-bound actions (``step``,
    ``suspend``, ``request_extension``) come once per open step the actor may work on whose
    operations allow them; a one-time supplement notice after acceptance may also come from
    such a step."""
    if policies._role(actor) is None:
        return Actions()
    steps: list[tuple[StepTask, tuple[str, ...]]] | None = None
    found: list[Action] = []
    for code, (sources, _target) in TRANSITIONS.items():
        if code in SYSTEM_ONLY or code in STEP_OUTCOMES or case.status not in sources:
            continue
        label = str(ACTION_LABELS.get(code, code))
        if code in STEP_BOUND:
            steps = _open_steps(actor, case) if steps is None else steps
            op = STEP_BOUND[code]
            if code == "request_extension" and _pending_extension(case):
                continue
            found.extend(Action(code=code, label=label, task_id=task.pk, ops=ops)
                         for task, ops in steps if op is None or op in ops)
            continue
        allowed = WHO[code](actor, case)
        if not allowed and code == "request_supplement":
            steps = _open_steps(actor, case) if steps is None else steps
            task = next((t for t, ops in steps if "supplement" in ops), None)
            if task is not None:
                found.append(Action(code=code, label=label, task_id=task.pk))
            continue
        if allowed:
            found.append(Action(code=code, label=label))
    return Actions(tuple(found))


def step_operations(may: Actions, task_id: int, ops: Sequence[str]) -> tuple[str, ...]:
    """The operations of an open step (``ops``, the workflow's) that ``may`` allows now: none
    while the case is halted, only an extension during a special procedure, no second
    extension request while one waits for the head."""

    def allowed(op: str) -> bool:
        code = OP_ACTIONS.get(op, "step")
        if code == "request_supplement":  # the step's, or the receiving department's own
            return code in may
        return any(a.code == code and a.task_id == task_id for a in may)

    return tuple(op for op in ops if allowed(op))
