"""One generated case and its history, as the case services would have written it.

Each case gets a planned life (its *fate*: delivered, refused, withdrawn, terminated, slow...)
from its submission on; what lies after "now" is cut off, so the newest cases are naturally
still in handling, and a slow case whose due instant has passed is overdue (red). Every kept
event appends its history row, its audit record (chained), the notice the transition issues,
the applicant's notification, and the step tasks of the workflow; delivered cases may be rated
(bad ratings open a rectification ticket), late ones get the supervision record the sweep
would have opened.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from tongban.accounts.models import Role
from tongban.cases.models import Channel, Delivery, Status
from tongban.cases.notifications.services import APPLICANT_EVENTS
from tongban.catalog.models import Commitment

from .chain import Chain
from .tables import Tables
from .world import Applicant, ItemInfo, Staff
from .writer import Writer

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
S = Status
WORK_DAY = 7 / 5  # calendar days per working day (the real clock skips holidays as well)
OPEN_STATES = {S.SUBMITTED, S.PRE_REVIEW, S.SUPPLEMENT, S.ACCEPTED, S.SUSPENDED, S.HALTED,
               S.APPROVED, S.DENIED}
BAD_TEXTS = ["等待时间太长", "材料要求说明不清楚", "工作人员态度一般", "多次跑动"]
GOOD_TEXTS = ["", "", "办事效率高", "服务热情", "很方便"]
# Level 5 … 1, most people satisfied (as the national statistics show).
LEVELS = [5, 4, 3, 2, 1]
LEVEL_WEIGHTS = [70, 18, 7, 3, 2]


@dataclass
class Ids:
    """The next primary key of every table written per case."""

    case: int
    event: int
    material: int
    notice: int
    task: int
    visit: int
    rating: int
    rating_tag: int
    ticket: int
    supervision: int
    notification: int


@dataclass
class Context:
    rng: random.Random
    now: dt.datetime
    tables: Tables
    writer: Writer
    chain: Chain
    ids: Ids
    staff: Staff
    counters: dict[tuple[dt.date, str], int]
    bad_tags: list[tuple[int, str]]
    halls: list[tuple[int, str]]
    stats: dict[str, int] = field(default_factory=dict)


@dataclass
class Life:
    """The case being written."""

    case_id: int
    number: str
    item: ItemInfo
    applicant: Applicant
    channel: str
    hall_id: int | None
    status: str = S.SUBMITTED
    events: int = 0
    accepted_at: dt.datetime | None = None
    due_at: dt.datetime | None = None
    decided_at: dt.datetime | None = None
    delivered_at: dt.datetime | None = None
    decision_reason: str = ""
    closed_reason: str = ""
    delivery: str = ""
    visits: int = 0
    last_at: dt.datetime | None = None
    handler: int | None = None


def _number(ctx: Context, item: ItemInfo, at: dt.datetime) -> str:
    day = at.astimezone(SHANGHAI).date()
    key = (day, item.division_code)
    value = ctx.counters.get(key, 0) + 1
    ctx.counters[key] = value
    return f"{item.division_code}{day:%Y%m%d}{value:06d}"


def working(at: dt.datetime, rng: random.Random) -> dt.datetime:
    """``at`` moved into office hours (Shanghai) on a weekday."""
    local = at.astimezone(SHANGHAI)
    while local.weekday() >= 5:
        local += DAY
    minutes = rng.randrange(9 * 60, 17 * 60 + 30)
    local = local.replace(hour=minutes // 60, minute=minutes % 60, second=rng.randrange(60),
                          microsecond=rng.randrange(1_000_000))
    return local.astimezone(dt.UTC)


def _after(at: dt.datetime, rng: random.Random, low: float, high: float) -> dt.datetime:
    """A working moment ``low``–``high`` calendar days after ``at``."""
    if high <= 0.01:
        return at + dt.timedelta(minutes=rng.randrange(3, 40))
    later = at + dt.timedelta(days=rng.uniform(low, high))
    return max(working(later, rng), at + dt.timedelta(minutes=5))


def write_case(ctx: Context, *, item: ItemInfo, applicant: Applicant, submitted: dt.datetime) -> None:
    """Plan one case's life from ``submitted`` and write what happened before now."""
    rng = ctx.rng
    roll = rng.random()
    if item.commitment == Commitment.PROXY or roll < 0.08:
        channel = Channel.WINDOW if applicant.user_id is None or rng.random() < .5 else Channel.ONLINE
    else:
        channel = Channel.ONLINE if applicant.user_id is not None and rng.random() < 0.62 \
            else Channel.WINDOW
    hall_id = None
    if channel == Channel.WINDOW:
        local = [h for h, code in ctx.halls if code == item.division_code]
        hall_id = rng.choice(local or [h for h, _code in ctx.halls])
    life = Life(case_id=ctx.ids.case, number=_number(ctx, item, submitted), item=item,
                applicant=applicant, channel=channel, hall_id=hall_id)
    ctx.ids.case += 1
    clerk = rng.choice(ctx.staff.clerks)
    submitter = applicant.user_id if channel == Channel.ONLINE else clerk
    events: list[tuple[Any, ...]] = []  # written after the case row (they refer to it)
    later: list[Any] = []

    def event(action: str, at: dt.datetime, actor: int | None, to: str | None = None,
              reason: str = "", data: dict[str, Any] | None = None) -> bool:
        if at > ctx.now:
            return False
        before = life.status
        life.status = to or before
        life.events += 1
        life.last_at = at
        event_id = ctx.ids.event
        ctx.ids.event += 1
        name = ctx.staff.names.get(actor, applicant.name) if actor else ""
        events.append((event_id, life.case_id, life.events, at, actor, name, action, before,
                       life.status, reason, json.dumps(data, ensure_ascii=False) if data else "{}"))
        later.append(("audit", at, actor, name, action, before, life.status, life.events))
        if action in APPLICANT_EVENTS and applicant.user_id is not None:
            later.append(("notify", at, action, event_id))
        return True

    # --- submission, supplement, acceptance or its refusal --------------------------------
    if not event("submit", submitted, submitter, S.SUBMITTED):
        return
    life.visits = 1 if channel == Channel.WINDOW else 0
    fate = rng.random()
    at = submitted
    officer = ctx.staff.officer(rng, item.department_id)
    head_user = ctx.staff.head(rng, item.department_id)
    if fate < 0.03:  # withdrawn before acceptance
        at = _after(at, rng, 0.2, 6)
        if event("withdraw", at, submitter, S.WITHDRAWN, reason="申请人主动撤回"):
            life.closed_reason = "申请人主动撤回"
        return _finish(ctx, life, events, later, officer, head_user, clerk)
    if fate < 0.07:  # refused
        at = _after(at, rng, 0.1, 4)
        reason = "申请事项不属于本机关职权范围" if rng.random() < .5 else "申请材料不符合法定形式"
        if event("refuse", at, officer, S.REFUSED, reason=reason):
            life.closed_reason = reason
            life.decided_at = at
            later.append(("notice", "refusal", "BY", at, officer, None))
        return _finish(ctx, life, events, later, officer, head_user, clerk)
    if fate < 0.16:  # one-time notice of what to supplement, then supplied
        at = _after(at, rng, 0.1, 2)
        if event("request_supplement", at, officer, S.SUPPLEMENT, reason="请补充材料原件扫描件"):
            asked = at
            at = _after(at, rng, 0.5, 9)
            resolved = at if at <= ctx.now else None
            later.append(("notice", "supplement", "BZ", asked, officer, resolved))
            event("supply", at, applicant.user_id or clerk, S.SUBMITTED)
    if life.status != S.SUBMITTED:
        return _finish(ctx, life, events, later, officer, head_user, clerk)
    immediate = channel == Channel.WINDOW or item.commitment == Commitment.ON_THE_SPOT
    at = _after(at, rng, 0, 0) if immediate else _after(at, rng, 0.2, 2.5)
    if not event("accept", at, clerk if immediate else officer, S.ACCEPTED):
        return _finish(ctx, life, events, later, officer, head_user, clerk)
    life.accepted_at = at
    later.append(("notice", "acceptance", "SL", at, clerk if immediate else officer, None))
    if item.commitment in (Commitment.ON_THE_SPOT, Commitment.SAME_DAY):
        life.due_at = at + 8 * HOUR
    else:
        life.due_at = at + dt.timedelta(days=item.limit_days * WORK_DAY)
    span = (life.due_at - at).total_seconds() / 86400
    if fate < 0.08:  # terminated after acceptance
        at = _after(at, rng, 0.2, max(span, 0.5))
        if event("terminate", at, head_user, S.TERMINATED, reason="申请人死亡或者依法终止"):
            life.closed_reason = "申请人死亡或者依法终止"
        assert life.accepted_at is not None
        _tasks(ctx, life, life.accepted_at, officer, head_user, clerk,
               times=[(life.accepted_at, None, officer)], cancelled=life.status == S.TERMINATED)
        return _finish(ctx, life, events, later, officer, head_user, clerk)

    # --- the workflow's steps, the decision, delivery ----------------------------------------
    slow = fate > 0.955  # decided late, or not yet: these cases go red
    share = [rng.uniform(0.15, 0.8) for _s in item.steps] or [0.5]
    total = sum(share)
    budget = span * (rng.uniform(1.2, 3.0) if slow else rng.uniform(0.3, 0.95))
    deny = fate > 0.92 and not slow
    step_times: list[tuple[dt.datetime, dt.datetime | None, int]] = []
    opened = at
    for index, step in enumerate(item.steps):
        finish = _after(opened, rng, 0, budget * share[index] / total) if budget > 0.05 \
            else opened + dt.timedelta(minutes=rng.randrange(5, 60))
        actor = _step_actor(ctx, rng, step.role, step.department_id, officer, head_user, clerk)
        last = index == len(item.steps) - 1
        if finish > ctx.now:
            step_times.append((opened, None, actor))
            break
        if last:
            action = "deny" if deny else "approve"
            reason = "申请人不符合法定条件" if deny else ""
            event(action, finish, actor, S.DENIED if deny else S.APPROVED, reason=reason,
                  data={"step": step.key})
            life.decided_at = finish
            life.decision_reason = reason
            life.handler = actor
            later.append(("notice", "decision", "JD", finish, actor, None))
        else:
            event("step", finish, actor, data={"step": step.key, "outcome": "approve"})
        step_times.append((opened, finish, actor))
        opened = finish
    _tasks(ctx, life, at, officer, head_user, clerk, times=step_times)
    if life.decided_at is not None:
        delivered = _after(life.decided_at, rng, 0, 0 if immediate else 2)
        life.delivery = Delivery.PICKUP if channel == Channel.WINDOW else Delivery.ONLINE
        if event("deliver", delivered, clerk if immediate else officer, S.DELIVERED):
            life.delivered_at = delivered
            if channel == Channel.WINDOW and life.delivery == Delivery.PICKUP and not immediate:
                life.visits += 1
    _finish(ctx, life, events, later, officer, head_user, clerk)


