"""Telling applicants and handlers what happened: in-app, email and SMS.

Every message is first saved as a :class:`Notification` (the in-app copy); the row is unique
per recipient and key, so the functions here are idempotent: a task that runs twice sends
nothing twice. The email and SMS copies go out once the row is saved. These functions run in
background tasks (``notifications.tasks``) and re-read the state they report on.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from tongban.accounts.masking import mask_phone
from tongban.accounts.models import User
from tongban.core.errors import AccessDenied

from . import recipients
from .models import Kind, Notification
from .sms import sms_backend

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

log = logging.getLogger(__name__)

# Events the applicant (and their agent) hears about, with the message's subject. Translated
# when the message is written, in the platform's language.
APPLICANT_EVENTS = {
    "submit": gettext_noop("您的申请已提交"),
    "request_supplement": gettext_noop("请按一次性告知书补正材料"),
    "accept": gettext_noop("您的申请已受理"),
    "accept_by_law": gettext_noop("您的申请已依法视为受理"),
    "refuse": gettext_noop("您的申请不予受理"),
    "suspend": gettext_noop("您的办件进入特别程序"),
    "halt": gettext_noop("您的办件已中止办理"),
    "resume": gettext_noop("您的办件已恢复办理"),
    "extend": gettext_noop("您的办件已延期"),
    "approve": gettext_noop("您的办件已办结（准予）"),
    "deny": gettext_noop("您的办件已办结（不予）"),
    "deliver": gettext_noop("办理结果已送达"),
    "terminate": gettext_noop("您的办件已终止"),
}


def notify_case_event(event_id: int) -> int:
    """Tell the people concerned about one case event: the applicant and agent (for the events
    in ``APPLICANT_EVENTS``), and the handlers of any step the event opened. Returns how many
    messages were written (0 when run again for the same event)."""
    from tongban.cases.models import CaseEvent

    event = (CaseEvent.objects.select_related("case", "case__applicant", "case__agent",
                                              "case__item_version")
             .filter(pk=event_id).first())
    if event is None:
        return 0
    case = event.case
    sent = 0
    with translation.override(settings.LANGUAGE_CODE):
        subject_id = APPLICANT_EVENTS.get(event.action)
        if subject_id:
            subject = _(subject_id)
            text = _("%(subject)s。办件编号：%(number)s，事项：%(item)s。") % {
                "subject": subject, "number": case.number or "", "item": case.item_version.name}
            if event.reason:
                text += _("说明：%(reason)s") % {"reason": event.reason}
            common: dict[str, Any] = {"key": f"event:{event.pk}", "kind": Kind.CASE, "case": case,
                                      "event": event, "subject": subject, "text": text}
            for party in recipients.case_parties(case):  # a walk-in has a phone, no account
                sent += _deliver(party.user, phone=party.phone, **common)
        if event.action == "request_extension":
            sent += _ask_heads_to_decide_extension(event, case)
        opened = case.tasks.filter(status="open", opened_at=event.at).select_related(
            "assignee", "department")
        for task in opened:
            sent += _announce_task(task, case)
    return sent


def _ask_heads_to_decide_extension(event: Any, case: Any) -> int:
    """延期 needs the department head: every active head of the handling department is told."""
    subject = _("延期申请待您批准")
    text = _("办件%(number)s（%(item)s）申请延期%(days)s个工作日，理由：%(reason)s") % {
        "number": case.number or "", "item": case.item_version.name,
        "days": event.data.get("working_days", ""), "reason": event.reason}
    heads = recipients.department_heads(case.department_id)
    return sum(_deliver(head, key=f"event:{event.pk}:head", kind=Kind.CASE, case=case,
                        event=event, subject=subject, text=text, sms=False)
               for head in heads)


def notify_task_assigned(task_id: int, assignee_id: int) -> int:
    """Tell a person that a step was assigned (or transferred) to them, if it still is."""
    from tongban.cases.workflows.models import StepTask

    task = (StepTask.objects.select_related("case", "case__item_version", "assignee")
            .filter(pk=task_id, status="open", assignee_id=assignee_id).first())
    if task is None or task.assignee is None:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        return _announce_task(task, task.case, assigned=True)


def _announce_task(task: Any, case: Any, *, assigned: bool = False) -> int:
    subject = (_("分派给您的待办：%(step)s") if assigned else _("新的待办：%(step)s")) % {
        "step": task.name}
    text = _("办件%(number)s（%(item)s）进入“%(step)s”环节，请于%(due)s前办理。") % {
        "number": case.number or "", "item": case.item_version.name, "step": task.name,
        "due": _local(task.due_at)}
    direct, pool = recipients.step_handlers(task)
    # Unassigned: everyone who may claim it sees it in their inbox (no email or SMS to a pool).
    return (sum(_deliver(user, key=f"task:{task.pk}:assigned", kind=Kind.TASK, case=case,
                         subject=subject, text=text, email=True) for user in direct)
            + sum(_deliver(user, key=f"task:{task.pk}:pool", kind=Kind.TASK, case=case,
                           subject=subject, text=text, email=False, sms=False)
                  for user in pool))


def notify_deadline(kind: str, object_id: int, state: str) -> int:
    """Warn (yellow) or tell of overdue (red) a case (``kind="case"``) or step (``"task"``): its
    handlers and the head of the department. Sends nothing if the stored state is no longer
    ``state`` or the case or step is no longer running."""
    from tongban.cases.models import Case, Status
    from tongban.cases.workflows.models import StepTask

    if state not in ("yellow", "red"):
        return 0
    days = f"{settings.CLOCK_WARNING_WORKING_DAYS:g}"
    with translation.override(settings.LANGUAGE_CODE):
        if kind == "case":
            case = (Case.objects.select_related("item_version")
                    .filter(pk=object_id, status=Status.ACCEPTED, deadline_state=state).first())
            if case is None or case.due_at is None:
                return 0
            due, department_id = case.due_at, case.department_id
            open_steps = list(case.tasks.filter(status="open").select_related("assignee"))
            values = {"number": case.number or "", "item": case.item_version.name,
                      "due": _local(due), "days": days}
            if state == "yellow":
                subject = _("办件预警：%(number)s") % values
                text = _("办件%(number)s（%(item)s）将于%(due)s到期，剩余办理时间不足%(days)s个工作日，"
                         "请抓紧办理。") % values
            else:
                subject = _("办件超期：%(number)s") % values
                text = _("办件%(number)s（%(item)s）已超过办结时限（%(due)s），请尽快办结。") % values
        elif kind == "task":
            task = (StepTask.objects.select_related("case", "case__item_version", "assignee")
                    .filter(pk=object_id, status="open", case__status=Status.ACCEPTED,
                            deadline_state=state).first())
            if task is None or task.due_at is None:
                return 0
            case, due, department_id = task.case, task.due_at, task.department_id
            open_steps = [task]
            values = {"number": case.number or "", "item": case.item_version.name,
                      "step": task.name, "due": _local(due), "days": days}
            if state == "yellow":
                subject = _("环节预警：%(step)s（%(number)s）") % values
                text = _("办件%(number)s（%(item)s）的“%(step)s”环节将于%(due)s到期，剩余时间不足"
                         "%(days)s个工作日，请抓紧办理。") % values
            else:
                subject = _("环节超期：%(step)s（%(number)s）") % values
                text = _("办件%(number)s（%(item)s）的“%(step)s”环节已超过环节时限（%(due)s），"
                         "请尽快办理。") % values
        else:
            raise ValueError(f"unknown kind {kind!r}")
        # The assignees and the head get every copy; the people who may claim an unassigned
        # step see it in their inbox.
        direct, pool = recipients.deadline_watchers(open_steps, department_id)
        key = f"deadline:{kind}:{object_id}:{state}:{int(due.timestamp())}"
        notice_kind = Kind.WARNING if state == "yellow" else Kind.OVERDUE
        return (sum(_deliver(user, key=key, kind=notice_kind, case=case, subject=subject,
                             text=text, phone=user.phone) for user in direct)
                + sum(_deliver(user, key=key, kind=notice_kind, case=case, subject=subject,
                               text=text, email=False, sms=False) for user in pool))


def _local(instant: Any) -> str:
    return timezone.localtime(instant).strftime("%Y-%m-%d %H:%M") if instant else ""


def _deliver(user: User | None, *, key: str, kind: str, case: Any, subject: str, text: str,
             event: Any = None, phone: str = "", email: bool = True, sms: bool = True) -> int:
    """Write the in-app message, then send its email and SMS copies. Returns 1, or 0 when this
    message (recipient and key) was written before."""
    try:
        with transaction.atomic():
            Notification.objects.create(recipient=user, kind=kind, key=key, case=case, event=event,
                                        subject=subject, body=text)
    except IntegrityError:
        return 0  # already sent
    if email and user is not None and user.email:
        try:
            send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, [user.email])
        except OSError:
            log.exception("email to user %s failed", user.pk)
    if sms and phone:
        try:
            sms_backend().send(phone, text)
        except Exception:  # a gateway failure must not undo the in-app message
            log.exception("SMS to %s failed", mask_phone(phone))
    return 1


def notify_users(users: Any, *, key: str, subject: str, text: str, kind: str = Kind.WARNING,
                 case: Any = None, sms: bool = False) -> int:
    """Tell each of ``users`` one thing (escalations, rating and supervision notices), in-app
    and by email, and by SMS when ``sms``. ``key`` identifies the message: the same key to the
    same person is written once, so a task that runs twice sends nothing twice. Returns how
    many messages were new. Call from a background task or after the causing commit.
    """
    return sum(_deliver(user, key=key[:100], kind=kind, case=case, subject=subject, text=text,
                        phone=getattr(user, "phone", "") if sms else "", sms=sms)
               for user in users)


# --- the recipient's own inbox ------------------------------------------------------------------

def _require_login(actor: Actor) -> User:
    """The account acting: nobody signed in (and the system) has no messages."""
    if not isinstance(actor, User) or not actor.is_authenticated:
        raise AccessDenied(gettext_lazy("需要登录"))
    return actor


@transaction.atomic
def notification_mark_read(*, actor: Actor, notification_id: int) -> Notification:
    """Mark one of the actor's own messages read; reading it again keeps the first time.

    Someone else's message is answered as missing (``Notification.DoesNotExist``), so ids tell
    nobody anything. Reading one's messages is personal state, not an audited action.
    """
    user = _require_login(actor)
    notification = Notification.objects.select_for_update().get(pk=notification_id,
                                                                recipient=user)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def notifications_mark_all_read(*, actor: Actor) -> int:
    """Mark every unread message of the actor read; returns how many there were."""
    user = _require_login(actor)
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now())
