"""Workflow definitions as data, and their validation (pure; no database).

A definition is a set of steps. Each step names who handles it (a department — the item's own
``"@item"``, the receiving unit ``"@receiving_unit"`` or a department's USCC — and a role), its
own time budget in working days, the actions allowed there, and the steps that follow. A step
with several next steps forks them in parallel; a step whose ``join`` is true waits until every
step leading into it has finished (并联审批). ``"end"`` ends the workflow. ``return`` sends the
case back to an earlier step listed in ``return_to``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from tongban.core.errors import Problem

END = "end"
ITEM_DEPARTMENT = "@item"
RECEIVING_UNIT = "@receiving_unit"
ACTIONS = ("approve", "deny", "forward", "return", "supplement", "suspend", "extend", "complete")
ROLES = ("clerk", "officer", "head", "proxy_agent")


@dataclass(frozen=True)
class Step:
    key: str
    name: str
    role: str
    department: str = ITEM_DEPARTMENT
    budget_working_days: Decimal = Decimal(0)
    actions: tuple[str, ...] = ("approve",)
    next: tuple[str, ...] = (END,)
    join: bool = False
    return_to: tuple[str, ...] = ()
    decides: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Step:
        return cls(
            key=str(data.get("key", "")), name=str(data.get("name", "")),
            role=str(data.get("role", "")), department=str(data.get("department", ITEM_DEPARTMENT)),
            budget_working_days=Decimal(str(data.get("budget_working_days", 0))),
            actions=tuple(data.get("actions", ("approve",))), next=tuple(data.get("next", (END,))),
            join=bool(data.get("join", False)), return_to=tuple(data.get("return_to", ())),
            decides=bool(data.get("decides", False)),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "name": self.name, "role": self.role, "department": self.department,
            "budget_working_days": str(self.budget_working_days), "actions": list(self.actions),
            "next": list(self.next), "join": self.join, "return_to": list(self.return_to),
            "decides": self.decides,
        }


BUDGET_WORKING_DAYS = "working_days"
# Budgets as shares of the item's committed limit: used by the per-list defaults, which must
# fit every item of their list.
BUDGET_SHARE = "share"


@dataclass(frozen=True)
class Definition:
    start: str
    steps: tuple[Step, ...] = field(default_factory=tuple)
    budget_mode: str = BUDGET_WORKING_DAYS

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Definition:
        return cls(start=str(data.get("start", "")),
                   steps=tuple(Step.from_dict(s) for s in data.get("steps", [])),
                   budget_mode=str(data.get("budget_mode", BUDGET_WORKING_DAYS)))

    def as_dict(self) -> dict[str, Any]:
        return {"start": self.start, "budget_mode": self.budget_mode,
                "steps": [s.as_dict() for s in self.steps]}

    def budget(self, step: Step, committed_working_days: Decimal) -> Decimal:
        """A step's own time budget in working days for an item with this committed limit."""
        if self.budget_mode == BUDGET_SHARE:
            return step.budget_working_days * committed_working_days
        return step.budget_working_days

    def step(self, key: str) -> Step:
        for s in self.steps:
            if s.key == key:
                return s
        raise KeyError(key)

    def predecessors(self, key: str) -> list[str]:
        return [s.key for s in self.steps if key in s.next]


def longest_budget(definition: Definition) -> Decimal:
    """The largest sum of step budgets along any path from start to end (parallel branches
    run side by side, so the critical path is what must fit in the committed limit)."""
    memo: dict[str, Decimal] = {}

    def visit(key: str, seen: frozenset[str]) -> Decimal:
        if key == END:
            return Decimal(0)
        if key in memo:
            return memo[key]
        step = definition.step(key)
        best = max((visit(n, seen | {key}) for n in step.next if n not in seen), default=Decimal(0))
        memo[key] = step.budget_working_days + best
        return memo[key]

    return visit(definition.start, frozenset())


