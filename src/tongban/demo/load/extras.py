"""What a case's events leave besides the history: audit records, notices, the applicant's
notifications; and, after the case, its rating (with a rectification ticket when bad) and the
supervision record of a case that went past its due instant."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from tongban.cases.notifications.services import APPLICANT_EVENTS

if TYPE_CHECKING:
    from .history import Context, Life

DAY = dt.timedelta(days=1)
ONLINE_KEYS: tuple[str, ...] = ("efficiency", "guide_accuracy", "convenience", "usability")
ON_SITE_KEYS: tuple[str, ...] = ("service_efficiency", "service_level", "service_attitude")


def write_later(ctx: Context, life: Life, entry: tuple[Any, ...]) -> None:
    kind = entry[0]
    if kind == "audit":
        _kind, at, actor, name, action, before, to, seq = entry
        ctx.chain.append(at=at, actor_id=actor, actor_name=name, action=f"case.{action}",
                         object_type="case", object_id=life.number,
                         detail={"from": before, "to": to, "event": seq})
    elif kind == "notice":
        _kind, notice_kind, prefix, at, actor, resolved = entry
        body = {"item": life.item.name, "number": life.number}
        ctx.writer.add(ctx.tables.notice, (
            ctx.ids.notice, life.case_id, notice_kind, f"{prefix}{life.number}-1", at, actor,
            json.dumps(body, ensure_ascii=False), resolved))
        ctx.ids.notice += 1
    elif kind == "notify":
        _kind, at, action, event_id = entry
        subject = APPLICANT_EVENTS[action]
        text = f"{subject}。办件编号：{life.number}，事项：{life.item.name}。"
        old = at < ctx.now - 7 * DAY
        read = at + dt.timedelta(hours=ctx.rng.uniform(0.2, 60)) \
            if old or ctx.rng.random() < 0.4 else None
        if read is not None and read > ctx.now:
            read = None
        ctx.writer.add(ctx.tables.notification, (
            ctx.ids.notification, life.applicant.user_id, "case", f"event:{event_id}",
            life.case_id, event_id, subject, text, at, read))
        ctx.ids.notification += 1


def rate(ctx: Context, life: Life, visit_id: int | None, officer: int) -> None:
    """Most delivered cases are rated (online by the account, on site at the window)."""
    rng = ctx.rng
    if life.delivered_at is None or rng.random() > 0.55:
        return
    at = life.delivered_at + dt.timedelta(hours=rng.uniform(0.1, 72))
    if at > ctx.now:
        return
    if visit_id is not None and (life.applicant.user_id is None or rng.random() < 0.5):
        channel, keys = "on_site", ON_SITE_KEYS
    elif life.applicant.user_id is not None:
        channel, keys, visit_id = "online", ONLINE_KEYS, None
    else:
        return
    from .history import LEVEL_WEIGHTS, LEVELS

    level = rng.choices(LEVELS, LEVEL_WEIGHTS)[0]
    indicators = {k: max(1, min(5, level + rng.choice((-1, 0, 0, 0, 1)))) for k in keys}
    bad = level <= 2
    text = rng.choice(["等待时间太长", "材料要求说明不清楚", "多次跑动"]) if bad \
        else rng.choice(["", "", "办事效率高", "服务热情"])
    rating_id = ctx.ids.rating
    ctx.ids.rating += 1
    handler = life.handler or officer
    ctx.writer.add(ctx.tables.rating, (
        rating_id, channel, life.case_id, visit_id, life.item.item_id, life.item.department_id,
        handler, life.applicant.user_id, life.applicant.name, level,
        json.dumps(indicators), text, at))
    codes: list[str] = []
    if bad and ctx.bad_tags:
        tag_id, code = rng.choice(ctx.bad_tags)
        codes.append(code)
        ctx.writer.add(ctx.tables.rating_tag, (ctx.ids.rating_tag, rating_id, tag_id))
        ctx.ids.rating_tag += 1
    rater = life.applicant.user_id if channel == "online" else None
    ctx.chain.append(at=at, actor_id=rater, actor_name=life.applicant.name,
                     action="rating.submitted", object_type="rating", object_id=str(rating_id),
                     detail={"case": life.number, "channel": channel, "level": level,
                             "visit": visit_id, "rater": life.applicant.user_id, "tags": codes,
                             "on_staff_device": False})
    ctx.stats["ratings"] = ctx.stats.get("ratings", 0) + 1
    if bad:
        _ticket(ctx, life, rating_id, at, handler)


def _ticket(ctx: Context, life: Life, rating_id: int, at: dt.datetime, handler: int) -> None:
    rng = ctx.rng
    due = at + 7 * DAY
    ticket_id = ctx.ids.ticket
    ctx.ids.ticket += 1
    department = life.item.department_id
    head_user = ctx.staff.head(rng, department)
    row: tuple[Any, ...]
    if at < ctx.now - 14 * DAY:  # long since dealt with
        responded = at + dt.timedelta(days=rng.uniform(0.5, 4))
        callback = responded + dt.timedelta(days=rng.uniform(0.5, 2))
        closed = callback + dt.timedelta(days=rng.uniform(0.1, 2))
        row = (ticket_id, rating_id, department, handler, "closed", at, due, responded > due,
               "fix_now", "已当面致歉并改进服务流程", responded, head_user, callback, head_user,
               True, "评价人表示认可", True, closed, "rectified", closed)
    else:
        row = (ticket_id, rating_id, department, handler, "open", at, due, ctx.now > due, "",
               "", None, None, None, None, None, "", None, None, "", None)
    ctx.writer.add(ctx.tables.ticket, row)
    ctx.chain.append(at=at, actor_id=None, actor_name="", action="rating_ticket.opened",
                     object_type="rating_ticket", object_id=str(ticket_id),
                     detail={"rating": rating_id, "due": due.isoformat(),
                             "department": department})
    ctx.stats["tickets"] = ctx.stats.get("tickets", 0) + 1


def supervise(ctx: Context, life: Life, deadline: str, officer: int) -> None:
    """The record the deadline sweep opens for a case that went red (or yellow, still open)."""
    if deadline == "green" or life.due_at is None or life.accepted_at is None:
        return
    rng = ctx.rng
    if deadline == "red":
        kind, opened, detail = "red_case", life.due_at, "办件超过承诺办结时限"
    else:
        opened = life.due_at - (life.due_at - life.accepted_at) * 0.2
        kind, detail = "yellow_case", "办件临近承诺办结时限"
    if opened > ctx.now:
        return
    head_user = ctx.staff.head(rng, life.item.department_id)
    row: tuple[Any, ...]
    if life.decided_at is not None and life.decided_at + DAY < ctx.now:
        done = life.decided_at + DAY
        row = (ctx.ids.supervision, kind, life.case_id, None, life.item.department_id, officer,
               detail, "{}", opened, "电子监察", "closed", opened + 0.2 * DAY, officer,
               "案情复杂，已加快办理", opened + 0.5 * DAY, officer, "已办结，予以关注", done,
               head_user)
    else:
        acknowledged = rng.random() < 0.5
        row = (ctx.ids.supervision, kind, life.case_id, None, life.item.department_id, officer,
               detail, "{}", opened, "电子监察", "acknowledged" if acknowledged else "open",
               opened + 0.2 * DAY if acknowledged else None, officer if acknowledged else None,
               "", None, None, "", None, None)
    ctx.writer.add(ctx.tables.supervision, row)
    ctx.ids.supervision += 1
    ctx.stats["supervision"] = ctx.stats.get("supervision", 0) + 1
