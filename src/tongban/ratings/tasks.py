"""Background work on rectification tickets: telling the people concerned, and the periodic
overdue sweep (schedule ``sweep_rating_tickets``, seeded by ``ratings/0002``).

Tasks take ids, re-read the state and are idempotent: each message has a key per ticket and
event, so a task that runs twice sends nothing twice.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from .models import RectificationTicket


@task()
def notify_ticket(ticket_id: int, what: str) -> int:
    """Tell the department a ticket was opened or its appeal decided; the supervisors an
    appeal is waiting. The rater is never named in these messages."""
    from tongban.cases.notifications import recipients
    from tongban.cases.notifications.services import notify_users

    ticket = (RectificationTicket.objects.select_related("rating", "rating__case", "handler",
                                                         "department")
              .filter(pk=ticket_id).first())
    if ticket is None:
        return 0
    case = ticket.rating.case
    number = case.number or ""
    due = timezone.localtime(ticket.due_at).strftime("%Y-%m-%d %H:%M")
    if what == "opened":
        users = recipients.department_heads(ticket.department_id, with_person=ticket.handler)
        subject = _("差评整改：办件 %(n)s") % {"n": number}
        text = _("办件 %(n)s 收到差评，已生成整改工单，请于 %(due)s 前处理（立行立改、建立台账或解释说明，"
                 "或对误评恶评提出申诉）。") % {"n": number, "due": due}
    elif what == "appealed":
        users = recipients.supervisors()
        subject = _("差评申诉待复核：办件 %(n)s") % {"n": number}
        text = _("%(dept)s 对办件 %(n)s 的差评提出申诉，请复核。") % {
            "dept": ticket.department.name, "n": number}
    elif what == "appeal_decided":
        users = recipients.department_heads(ticket.department_id, with_person=ticket.handler)
        subject = _("差评申诉复核结果：办件 %(n)s") % {"n": number}
        text = (_("申诉成立，该评价不计入统计。") if ticket.appeal_decision == "accepted"
                else _("申诉不成立，请于 %(due)s 前完成整改。") % {"due": due})
    else:
        return 0
    return notify_users(users, key=f"rating-ticket-{ticket.pk}-{what}-{ticket.version}",
                        subject=subject, text=text, kind="rating", case=case)


@task()
def sweep_tickets() -> int:
    """Periodic: mark overdue tickets and escalate each once to the department's heads and
    the supervisors (``services.tickets_escalate_overdue``)."""
    from .services import tickets_escalate_overdue

    return tickets_escalate_overdue(now=timezone.now())


@task()
def rollup_ratings() -> int:
    """Periodic (schedule ``rollup_ratings``, daily after midnight): bring the monthly report's
    daily rollup up to yesterday (``rollups.rollup_ratings``); idempotent, so a second run or
    two workers change nothing. Returns the number of days written."""
    from .rollups import rollup_ratings as run

    return run(now=timezone.now())