def check_definition(definition: Definition, *, committed_working_days: Decimal | None) -> list[Problem]:
    """Every rule a workflow definition must satisfy before it is saved."""
    problems: list[Problem] = []

    def add(where: str, message: Any) -> None:
        problems.append(Problem(field=where, message=message))

    keys = [s.key for s in definition.steps]
    if not definition.steps:
        add("steps", _("流程至少要有一个环节"))
        return problems
    if len(set(keys)) != len(keys):
        add("steps", _("环节标识不能重复"))
    if definition.start not in keys:
        add("start", _("起始环节“%(key)s”不存在") % {"key": definition.start})
    for index, step in enumerate(definition.steps):
        where = f"steps[{index}]"
        if not step.key or step.key == END:
            add(f"{where}.key", _("环节标识不能为空，也不能是end"))
        if not step.name.strip():
            add(f"{where}.name", _("环节名称不能为空"))
        if step.role not in ROLES:
            add(f"{where}.role", _("角色须为窗口工作人员、经办人、负责人或代办员"))
        if step.budget_working_days < 0:
            add(f"{where}.budget_working_days", _("环节时限不能为负"))
        unknown = [a for a in step.actions if a not in ACTIONS]
        if unknown or not step.actions:
            add(f"{where}.actions", _("允许的操作无效：%(a)s") % {"a": ", ".join(unknown) or "—"})
        for target in step.next:
            if target != END and target not in keys:
                add(f"{where}.next", _("后续环节“%(key)s”不存在") % {"key": target})
        for target in step.return_to:
            if target not in keys:
                add(f"{where}.return_to", _("退回环节“%(key)s”不存在") % {"key": target})
        if step.return_to and "return" not in step.actions:
            add(f"{where}.actions", _("可退回的环节须允许“退回”操作"))
        if step.decides and not {"approve", "deny"} & set(step.actions):
            add(f"{where}.actions", _("作出决定的环节须允许批准或不予批准"))
    if problems:
        return problems

    # Every step must be reachable from the start and must be able to reach the end.
    reachable: set[str] = set()
    frontier = [definition.start]
    while frontier:
        key = frontier.pop()
        if key in reachable or key == END:
            continue
        reachable.add(key)
        frontier.extend(definition.step(key).next)
    for key in keys:
        if key not in reachable:
            add("steps", _("环节“%(key)s”从起始环节无法到达") % {"key": key})
    reaches_end: set[str] = set()
    changed = True
    while changed:
        changed = False
        for step in definition.steps:
            if step.key not in reaches_end and any(n == END or n in reaches_end for n in step.next):
                reaches_end.add(step.key)
                changed = True
    for key in keys:
        if key not in reaches_end:
            add("steps", _("环节“%(key)s”无法到达办结") % {"key": key})
    # A return may only go back to a step that comes before.
    for step in definition.steps:
        for target in step.return_to:
            if not leads_to(definition, target, step.key):
                add("steps", _("环节“%(key)s”只能退回到它之前的环节") % {"key": step.key})
    if not any(s.decides for s in definition.steps):
        add("steps", _("流程中须有一个作出决定的环节"))
    if problems:
        return problems
    if definition.budget_mode not in (BUDGET_WORKING_DAYS, BUDGET_SHARE):
        add("budget_mode", _("时限方式须为working_days或share"))
    elif definition.budget_mode == BUDGET_SHARE:
        if longest_budget(definition) > 1:
            add("steps", _("按比例分配时，各环节比例之和不能超过1"))
    elif committed_working_days is not None:
        total = longest_budget(definition)
        if total > committed_working_days:
            add("steps", _("各环节时限之和（%(total)s个工作日）超过承诺办结时限（%(limit)s个工作日）") % {
                "total": total, "limit": committed_working_days})
    return problems


def leads_to(definition: Definition, source: str, target: str) -> bool:
    """Whether following next steps from ``source`` can arrive at ``target`` (or it is ``source``)."""
    seen: set[str] = set()
    frontier = [source]
    while frontier:
        key = frontier.pop()
        if key == target:
            return True
        if key in seen or key == END:
            continue
        seen.add(key)
        frontier.extend(definition.step(key).next)
    return False
