"""Every write to the queue: taking a ticket, calling it, handling it, and the categories.

Each function checks the permission, validates, writes and audits in one transaction.

Concurrency. Two kiosks taking a ticket at once: the number is the category's highest number of
the day plus one, read while holding the category's row lock; a unique constraint (category,
day, seq) backs it up (the loser would retry). Two windows
calling at once: on PostgreSQL the oldest waiting ticket is read ``FOR UPDATE SKIP LOCKED`` (a
racer skips the row the other holds); on every database the ticket is then claimed with
``UPDATE … WHERE status = 'waiting'`` and the claim counts only if it changed one row, so a
ticket is never given to two windows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.audit.services import audit_record
from tongban.core.encrypted import matches
from tongban.core.errors import AccessDenied, Problem, RuleViolation
from tongban.organizations.models import Department, Hall, Window

from . import policies
from .models import OPEN_AT_WINDOW, TRANSITIONS, ServiceCategory, Ticket, TicketStatus

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

SHANGHAI = ZoneInfo("Asia/Shanghai")
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
CODE_RE = re.compile(r"^[A-Z]{1,2}$")
COMMITMENTS = {"on_the_spot", "same_day", "time_limited", "proxy"}
TAKE_ATTEMPTS = 5


def local_day(at: dt.datetime) -> dt.date:
    """The calendar day in Beijing time of an instant (ticket numbers restart each such day)."""
    return at.astimezone(SHANGHAI).date()


def format_number(code: str, seq: int) -> str:
    return f"{code}{seq:03d}"


# --- categories ------------------------------------------------------------------------------

@dataclass
class CategoryFields:
    hall: Hall
    code: str
    name: str
    departments: list[Department] = field(default_factory=list)
    commitments: list[str] = field(default_factory=list)
    active: bool = True
    position: int = 0


def category_check(fields: CategoryFields, *, category: ServiceCategory | None = None) -> list[Problem]:
    problems: list[Problem] = []
    if not CODE_RE.match(fields.code or ""):
        problems.append(Problem("code", _("字母代码应为一到两个大写英文字母，如 A")))
    elif ServiceCategory.objects.filter(hall=fields.hall, code=fields.code).exclude(
            pk=category.pk if category else 0).exists():
        problems.append(Problem("code", _("本大厅已有字母代码为 %(code)s 的类别") % {"code": fields.code}))
    if not (fields.name or "").strip():
        problems.append(Problem("name", _("请填写类别名称")))
    elif len(fields.name) > 50:
        problems.append(Problem("name", _("类别名称不能超过 50 个字")))
    unknown = [c for c in fields.commitments if c not in COMMITMENTS]
    if unknown:
        problems.append(Problem("commitments", _("未知的清单：%(values)s") % {"values": "、".join(unknown)}))
    return problems


def category_save(*, actor: Actor, category: ServiceCategory | None = None,
                  fields: CategoryFields) -> ServiceCategory:
    """Create or change a hall's service category; unchanged values write and record nothing."""
    if not policies.can_manage_categories(actor):
        raise AccessDenied(_("只有政务服务管理局管理员可以维护排队业务类别"))
    problems = category_check(fields, category=category)
    if problems:
        raise RuleViolation(problems)
    values = {"hall": fields.hall, "code": fields.code, "name": fields.name.strip(),
              "commitments": sorted(set(fields.commitments)), "active": fields.active,
              "position": fields.position}
    with transaction.atomic():
        created = category is None
        if category is None:
            category = ServiceCategory.objects.create(**values)
            changed = list(values)
        else:
            changed = [k for k, v in values.items() if getattr(category, k) != v]
            for k in changed:
                setattr(category, k, values[k])
            if changed:
                category.save()
        wanted = {d.pk for d in fields.departments}
        if created or set(category.departments.values_list("pk", flat=True)) != wanted:
            category.departments.set(fields.departments)
            changed.append("departments")
        if changed:
            action = "queue_category.created" if created else "queue_category.changed"
            audit_record(actor=actor, action=action,
                         object_type="queue_category", object_id=category.pk,
                         detail={"hall": fields.hall.pk, "code": category.code, "fields": changed})
    return category


def categories_for_window(window: Window) -> QuerySet[ServiceCategory]:
    """The active categories a window serves (all of its hall's if it is comprehensive)."""
    qs = ServiceCategory.objects.filter(hall_id=window.hall_id, active=True)
    if not window.is_comprehensive:
        qs = qs.filter(departments__in=window.departments.all()).distinct()
    return qs.order_by("position", "code")


# --- tickets ---------------------------------------------------------------------------------

