"""Background work of supervision: the periodic sweep, the per-event check and escalations.

Tasks take ids, are idempotent and re-read what they act on.
"""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task


@task()
def sweep_supervision() -> dict[str, int]:
    """Periodic (schedule ``sweep_supervision``): open the records of every new finding."""
    from .services import supervision_sweep

    return supervision_sweep(now=timezone.now())


@task()
def supervision_on_case_event(event_id: int) -> dict[str, int]:
    """The same checks for the one case of a case event, right after it (to be
    queued beside ``notifications.tasks.send_case_event``; the periodic sweep finds the same
    things a few minutes later without it)."""
    from tongban.cases.models import CaseEvent

    from .services import supervision_sweep

    case_id = CaseEvent.objects.filter(pk=event_id).values_list("case_id", flat=True).first()
    if case_id is None:
        return {}
    return supervision_sweep(now=timezone.now(), case_ids=[case_id])


@task()
def send_escalation(record_id: int) -> int:
    """Tell the department's heads and every supervisor about a new record, once
    (``services.supervision_record_escalate``)."""
    from .services import supervision_record_escalate

    return supervision_record_escalate(record_id=record_id)


@task()
def rollup_figures() -> dict[str, int]:
    """Periodic (schedule ``rollup_figures``, daily after midnight): bring the daily rollups up
    to yesterday (``rollups``); idempotent, so a second run or two workers change nothing."""
    from .rollups import rollup_department_days, rollup_item_times

    now = timezone.now()
    return {"item_times_days": rollup_item_times(now=now),
            "department_days": rollup_department_days(now=now)}
