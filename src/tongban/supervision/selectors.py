"""Reads of the supervisor's dashboard: live counts by department and state, the drill-down
to cases, the supervision records, and the weekly trend. The metrics are in ``metrics``.

Scope: supervisors and the bureau see every department; a department head sees their own
(``policies.dashboard_department``). The green / yellow / red state is the live one of
``cases.selectors.case_deadline_state``, through its query form ``_deadline_filter``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet

from tongban.accounts.models import Role
from tongban.cases import selectors as case_selectors
from tongban.cases.models import Case, DeadlineState, Status
from tongban.organizations.models import Department

from . import policies, rollups
from .models import SupervisionRecord

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Columns of the board: label key → statuses counted in it.
STATUS_GROUPS: dict[str, tuple[str, ...]] = {
    "waiting": (Status.SUBMITTED, Status.PRE_REVIEW),
    "supplement": (Status.SUPPLEMENT,),
    "in_progress": (Status.ACCEPTED,),
    "suspended": (Status.SUSPENDED, Status.HALTED),
    "completed": (Status.APPROVED, Status.DENIED, Status.DELIVERED),
    "refused": (Status.REFUSED,),
    "closed": (Status.WITHDRAWN, Status.TERMINATED),
}
# The groups of cases still under way, counted live; the others (a case never leaves them) come
# from the daily rollup (``rollups.closed_counts``).
UNDER_WAY_GROUPS = ("waiting", "supplement", "in_progress", "suspended")
assert set(STATUS_GROUPS["completed"]) == set(rollups.COMPLETED_STATUSES)
# Cases whose clock runs or is stopped: the ones a deadline state is counted for.
OPEN_STATUSES = (Status.ACCEPTED, Status.SUSPENDED, Status.HALTED, Status.SUPPLEMENT)


def scope_cases(user: Actor) -> QuerySet[Case]:
    """Every submitted case the user's dashboard covers."""
    cases = Case.objects.exclude(status=Status.DRAFT)
    department = policies.dashboard_department(user)
    return cases if department is None else cases.filter(department_id=department)