def ticket_take(*, hall: Hall, category: ServiceCategory, phone: str = "",
                now: dt.datetime | None = None) -> Ticket:
    """Take the next ticket of ``category`` (public: the kiosk or the applicant's phone).

    A phone number is optional; with one, a second waiting ticket in the same hall is refused.
    """
    phone = re.sub(r"[\s-]", "", phone or "")
    problems = []
    if category.hall_id != hall.pk or not category.active:
        problems.append(Problem("category", _("该大厅没有这个业务类别，或暂停取号")))
    if phone and not MOBILE_RE.match(phone):
        problems.append(Problem("phone", _("手机号码应为 11 位数字，以 1 开头")))
    if problems:
        raise RuleViolation(problems)
    already = Problem("phone", _("该手机号码在本大厅已有等候中的号码，请先办理或取消原号码"))
    now = now or timezone.now()
    day = local_day(now)
    for _attempt in range(TAKE_ATTEMPTS):
        try:
            with transaction.atomic():
                # Kiosks of one category take turns: the category row is the lock (PostgreSQL;
                # SQLite transactions here are serialised anyway).
                ServiceCategory.objects.select_for_update().filter(pk=category.pk).first()
                if phone and Ticket.objects.filter(matches("phone", phone), hall=hall,
                                                   status=TicketStatus.WAITING).exists():
                    raise RuleViolation([already])
                last = (Ticket.objects.filter(category=category, day=day)
                        .aggregate(m=Max("seq"))["m"] or 0)
                ticket = Ticket.objects.create(
                    hall=hall, category=category, day=day, seq=last + 1,
                    number=format_number(category.code, last + 1), taken_at=now, phone=phone)
                audit_record(actor=None, action="ticket.taken", object_type="ticket",
                             object_id=ticket.pk, detail={"hall": hall.pk, "number": ticket.number})
                return ticket
        except IntegrityError:
            # Another kiosk took the same number (or the same phone) first: try again.
            continue
    raise RuleViolation([Problem("category", _("取号的人较多，请稍后再试"))])


def _require_worker(actor: Actor, hall_id: int) -> None:
    if not policies.can_work_queue(actor, hall_id):
        raise AccessDenied(_("只有本大厅的窗口工作人员可以叫号"))


def ticket_call_next(*, actor: Actor, window: Window,
                     categories: Iterable[ServiceCategory] | None = None,
                     now: dt.datetime | None = None) -> Ticket | None:
    """Call the oldest waiting ticket of the categories ``window`` serves (or of ``categories``,
    a subset of them). Returns ``None`` when nobody is waiting.

    Refused while the window still has a called or serving ticket: finish it or mark it 未到.
    """
    _require_worker(actor, window.hall_id)
    served = categories_for_window(window)
    allowed = {c.pk for c in served}
    chosen = allowed if categories is None else {c.pk for c in categories} & allowed
    if categories is not None and not chosen:
        raise RuleViolation([Problem("categories", _("所选类别不由本窗口办理"))])
    now = now or timezone.now()
    with transaction.atomic():
        Window.objects.select_for_update().filter(pk=window.pk).first()  # one call per window at a time
        current = Ticket.objects.filter(window=window, status__in=OPEN_AT_WINDOW).first()
        if current is not None:
            raise RuleViolation([Problem("ticket", _(
                "本窗口的 %(number)s 号尚未办结，请先办结或标记未到") % {"number": current.number})])
        # Numbers left over from an earlier day are closed after midnight
        # (``tickets_close_previous_days``), so the oldest waiting ticket is today's.
        waiting = Ticket.objects.filter(hall_id=window.hall_id, category_id__in=chosen,
                                        status=TicketStatus.WAITING).order_by("taken_at", "pk")
        ticket = _claim(waiting, window=window, actor=actor, now=now)
        if ticket is None:
            return None
        audit_record(actor=actor, action="ticket.called", object_type="ticket", object_id=ticket.pk,
                     detail={"number": ticket.number, "window": window.pk})
    return ticket


def _claim(waiting: QuerySet[Ticket], *, window: Window, actor: Actor,
           now: dt.datetime) -> Ticket | None:
    """Claim the first ticket of ``waiting`` for ``window``; never one another window claimed."""
    if connection.features.has_select_for_update_skip_locked:
        candidates = list(waiting.select_for_update(skip_locked=True).values_list("pk", flat=True)[:1])
    else:
        candidates = list(waiting.values_list("pk", flat=True)[:20])
    for pk in candidates:
        won = Ticket.objects.filter(pk=pk, status=TicketStatus.WAITING).update(
            status=TicketStatus.CALLED, called_at=now, last_called_at=now, call_count=1,
            window=window, clerk=actor)
        if won == 1:
            return Ticket.objects.select_related("category", "window").get(pk=pk)
    return None