def _step_actor(ctx: Context, rng: random.Random, role: str, department_id: int, officer: int,
                head_user: int, clerk: int) -> int:
    if role == Role.HEAD:
        return ctx.staff.head(rng, department_id) if department_id in ctx.staff.heads else head_user
    if role == Role.CLERK:
        return clerk
    if role == Role.PROXY_AGENT:
        return rng.choice(ctx.staff.proxies)
    return ctx.staff.officer(rng, department_id) if department_id in ctx.staff.officers else officer


def _tasks(ctx: Context, life: Life, accepted: dt.datetime, officer: int, head_user: int,
           clerk: int, *, times: list[tuple[dt.datetime, dt.datetime | None, int]] | None = None,
           cancelled: bool = False) -> None:
    """The step tasks: done ones, the open one of a case in handling (half of them claimed)."""
    item = life.item
    steps = item.steps
    times = (times or [])[:len(steps)]
    span = (life.due_at - accepted) if life.due_at else DAY
    for index, (opened, finished, actor) in enumerate(times):
        step = steps[index]
        due = opened + span / max(len(steps), 1)
        if cancelled:
            status, outcome, assignee, done_by = "cancelled", "", None, None
            finished = life.last_at
        elif finished is None:
            status, outcome = "open", ""
            assignee = actor if ctx.rng.random() < 0.5 else None
            done_by = None
        else:
            status, assignee, done_by = "done", actor, actor
            outcome = ("deny" if life.status in (S.DENIED, S.DELIVERED) and life.decision_reason
                       else "approve")
        late = finished is not None and finished > due
        state = "red" if (late or (finished is None and ctx.now > due)) else "green"
        ctx.writer.add(ctx.tables.task, (
            ctx.ids.task, life.case_id, step.key, step.name, step.department_id, step.role,
            assignee, status, opened, due, finished, outcome, done_by, state, late))
        ctx.ids.task += 1


