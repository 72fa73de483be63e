"""Telling applicants and handlers what happened to a case: in-app, email and SMS."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from .models import Notification
from .sms import sms_backend

log = logging.getLogger(__name__)

# Events the applicant hears about, with the message's subject.
APPLICANT_EVENTS = {
    "submit": "您的申请已提交",
    "request_supplement": "请按一次性告知书补正材料",
    "accept": "您的申请已受理",
    "refuse": "您的申请不予受理",
    "suspend": "您的办件进入特别程序",
    "extend": "您的办件已延期",
    "approve": "您的办件已办结（准予）",
    "deny": "您的办件已办结（不予）",
    "deliver": "办理结果已送达",
    "terminate": "您的办件已终止",
}


def notify_case_event(event_id: int) -> None:
    """Notify the people concerned by one case event. Idempotent: a repeated call for the same
    event sends nothing twice (one in-app message per event and recipient)."""
    from tongban.cases.models import CaseEvent

    event = CaseEvent.objects.select_related("case", "case__applicant", "case__agent").filter(
        pk=event_id).first()
    if event is None:
        return
    case = event.case
    with translation.override(settings.LANGUAGE_CODE):
        recipients: list[Any] = []
        subject = APPLICANT_EVENTS.get(event.action)
        if subject:
            recipients = [u for u in (case.applicant, case.agent) if u is not None]
        text = _("%(subject)s。办件编号：%(number)s，事项：%(item)s。") % {
            "subject": _(subject) if subject else event.action, "number": case.number or "",
            "item": case.item_version.name}
        if event.reason:
            text += _("说明：%(reason)s") % {"reason": event.reason}
        for user in recipients:
            _deliver(user, event, str(_(subject or event.action)), text, phone=case.applicant_phone)
        for task in case.tasks.filter(status="open", opened_at__gte=event.at).select_related(
                "assignee"):
            if task.assignee is not None:
                _deliver(task.assignee, event, str(_("新的待办：%(step)s") % {"step": task.name}),
                         text, phone="")


def _deliver(user: Any, event: Any, subject: str, text: str, *, phone: str) -> None:
    try:
        with transaction.atomic():
            Notification.objects.create(recipient=user, case=event.case, event=event,
                                        subject=subject, body=text)
    except IntegrityError:
        return  # already notified for this event
    if user.email:
        try:
            send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, [user.email])
        except OSError:
            log.exception("email to user %s failed", user.pk)
    number = phone or getattr(user, "phone", "")
    if number:
        try:
            sms_backend().send(number, text)
        except Exception:  # a gateway failure must not undo the in-app message
            log.exception("SMS to user %s failed", user.pk)
