"""Deadlines: the periodic sweep — acceptance by law (行政许可法 Art. 32) and the stored
green / yellow / red state of every running case and open step, with warnings when one gets
worse — and the recompute of due instants after the working calendar changed. The tasks of
``cases.tasks`` merely call these.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from functools import reduce
from operator import or_
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from tongban.accounts.permissions import SYSTEM
from tongban.audit.services import audit_record
from tongban.cases.workflows.models import StepTask, TaskStatus
from tongban.clock import selectors as clock
from tongban.clock.deadline import SHANGHAI, stopped_business_seconds

from ..models import Case, ClockStop, DeadlineState, Status
from .acceptance import cases_accept_by_law
from .transitions import FINAL, refresh_due

RANK: dict[str, int] = {DeadlineState.GREEN: 0, DeadlineState.YELLOW: 1, DeadlineState.RED: 2}
# A due instant further away than this many calendar days per warning working day (plus one)
# cannot be yellow yet: no official holiday run is anywhere near 15 days long. Rows beyond the
# horizon that are green stay green without computing business time for them.
HORIZON_DAYS_PER_WORKING_DAY = 15
CHUNK = 200


def cases_sweep(*, now: dt.datetime) -> dict[str, int]:
    """The periodic sweep (task ``sweep_deadlines``): accept by law every application left
    unanswered for five working days (``cases_accept_by_law``), then store the warning state of
    every running case and open step and tell people when one gets worse
    (``deadlines_sweep``). Returns what changed."""
    accepted = cases_accept_by_law(now=now)
    return {**deadlines_sweep(now=now), "accepted_by_law": len(accepted)}


def deadlines_sweep(*, now: dt.datetime) -> dict[str, int]:
    """Recompute the deadline state (green / yellow / red, ``clock.selectors.deadline_state``)
    of every accepted case and every open step of one, store the ones that changed, and
    notify the handlers and the department head of each that got worse.

    Suspended cases (and cases waiting for a supplement after acceptance) are left as they are:
    their clock does not run. A step has its own due instant, so a step can be red while its
    case is still green. Returns how many cases and steps changed state.
    """
    from tongban.cases.notifications.tasks import send_deadline_warning
    from tongban.scheduling.queue import enqueue_after_commit

    days = HORIZON_DAYS_PER_WORKING_DAY * (math.ceil(settings.CLOCK_WARNING_WORKING_DAYS) + 1)
    near = Q(due_at__lte=now + dt.timedelta(days=days)) | ~Q(deadline_state=DeadlineState.GREEN)
    stopped = ClockStop.objects.filter(ended_at__isnull=True).values("case_id")
    cases = (Case.objects.filter(near, status=Status.ACCEPTED, due_at__isnull=False)
             .exclude(pk__in=stopped)
             .values_list("pk", "due_at", "hall_id", "deadline_state", "item_version__commitment",
                          "item_version__committed_limit", "item_version__committed_limit_unit",
                          "extension_working_days"))
    steps = (StepTask.objects.filter(near, status=TaskStatus.OPEN, due_at__isnull=False,
                                     case__status=Status.ACCEPTED)
             .exclude(case_id__in=stopped)
             .values_list("pk", "due_at", "case__hall_id", "deadline_state", "opened_at"))
    hours = clock.office_hours_memo()
    case_changes: list[Change] = []
    step_changes: list[Change] = []
    with clock.calendar_scope():
        for pk, due, hall_id, old, category, limit, unit, extension in cases:
            if due is None:
                continue  # excluded by the query; keeps the type checker informed
            limit_seconds = clock.case_limit_seconds(
                category=category, limit=limit, unit=unit, extension_working_days=extension,
                due=due, hours=hours(hall_id))
            new = clock.deadline_state(due, now=now, hours=hours(hall_id),
                                       limit_seconds=limit_seconds)
            if new != old:
                case_changes.append((pk, due, old, new))
        for pk, due, hall_id, old, opened in steps:
            if due is None:
                continue
            new = clock.deadline_state(due, now=now, hours=hours(hall_id), opened_at=opened)
            if new != old:
                step_changes.append((pk, due, old, new))
    with transaction.atomic():
        _store(Case.objects.filter(status=Status.ACCEPTED), case_changes)
        _store(StepTask.objects.filter(status=TaskStatus.OPEN), step_changes)
        for kind, changes in (("case", case_changes), ("task", step_changes)):
            for pk, _due, old, new in changes:
                if RANK[new] > RANK[old]:
                    # The task re-reads the stored state: a row whose due instant moved meanwhile
                    # (and so was not updated here) is not reported.
                    enqueue_after_commit(send_deadline_warning, kind, pk, new)
    return {"cases": len(case_changes), "tasks": len(step_changes)}


Change = tuple[int, dt.datetime, str, str]


def _store(scope: QuerySet[Any], changes: list[Change]) -> None:
    """One UPDATE per new state and chunk. Each row is matched on the due instant and state
    that were read, so a row a transition changed meanwhile is left for the next sweep."""
    by_state: dict[str, list[Change]] = defaultdict(list)
    for change in changes:
        by_state[change[3]].append(change)
    for state, group in by_state.items():
        for start in range(0, len(group), CHUNK):
            match = reduce(or_, (Q(pk=pk, due_at=due, deadline_state=old)
                                 for pk, due, old, _new in group[start:start + CHUNK]))
            scope.filter(match).update(deadline_state=state)


def deadlines_recompute(*, years: list[int]) -> list[str]:
    """After the calendar of ``years`` changed (an official schedule loaded, a day edited):
    recompute the due instant of every open case whose due instant was provisional or whose
    clock runs through one of those years (``services.refresh_due``), and of every open step
    of such a case (``workflows.services.task_refresh_due``). Not a transition: no case event,
    one audit record for the run. Returns the numbers of the cases whose due instant or
    provisional mark changed."""
    from tongban.cases.workflows.services import task_refresh_due

    lo = dt.datetime(min(years), 1, 1, tzinfo=SHANGHAI)
    hi = dt.datetime(max(years) + 1, 1, 1, tzinfo=SHANGHAI)
    open_cases = Case.objects.filter(accepted_at__isnull=False, decided_at__isnull=True) \
        .exclude(status__in=FINAL)
    touching_steps = StepTask.objects.filter(status=TaskStatus.OPEN, opened_at__lt=hi,
                                             due_at__gte=lo).values("case_id")
    scope = open_cases.filter(Q(due_provisional=True) | Q(accepted_at__lt=hi, due_at__gte=lo)
                              | Q(pk__in=touching_steps))
    ids = list(scope.values_list("pk", flat=True).order_by("pk"))
    changed: list[str] = []
    steps_changed: list[str] = []
    now = timezone.now()
    with clock.calendar_scope():
        for pk in ids:
            with transaction.atomic():
                case = (open_cases.select_for_update(of=("self",))
                        .select_related("item_version", "workflow").filter(pk=pk).first())
                if case is None:
                    continue  # decided meanwhile
                before = (case.due_at, case.due_provisional)
                refresh_due(case)
                if (case.due_at, case.due_provisional) != before:
                    case.save(update_fields=["due_at", "due_provisional"])
                    changed.append(case.number or str(case.pk))
                if case.workflow_id is None:
                    continue
                stops = list(ClockStop.objects.filter(case=case, ended_at__isnull=False))
                hours = clock.office_hours(case.hall_id)
                calendar = clock.work_calendar()
                for task in StepTask.objects.filter(case=case, status=TaskStatus.OPEN) \
                        .exclude(due_at=None):
                    stopped = stopped_business_seconds(
                        ((s.started_at, s.ended_at) for s in stops), since=task.opened_at,
                        until=now, calendar=calendar, hours=hours)
                    old = task.due_at
                    task_refresh_due(task, case, stopped=stopped)
                    if task.due_at != old:
                        task.save(update_fields=["due_at"])
                        steps_changed.append(f"{case.number or case.pk}:{task.step_key}")
    with transaction.atomic():
        audit_record(actor=SYSTEM, action="case.deadlines_recomputed", object_type="calendar",
                     object_id=",".join(map(str, years)),
                     detail={"checked": len(ids), "changed": changed,
                             "steps_changed": steps_changed})
    return changed