def open_cases(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Accepted and not yet decided."""
    return cases.filter(status__in=OPEN_STATUSES, accepted_at__isnull=False,
                        decided_at__isnull=True)


@dataclass
class BoardRow:
    department_id: int | None
    name: str
    statuses: dict[str, int] = field(default_factory=dict)
    states: dict[str, int] = field(default_factory=dict)

    @property
    def open(self) -> int:
        return sum(self.states.values())


def board(user: Actor, *, now: dt.datetime) -> tuple[list[BoardRow], BoardRow]:
    """Counts per department: cases by status group, and the open ones by deadline state.

    None of it grows with the years of cases behind it: the groups a case never leaves once in
    them (completed, refused, closed) come from the daily rollup plus today's rows
    (``rollups.closed_counts``); the groups of cases still under way, and their deadline
    states, are counted live over the open cases only, by the status index."""
    department = policies.dashboard_department(user)
    cases = scope_cases(user).order_by()
    rows: dict[int, BoardRow] = {}

    def row(pk: int) -> BoardRow:
        if pk not in rows:
            rows[pk] = BoardRow(pk, "", {k: 0 for k in STATUS_GROUPS},
                                {s: 0 for s in DeadlineState.values})
        return rows[pk]

    group_of = {s: k for k, statuses in STATUS_GROUPS.items() for s in statuses}
    under_way = [s for k in UNDER_WAY_GROUPS for s in STATUS_GROUPS[k]]
    for pk, status, count in (cases.filter(status__in=under_way)
                              .values_list("department_id", "status").annotate(n=Count("pk"))):
        row(pk).statuses[group_of[status]] += count
    for pk, groups in rollups.closed_counts(department_id=department).items():
        for group, count in groups.items():
            if count:
                row(pk).statuses[group] += count
    running = open_cases(cases)
    for state in (DeadlineState.YELLOW, DeadlineState.RED):
        counted = case_selectors._deadline_filter(running, state, now)
        for pk, count in counted.values_list("department_id").annotate(n=Count("pk")):
            row(pk).states[state] += count
    for pk, count in running.values_list("department_id").annotate(n=Count("pk")):
        r = row(pk)
        r.states[DeadlineState.GREEN] = count - r.states[DeadlineState.YELLOW] \
            - r.states[DeadlineState.RED]
    # The names are read for the departments found (not through a subquery over every case).
    names = dict(Department.objects.filter(pk__in=list(rows)).values_list("pk", "name"))
    for pk, r in rows.items():
        r.name = names.get(pk, str(pk))
    ordered = sorted(rows.values(), key=lambda r: (-r.states[DeadlineState.RED],
                                                    -r.states[DeadlineState.YELLOW], r.name))
    total = BoardRow(None, "", {k: sum(r.statuses[k] for r in ordered) for k in STATUS_GROUPS},
                     {s: sum(r.states[s] for r in ordered) for s in DeadlineState.values})
    return ordered, total


def drill_down(user: Actor, *, now: dt.datetime, department: int | None = None,
               group: str = "", state: str = "") -> QuerySet[Case]:
    """The cases behind one figure of the board, soonest due first (no due instant last): read
    a page at a time with ``core.keyset.keyset_page(key="due_at", nullable=True)``."""
    cases = scope_cases(user)
    if department is not None:
        cases = cases.filter(department_id=department)
    if group in STATUS_GROUPS:
        cases = cases.filter(status__in=STATUS_GROUPS[group])
    if state in DeadlineState.values:
        cases = case_selectors._deadline_filter(open_cases(cases), state, now)
    return cases.select_related("item_version", "department").order_by("due_at", "pk")


# --- records ---------------------------------------------------------------------------------------

def records(user: Actor, *, kind: str = "", state: str = "", department: int | None = None,
            person: int | None = None) -> QuerySet[SupervisionRecord]:
    """The records the user may see, newest first, filtered."""
    qs = SupervisionRecord.objects.select_related("case", "department", "person", "step")
    if not policies.sees_everything(user):
        own = policies.user_department_id(user)
        mine = Q(person_id=user.pk)
        if getattr(user, "role", None) == Role.HEAD and own is not None:
            mine |= Q(department_id=own)
        qs = qs.filter(mine)
    if kind:
        qs = qs.filter(kind=kind)
    if state:
        qs = qs.filter(state=state)
    if department is not None:
        qs = qs.filter(department_id=department)
    if person is not None:
        qs = qs.filter(person_id=person)
    return qs.order_by("-opened_at", "-pk")


def record_find(user: Actor, pk: int) -> SupervisionRecord | None:
    record = (SupervisionRecord.objects.select_related("case", "department", "person", "step",
                                                       "acknowledged_by", "explained_by",
                                                       "closed_by")
              .filter(pk=pk).first())
    if record is None or not policies.can_view_record(user, record):
        return None
    return record


def record_counts(user: Actor) -> dict[str, int]:
    """Open (not closed) records per kind."""
    rows = records(user).exclude(state="closed").values_list("kind").annotate(n=Count("pk"))
    return {kind: count for kind, count in rows}


# --- trend -----------------------------------------------------------------------------------------

@dataclass
class WeekPoint:
    week: dt.date  # the Monday, Beijing time
    accepted: int = 0
    completed: int = 0
    overdue: int = 0
    records: int = 0


def _monday(instant: dt.datetime) -> dt.date:
    day = instant.astimezone(SHANGHAI).date()
    return day - dt.timedelta(days=day.weekday())


def trend(user: Actor, *, now: dt.datetime, weeks: int | None = None) -> list[WeekPoint]:
    """Per week (Monday to Sunday, Beijing time), the last ``weeks`` weeks up to this one:
    cases accepted, cases completed (decided), completed after their due instant, and
    supervision records opened. The closed days of the cases' figures come from the daily
    rollup (``DepartmentDay``), the days after it are counted live."""
    weeks = weeks or settings.SUPERVISION_TREND_WEEKS
    this_week = _monday(now)
    first = this_week - dt.timedelta(weeks=weeks - 1)
    since = dt.datetime.combine(first, dt.time(), tzinfo=SHANGHAI)
    points = {first + dt.timedelta(weeks=i): WeekPoint(first + dt.timedelta(weeks=i))
              for i in range(weeks)}
    cases = scope_cases(user).order_by()
    department = policies.dashboard_department(user)
    through = rollups.department_days_through()
    if through is not None and through >= first:
        # Closed days from the rollup, the days after it (today) counted row by row.
        for day_row in rollups.rolled_department_days(first, through, department_id=department,
                                                      by="day"):
            point = points[day_row["day"] - dt.timedelta(days=day_row["day"].weekday())]
            point.accepted += day_row["accepted"] or 0
            point.completed += day_row["decided"] or 0
            point.overdue += day_row["decided_late"] or 0
        for (_dep, day), found in rollups.department_day_counts(
                through + dt.timedelta(days=1), this_week + dt.timedelta(days=6),
                department_id=department).items():
            point = points[day - dt.timedelta(days=day.weekday())]
            point.accepted += found["accepted"]
            point.completed += found["decided"]
            point.overdue += found["decided_late"]
        records_only = True
    else:
        records_only = False
    # Without the rollup: one row per figure, one conditional count per week: the database
    # compares instants with the weeks' bounds (Beijing Mondays) in one pass over the index
    # range, with no per-row time-zone function (which SQLite would call in Python for each
    # case).
    bounds = [(week, dt.datetime.combine(week, dt.time(), tzinfo=SHANGHAI),
               dt.datetime.combine(week + dt.timedelta(weeks=1), dt.time(), tzinfo=SHANGHAI))
              for week in sorted(points)]

    def per_week(qs: QuerySet[Any], field: str,
                 wanted: dict[str, Q]) -> dict[str, dict[dt.date, int]]:
        found = qs.filter(**{f"{field}__gte": since}).aggregate(**{
            f"{name}_{i}": Count("pk", filter=Q(**{f"{field}__gte": lo, f"{field}__lt": hi})
                                 & condition)
            for name, condition in wanted.items() for i, (_week, lo, hi) in enumerate(bounds)})
        return {name: {week: found[f"{name}_{i}"] or 0
                       for i, (week, _lo, _hi) in enumerate(bounds)} for name in wanted}

    late = Q(due_at__isnull=False, decided_at__gt=F("due_at"))
    figures = per_week(records(user).order_by(), "opened_at", {"records": Q()})
    if not records_only:
        figures.update({**per_week(cases, "accepted_at", {"accepted": Q()}),
                        **per_week(cases, "decided_at", {"completed": Q(), "overdue": late})})
    for name, weekly in figures.items():
        for week, value in weekly.items():
            setattr(points[week], name, getattr(points[week], name) + value)
    return [points[k] for k in sorted(points)]


def trend_chart(points: list[WeekPoint]) -> dict[str, Any]:
    """The trend as the chart script reads it (also the API's answer)."""
    return {
        "weeks": [p.week.isoformat() for p in points],
        "accepted": [p.accepted for p in points],
        "completed": [p.completed for p in points],
        "overdue": [p.overdue for p in points],
        "records": [p.records for p in points],
    }