def _finish(ctx: Context, life: Life, events: list[tuple[Any, ...]], later: list[Any],
            officer: int, head_user: int, clerk: int) -> None:
    """Write the case row, then its events and everything that refers to them."""
    from . import extras

    rng, item, applicant = ctx.rng, life.item, life.applicant
    now = ctx.now
    if life.status in OPEN_STATES and life.due_at is not None:
        left = (life.due_at - now).total_seconds()
        whole = max((life.due_at - (life.accepted_at or now)).total_seconds(), 3600)
        deadline = "red" if left < 0 else ("yellow" if left < whole * 0.2 else "green")
    elif life.decided_at is not None and life.due_at is not None and life.decided_at > life.due_at:
        deadline = "red"
    else:
        deadline = "green"
    submitted = events[0][3]
    agent_name = ""
    authorization = ""
    if item.commitment == Commitment.PROXY and life.channel == Channel.WINDOW:
        agent_name = ctx.staff.names.get(rng.choice(ctx.staff.proxies), "")
        authorization = "代办员受申请人委托代为提交"
    ctx.writer.add(ctx.tables.case, (
        life.case_id, life.number, item.item_id, item.version_id, item.workflow_id,
        item.department_id, item.receiving_unit_id, life.hall_id, life.channel, life.status,
        life.events, life.events, applicant.user_id, applicant.kind, applicant.name,
        applicant.id_cipher, applicant.phone_cipher, None, agent_name, authorization,
        applicant.form_json, submitted, submitted, life.accepted_at, life.due_at,
        life.decided_at, life.decision_reason,
        item.result_name if life.decided_at and not life.decision_reason else "",
        life.delivered_at, life.delivery if life.delivered_at else "", life.closed_reason,
        life.visits, deadline))
    ctx.stats[life.status] = ctx.stats.get(life.status, 0) + 1
    for row in events:
        ctx.writer.add(ctx.tables.event, row)
    uploader = applicant.user_id if life.channel == Channel.ONLINE else clerk
    for material_id, name in item.materials:
        ctx.writer.add(ctx.tables.material, (ctx.ids.material, life.case_id, material_id, name,
                                             uploader, submitted,
                                             life.channel == Channel.WINDOW))
        ctx.ids.material += 1
    visit_id = None
    if life.channel == Channel.WINDOW:
        visit_id = ctx.ids.visit
        ctx.writer.add(ctx.tables.visit, (visit_id, life.case_id, submitted, life.hall_id,
                                          "提交申请", clerk))
        ctx.ids.visit += 1
    for entry in later:
        extras.write_later(ctx, life, entry)
    extras.rate(ctx, life, visit_id, officer)
    extras.supervise(ctx, life, deadline, officer)
