"""Workflow definitions as data, and their validation (pure; no database).

A definition is a set of steps. Each step names who handles it (a department — the item's own
``"@item"``, the receiving unit ``"@receiving_unit"`` or a department's USCC — and a role), its
own time budget in working days, the actions allowed there, and the steps that follow. A step
with several next steps forks them in parallel; a step whose ``join`` is true waits until every
step leading into it has finished (并联审批). ``"end"`` ends the workflow. ``return`` sends the
case back to an earlier step listed in ``return_to``.

Every step runs in every case (there is no either-or choice: several next steps all run), so the
shape of a definition decides whether its cases can end well. :func:`check_definition` proves it
before a save: next steps never loop back, exactly one step decides and only it leads to the end
(so every path from the start meets the decision, and nothing runs after it), and a step where
parallel branches meet waits for all of them (``join``), so that the deciding step is the only
step open when it decides. :func:`steps_to_open` is the runtime's rule for what opens next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from tongban.accounts.models import Role
from tongban.core.errors import Problem

END = "end"
ITEM_DEPARTMENT = "@item"
RECEIVING_UNIT = "@receiving_unit"
ACTIONS = ("approve", "deny", "forward", "return", "supplement", "suspend", "extend", "complete")
ROLES = (Role.CLERK, Role.OFFICER, Role.HEAD, Role.PROXY_AGENT)

# Bounds on the numbers a definition carries (docs/cases.md, "Workflows as data").
MAX_STEPS = 50
MAX_BUDGET_WORKING_DAYS = Decimal(365)  # a step's own budget in working days
MAX_BUDGET_SHARE = Decimal(1)  # a step's share of the committed limit
BUDGET_DECIMAL_PLACES = 4


def _decimal(value: Any) -> Decimal:
    """A budget as written; anything that is not a number becomes NaN (refused by the check)."""
    if isinstance(value, bool):
        return Decimal("NaN")
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal("NaN")


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
            budget_working_days=_decimal(data.get("budget_working_days", 0)),
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
    if len(definition.steps) > MAX_STEPS:
        add("steps", _("流程至多%(n)s个环节") % {"n": MAX_STEPS})
        return problems
    share = definition.budget_mode == BUDGET_SHARE
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
        budget = step.budget_working_days
        if not budget.is_finite():
            add(f"{where}.budget_working_days", _("环节时限须为数字"))
        elif budget < 0:
            add(f"{where}.budget_working_days", _("环节时限不能为负"))
        elif share and budget > MAX_BUDGET_SHARE:
            add(f"{where}.budget_working_days", _("按比例分配时，环节时限须在0至1之间"))
        elif not share and budget > MAX_BUDGET_WORKING_DAYS:
            add(f"{where}.budget_working_days", _("环节时限须在0至%(max)s个工作日之间") % {
                "max": MAX_BUDGET_WORKING_DAYS})
        elif budget != budget.quantize(Decimal(1).scaleb(-BUDGET_DECIMAL_PLACES)):
            add(f"{where}.budget_working_days", _("环节时限至多保留%(n)s位小数") % {
                "n": BUDGET_DECIMAL_PLACES})
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
    if problems:
        return problems
    _check_shape(definition, add)
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


def _check_shape(definition: Definition, add: Any) -> None:
    """The rules that make every case end in one decision (all steps exist, are reachable from
    the start and reach the end when this runs)."""
    index = {s.key: i for i, s in enumerate(definition.steps)}
    # Next steps must not loop back: going back is what return_to is for.
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def loops(key: str) -> str | None:
        state[key] = 1
        for target in definition.step(key).next:
            if target == END or state.get(target) == 2:
                continue
            if state.get(target) == 1:
                return target
            found = loops(target)
            if found is not None:
                return found
        state[key] = 2
        return None

    looped = loops(definition.start)
    if looped is not None:
        add(f"steps[{index[looped]}].next", _(
            "后续环节形成回路，又回到环节“%(key)s”；退回请用“退回”（return_to）") % {"key": looped})
        return
    deciding = [s for s in definition.steps if s.decides]
    if not deciding:
        add("steps", _("流程中须有一个作出决定的环节"))
        return
    if len(deciding) > 1:
        add("steps", _("流程只能有一个作出决定的环节，现有：%(keys)s") % {
            "keys": pgettext("list separator", "、").join(s.key for s in deciding)})
        return
    decide = deciding[0]
    for i, step in enumerate(definition.steps):
        if step is decide:
            if any(n != END for n in step.next):
                add(f"steps[{i}].next", _("决定环节“%(key)s”之后只能是办结（end）") % {
                    "key": step.key})
        elif END in step.next:
            add(f"steps[{i}].next", _(
                "环节“%(key)s”直接进入办结，没有经过决定环节“%(decide)s”") % {
                "key": step.key, "decide": decide.key})
    for i, step in enumerate(definition.steps):
        before = definition.predecessors(step.key)
        if len(before) > 1 and not step.join:
            add(f"steps[{i}].join", _(
                "并行分支（%(before)s）在环节“%(key)s”汇合，它须等待所有分支完成（join）") % {
                "before": pgettext("list separator", "、").join(before), "key": step.key})


def steps_to_open(definition: Definition, finished: str, open_keys: set[str]) -> list[str]:
    """The steps to open when ``finished`` is done while ``open_keys`` are still open.

    A joining step waits while a step still open — or one opening now — can lead to it (a
    branch of several steps has not arrived until its last step is done); a step already open
    is not opened twice.
    """
    targets = list(dict.fromkeys(n for n in definition.step(finished).next if n != END))
    current = set(open_keys)
    opened: list[str] = []
    for key in targets:
        if key in current:
            continue
        if definition.step(key).join:
            others = current | {t for t in targets if t != key}
            if any(leads_to(definition, k, key) for k in others):
                continue
        opened.append(key)
        current.add(key)
    return opened


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
