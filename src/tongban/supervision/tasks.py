"""Background work of supervision: the periodic sweep, the per-event check and escalations.

Tasks take ids, are idempotent and re-read what they act on.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _t
from django_tasks import task

from .models import SupervisionRecord


@task()
def sweep_supervision() -> dict[str, int]:
    """Periodic (schedule ``sweep_supervision``): open the records of every new finding."""
    from .services import supervision_sweep

    return supervision_sweep(now=timezone.now())


@task()
def supervision_on_case_event(event_id: int) -> dict[str, int]:
    """The same checks for the one case of a case event, right after it (for the lead to
    queue beside ``notifications.tasks.send_case_event``; the periodic sweep finds the same
    things a few minutes later without it)."""
    from tongban.cases.models import CaseEvent

    from .services import supervision_sweep

    case_id = CaseEvent.objects.filter(pk=event_id).values_list("case_id", flat=True).first()
    if case_id is None:
        return {}
    return supervision_sweep(now=timezone.now(), case_ids=[case_id])


@task()
def send_escalation(record_id: int) -> int:
    """Tell the department's heads and every supervisor about a new record, once."""
    from tongban.cases.notifications import recipients
    from tongban.cases.notifications.services import notify_users

    record = (SupervisionRecord.objects.select_related("case", "department", "person")
              .filter(pk=record_id).first())
    if record is None:
        return 0
    subject = _t("电子监察：%(kind)s（%(department)s）") % {
        "kind": record.get_kind_display(), "department": record.department.name}
    lines = [record.detail]
    if record.person is not None:
        lines.append(_t("责任人：%(name)s") % {"name": record.person})
    lines.append(_t("请责任部门签收并说明情况。"))
    sent = notify_users(recipients.escalation(record.department_id), key=f"supervision:{record.pk}",
                        subject=subject, text="\n".join(lines), kind="supervision",
                        case=record.case)
    SupervisionRecord.objects.filter(pk=record.pk, escalated_at__isnull=True).update(
        escalated_at=timezone.now())
    return sent