def _move(*, actor: Actor, ticket: Ticket, to: str, action: str, now: dt.datetime | None,
          only_from: str | None = None, **values: Any) -> Ticket:
    _require_worker(actor, ticket.hall_id)
    now = now or timezone.now()
    with transaction.atomic():
        current = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if to not in TRANSITIONS[current.status] or only_from not in (None, current.status):
            raise RuleViolation([Problem("status", _(
                "%(number)s 号当前为“%(status)s”，不能执行此操作") % {
                    "number": current.number, "status": TicketStatus(current.status).label})])
        update: dict[str, Any] = {"status": to, **{k: (now if v is _NOW else v) for k, v in values.items()}}
        if to == TicketStatus.CALLED:
            update["call_count"] = current.call_count + 1
        won = Ticket.objects.filter(pk=current.pk, status=current.status).update(**update)
        if won != 1:
            raise RuleViolation([Problem("status", _("该号码已被其他窗口处理，请刷新"))])
        audit_record(actor=actor, action=action, object_type="ticket", object_id=current.pk,
                     detail={"number": current.number, "from": current.status, "to": to})
    for name, value in update.items():  # no read after the commit: the caller gets what was written
        setattr(ticket, name, value)
    return ticket


_NOW = object()


def ticket_recall(*, actor: Actor, ticket: Ticket, now: dt.datetime | None = None) -> Ticket:
    """重呼: call a called ticket again (the hall screen shows it on top once more)."""
    return _move(actor=actor, ticket=ticket, to=TicketStatus.CALLED, action="ticket.recalled",
                 now=now, only_from=TicketStatus.CALLED, last_called_at=_NOW)


def ticket_start(*, actor: Actor, ticket: Ticket, now: dt.datetime | None = None) -> Ticket:
    """开始办理: the applicant is at the window."""
    return _move(actor=actor, ticket=ticket, to=TicketStatus.SERVING, action="ticket.started",
                 now=now, started_at=_NOW)


def ticket_finish(*, actor: Actor, ticket: Ticket, case_number: str = "",
                  now: dt.datetime | None = None) -> Ticket:
    """办结: the window is done with this applicant; optionally links the case it accepted."""
    case_number = (case_number or "").strip()
    if case_number:
        from tongban.cases.models import Case

        if not Case.objects.filter(number=case_number).exists():
            raise RuleViolation([Problem("case_number", _("没有编号为 %(number)s 的办件") % {
                "number": case_number})])
    values: dict[str, Any] = {"finished_at": _NOW}
    if case_number:
        values["case_number"] = case_number
    return _move(actor=actor, ticket=ticket, to=TicketStatus.DONE, action="ticket.finished",
                 now=now, **values)


def ticket_no_show(*, actor: Actor, ticket: Ticket, now: dt.datetime | None = None) -> Ticket:
    """未到: called, nobody came."""
    return _move(actor=actor, ticket=ticket, to=TicketStatus.NO_SHOW, action="ticket.no_show",
                 now=now, finished_at=_NOW)


def ticket_cancel(*, ticket: Ticket, token: str, now: dt.datetime | None = None) -> Ticket:
    """取消: the holder gives up a waiting ticket (proved by the ticket's secret token)."""
    now = now or timezone.now()
    with transaction.atomic():
        won = Ticket.objects.filter(Q(pk=ticket.pk) & Q(token=token),
                                    status=TicketStatus.WAITING).update(
            status=TicketStatus.CANCELLED, finished_at=now)
        if won != 1:
            raise RuleViolation([Problem("status", _("该号码已被叫到或已结束，不能取消"))])
        audit_record(actor=None, action="ticket.cancelled", object_type="ticket",
                     object_id=ticket.pk, detail={"number": ticket.number})
    ticket.status, ticket.finished_at = TicketStatus.CANCELLED, now
    return ticket


def tickets_close_previous_days(*, now: dt.datetime | None = None) -> int:
    """日终: tickets of earlier days still waiting are cancelled and those called but never
    served are marked no-show, so that each day starts clean (the hall screen, the figures and
    the one-waiting-ticket-per-phone rule count today's tickets). Tickets being served are left
    for their window to finish. Run after midnight by the schedule ``close_queue_days``;
    running it again changes nothing. Returns how many tickets were closed."""
    from tongban.accounts.permissions import SYSTEM

    now = now or timezone.now()
    today = now.astimezone(SHANGHAI).date()
    with transaction.atomic():
        cancelled = Ticket.objects.filter(day__lt=today, status=TicketStatus.WAITING).update(
            status=TicketStatus.CANCELLED, finished_at=now)
        no_show = Ticket.objects.filter(day__lt=today, status=TicketStatus.CALLED).update(
            status=TicketStatus.NO_SHOW, finished_at=now)
        if cancelled or no_show:
            audit_record(actor=SYSTEM, action="ticket.day_closed", object_type="queue",
                         object_id=today.isoformat(),
                         detail={"cancelled": cancelled, "no_show": no_show})
    return cancelled + no_show
