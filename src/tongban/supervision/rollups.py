"""Daily rollups of figures that cost too much to compute live over a year of cases.

``ItemDayTime``: each item's actual handling time per closed day (the power list and the
public per-item figures). A case's actual time is a walk over the working-day clock (calendar,
the hall's office periods, its clock stops), done in Python; once a case is decided none of its
inputs change, so a closed day's sum is final — unless the calendar or the office hours change,
which the rollup's stamp detects (it is then not read, and rebuilt).

``DepartmentDay``: per department and closed day, the dashboard's counts that a day fixes for
good — acceptances, decisions (late ones), refusals, withdrawals, terminations. A case that is
decided, refused, withdrawn or terminated never leaves that column of the board again, so the
board is the open cases counted live (a bounded set, by the status index) plus these columns
from the rollup plus the days after it counted live (index ranges over today's rows only); the
trend's closed days come from the same rows. Its stamp holds the highest case id when it ran:
a case with a higher id created on a day already rolled up (a bulk load, never the services)
makes the rollup unread until the next run rebuilds it.

The pattern: the rollup holds the closed days up to ``RollupState.through``; the readers add
the live computation for the days after it (today, or more when the task has not run), so the
figures are the same whether or not the rollup is current. The task (``tasks.rollup_figures``,
schedule ``rollup_figures``) is idempotent: a day is replaced, never added to.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db import transaction
from django.db.models import BooleanField, Count, Max, Min, OuterRef, Subquery, Sum
from django.db.models.expressions import RawSQL
from django.utils import timezone

from tongban.cases.models import CLOSING_ACTIONS, Case, CaseEvent, ClockStop, Status
from tongban.clock import selectors as clock
from tongban.organizations.models import Department, office_hours_stamp

from .models import DepartmentDay, ItemDayTime, RollupState

ITEM_TIMES = "item_times"
DEPARTMENT_DAYS = "department_days"
# The version of ``DepartmentDay``'s definition: a new one makes the next run rebuild it.
DEPARTMENT_DAYS_VERSION = "2"  # 2: with the running totals
CHUNK_DAYS = 7
# The board's columns that a case, once in them, never leaves (``selectors.STATUS_GROUPS``).
COMPLETED_STATUSES = (Status.APPROVED, Status.DENIED, Status.DELIVERED)
CLOSING_GROUP = {"refuse": "refused", "withdraw": "closed", "terminate": "closed"}


def current_stamp() -> str:
    """What the actual times depend on besides the cases: the calendar and the office hours."""
    return f"{clock.calendar_version()}:{office_hours_stamp()}"


def rolled_through() -> dt.date | None:
    """The last day ``ItemDayTime`` may be read for; ``None`` when it is not usable."""
    state = RollupState.objects.filter(name=ITEM_TIMES).values_list("through", "stamp").first()
    if state is None or state[0] is None or state[1] != current_stamp():
        return None
    return state[0]


def day_bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    from .metrics import period_bounds

    return period_bounds(first, last)


def case_times(first: dt.date, last: dt.date, item_ids: Sequence[int] | None = None
               ) -> dict[tuple[int, dt.date], list[float]]:
    """Live: the actual working days of each accepted case decided from ``first`` to ``last``
    (Beijing days, inclusive), by (item, day of decision)."""
    from .metrics import SHANGHAI, actual_working_days

    lo, hi = day_bounds(first, last)
    completed = Case.objects.filter(decided_at__gte=lo, decided_at__lt=hi,
                                    accepted_at__isnull=False).order_by()
    if item_ids is not None:
        completed = completed.filter(item_id__in=item_ids)
    cases = list(completed.values_list("pk", "item_id", "accepted_at", "decided_at", "hall_id"))
    # No early return when nothing was decided: a page makes the same queries whether or not
    # today has decisions yet (its query count must not depend on the hour it is read).
    stops: dict[int, list[tuple[dt.datetime, dt.datetime | None]]] = defaultdict(list)
    for case_id, s, e in (ClockStop.objects.filter(case__in=completed).order_by()
                          .values_list("case_id", "started_at", "ended_at")):
        stops[case_id].append((s, e))
    hours = clock.office_hours_memo()
    times: dict[tuple[int, dt.date], list[float]] = defaultdict(list)
    with clock.calendar_scope():
        for pk, item_id, accepted, decided, hall_id in cases:
            if accepted is None or decided is None:
                continue
            times[(item_id, decided.astimezone(SHANGHAI).date())].append(
                actual_working_days(accepted, decided, stops[pk], hall_id=hall_id,
                                    hours=hours(hall_id)))
    return times


def rolled_times(first: dt.date, last: dt.date,
                 item_ids: Iterable[int] | None = None) -> dict[int, tuple[int, float]]:
    """From the rollup: item → (cases, Σ working days) over ``first``..``last``."""
    rows = ItemDayTime.objects.filter(day__gte=first, day__lte=last)
    if item_ids is not None:
        rows = rows.filter(item_id__in=list(item_ids))
    return {item: (n or 0, total or 0.0) for item, n, total in
            rows.order_by().values("item_id").annotate(n=Sum("cases"), t=Sum("working_days"))
            .values_list("item_id", "n", "t")}


def rollup_item_times(*, now: dt.datetime | None = None, rebuild: bool = False) -> int:
    """Bring ``ItemDayTime`` up to yesterday (Beijing); every day from the first decided case
    when the stamp changed (or ``rebuild``). Returns the number of days written. Idempotent:
    each chunk of days is deleted and written again in one transaction."""
    from .metrics import SHANGHAI

    now = now or timezone.now()
    yesterday = now.astimezone(SHANGHAI).date() - dt.timedelta(days=1)
    stamp = current_stamp()
    state, _created = RollupState.objects.get_or_create(name=ITEM_TIMES)
    if rebuild or state.stamp != stamp or state.through is None:
        first_decided = Case.objects.aggregate(first=Min("decided_at"))["first"]
        start = (first_decided.astimezone(SHANGHAI).date() if first_decided is not None
                 else yesterday + dt.timedelta(days=1))
        with transaction.atomic():
            ItemDayTime.objects.all().delete()
            RollupState.objects.filter(pk=state.pk).update(
                through=start - dt.timedelta(days=1), stamp=stamp, refreshed_at=now)
    else:
        start = state.through + dt.timedelta(days=1)
    written = 0
    while start <= yesterday:
        last = min(start + dt.timedelta(days=CHUNK_DAYS - 1), yesterday)
        times = case_times(start, last)
        with transaction.atomic():
            ItemDayTime.objects.filter(day__gte=start, day__lte=last).delete()
            ItemDayTime.objects.bulk_create(
                [ItemDayTime(item_id=item, day=day, cases=len(spent), working_days=sum(spent))
                 for (item, day), spent in sorted(times.items())], batch_size=500)
            RollupState.objects.filter(pk=state.pk).update(through=last, stamp=stamp,
                                                           refreshed_at=now)
        written += (last - start).days + 1
        start = last + dt.timedelta(days=1)
    return written


# --- the dashboard's counts per department and day ---------------------------------------------

DAY_FIGURES = ("accepted", "decided", "decided_late", "completed", "refused", "closed")
# The board's columns that a case, once in them, never leaves; ``DepartmentDay`` keeps each
# department's running total of them (``<name>_total``).
CLOSED_GROUPS = ("completed", "refused", "closed")


# The closing events as the partial index ``case_event_closing_at`` names them, as a literal: a
# database uses a partial index only for a query whose condition it can see implies the
# index's, which SQLite cannot do for an IN list of bound parameters.
_CLOSING_LIST = ", ".join(f"'{action}'" for action in CLOSING_ACTIONS)
CLOSING_EVENT = RawSQL(f'"cases_caseevent"."action" IN ({_CLOSING_LIST})', [],
                       output_field=BooleanField())


def _happenings(lo: dt.datetime, hi: dt.datetime | None, *, department_id: int | None = None
                ) -> Iterator[tuple[int, dt.datetime, str]]:
    """Each (department, instant, figure) of ``DepartmentDay`` from ``lo`` to ``hi`` (``None``:
    no end), read row by row over three index ranges — ``accepted_at``, ``decided_at`` and the
    closing events — and counted by the caller: no GROUP BY or department condition for a
    planner without statistics (SQLite) to answer from another index, scanning every case."""
    def period(field: str) -> dict[str, dt.datetime]:
        return {f"{field}__gte": lo, **({f"{field}__lt": hi} if hi is not None else {})}

    cases = Case.objects.exclude(status=Status.DRAFT).order_by()
    found: list[tuple[int, dt.datetime, str]] = []
    for dep, accepted in cases.filter(**period("accepted_at")).values_list("department_id",
                                                                            "accepted_at"):
        if accepted is not None:  # always, by the range; for the type checker
            found.append((dep, accepted, "accepted"))
    for dep, at, due, status in cases.filter(**period("decided_at")).values_list(
            "department_id", "decided_at", "due_at", "status"):
        if at is None:
            continue
        found.append((dep, at, "decided"))
        if due is not None and at > due:
            found.append((dep, at, "decided_late"))
        if status in COMPLETED_STATUSES:
            found.append((dep, at, "completed"))
    events = CaseEvent.objects.filter(CLOSING_EVENT, **period("at")).order_by()
    for dep, at, action in events.values_list("case__department_id", "at", "action"):
        found.append((dep, at, CLOSING_GROUP[action]))
    return (f for f in found if department_id is None or f[0] == department_id)


def department_day_counts(first: dt.date, last: dt.date, *, department_id: int | None = None
                          ) -> dict[tuple[int, dt.date], dict[str, int]]:
    """Live: ``DepartmentDay``'s figures for each Beijing day from ``first`` to ``last``
    (inclusive), by (department, day)."""
    from .metrics import SHANGHAI

    out: dict[tuple[int, dt.date], dict[str, int]] = defaultdict(lambda: dict.fromkeys(
        DAY_FIGURES, 0))
    for department, at, name in _happenings(*day_bounds(first, last),
                                            department_id=department_id):
        out[(department, at.astimezone(SHANGHAI).date())][name] += 1
    return dict(out)


def _first_day() -> dt.date | None:
    """The first Beijing day anything of ``DepartmentDay`` happened (each an indexed MIN)."""
    from .metrics import SHANGHAI

    found = [Case.objects.aggregate(m=Min("accepted_at"))["m"],
             Case.objects.aggregate(m=Min("decided_at"))["m"],
             CaseEvent.objects.filter(CLOSING_EVENT).aggregate(m=Min("at"))["m"]]
    instants = [f for f in found if f is not None]
    return min(instants).astimezone(SHANGHAI).date() if instants else None


def _department_days_state() -> tuple[dt.date, int] | None:
    """(through, highest case id at the last run) of a readable ``DepartmentDay``."""
    state = (RollupState.objects.filter(name=DEPARTMENT_DAYS)
             .values_list("through", "stamp").first())
    if state is None or state[0] is None:
        return None
    version, _sep, watermark = (state[1] or "").partition(":")
    if version != DEPARTMENT_DAYS_VERSION or not watermark.isdecimal():
        return None
    return state[0], int(watermark)


def department_days_through() -> dt.date | None:
    """The last day ``DepartmentDay`` may be read for; ``None`` when it is not usable: never
    built, of another definition, or a case newer than its last run belongs to a day it holds
    (a bulk load) — one look at the cases created since that run (the primary key's range)."""
    state = _department_days_state()
    if state is None:
        return None
    through, watermark = state
    _lo, end = day_bounds(through, through)
    # The new cases' creation instants by the primary key's range (a condition on created_at
    # would let SQLite walk that index from its start instead).
    newer = Case.objects.filter(pk__gt=watermark).order_by().values_list("created_at", flat=True)
    if any(created < end for created in newer):
        return None
    return through


def rolled_department_days(first: dt.date | None, last: dt.date, *,
                           department_id: int | None = None, by: str = "department_id"
                           ) -> list[dict[str, Any]]:
    """From the rollup: the figures summed over ``first``..``last`` (``None``: from the
    beginning), one dict per ``by`` (``department_id`` or ``day``)."""
    rows = DepartmentDay.objects.filter(day__lte=last)
    if first is not None:
        rows = rows.filter(day__gte=first)
    if department_id is not None:
        rows = rows.filter(department_id=department_id)
    return list(rows.order_by().values(by).annotate(**{name: Sum(name) for name in DAY_FIGURES}))


def running_totals(last: dt.date, *, department_id: int | None = None
                   ) -> dict[int, dict[str, int]]:
    """Each department's running totals of ``CLOSED_GROUPS`` up to ``last`` (inclusive): its
    latest ``DepartmentDay`` row on or before that day, found per department by the unique
    (department, day) index — as many rows as departments, whatever the years behind them."""
    latest = (DepartmentDay.objects.filter(department_id=OuterRef("pk"), day__lte=last)
              .order_by("-day"))
    departments = Department.objects.order_by()
    if department_id is not None:
        departments = departments.filter(pk=department_id)
    found = departments.annotate(**{
        f"latest_{name}": Subquery(latest.values(f"{name}_total")[:1])
        for name in CLOSED_GROUPS}).values_list("pk", *(f"latest_{n}" for n in CLOSED_GROUPS))
    return {pk: dict(zip(CLOSED_GROUPS, (v or 0 for v in values), strict=True))
            for pk, *values in found if any(v is not None for v in values)}


def closed_counts(*, department_id: int | None = None) -> dict[int, dict[str, int]]:
    """The board's columns no case leaves once in them — ``completed``, ``refused``,
    ``closed`` — per department: the rollup up to its last day, the days after it live (one
    index range each, from the day after it on, with no upper bound, as the live count has
    none); all of it live when the rollup is not readable."""

    out: dict[int, dict[str, int]] = defaultdict(lambda: {"completed": 0, "refused": 0,
                                                          "closed": 0})
    through = department_days_through()
    cases = Case.objects.exclude(status=Status.DRAFT).order_by()
    if department_id is not None:
        cases = cases.filter(department_id=department_id)
    if through is None:
        final = {**{s: "completed" for s in COMPLETED_STATUSES}, Status.REFUSED: "refused",
                 Status.WITHDRAWN: "closed", Status.TERMINATED: "closed"}
        for dep, status, n in (cases.filter(status__in=list(final))
                               .values_list("department_id", "status").annotate(n=Count("pk"))):
            out[dep][final[status]] += n
        return dict(out)
    for dep, totals in running_totals(through, department_id=department_id).items():
        for name in CLOSED_GROUPS:
            out[dep][name] += totals[name]
    since = day_bounds(through + dt.timedelta(days=1), through + dt.timedelta(days=1))[0]
    for dep, _at, name in _happenings(since, None, department_id=department_id):
        if name in ("completed", "refused", "closed"):
            out[dep][name] += 1
    return dict(out)


def rollup_department_days(*, now: dt.datetime | None = None, rebuild: bool = False) -> int:
    """Bring ``DepartmentDay`` up to yesterday (Beijing); every day from the first one when it
    is not readable (or ``rebuild``). Returns the number of days written. Idempotent: each
    chunk of days is deleted and written again in one transaction."""
    from .metrics import SHANGHAI

    now = now or timezone.now()
    yesterday = now.astimezone(SHANGHAI).date() - dt.timedelta(days=1)
    # Read before counting: a case created while the run counts has a higher id.
    watermark = Case.objects.aggregate(m=Max("pk"))["m"] or 0
    stamp = f"{DEPARTMENT_DAYS_VERSION}:{watermark}"
    state, _created = RollupState.objects.get_or_create(name=DEPARTMENT_DAYS)
    through = department_days_through()
    if rebuild or through is None:
        first = _first_day()
        start = first if first is not None else yesterday + dt.timedelta(days=1)
        with transaction.atomic():
            DepartmentDay.objects.all().delete()
            RollupState.objects.filter(pk=state.pk).update(
                through=start - dt.timedelta(days=1), stamp=stamp, refreshed_at=now)
    else:
        start = through + dt.timedelta(days=1)
        RollupState.objects.filter(pk=state.pk).update(stamp=stamp, refreshed_at=now)
    written = 0
    # The running totals carried from the days before ``start`` (none on a rebuild).
    totals = running_totals(start - dt.timedelta(days=1)) if start <= yesterday else {}
    while start <= yesterday:
        last = min(start + dt.timedelta(days=CHUNK_DAYS - 1), yesterday)
        counts = department_day_counts(start, last)
        rows = []
        for (department, day), figures in sorted(counts.items()):
            carried = totals.setdefault(department, dict.fromkeys(CLOSED_GROUPS, 0))
            for name in CLOSED_GROUPS:
                carried[name] += figures[name]
            rows.append(DepartmentDay(department_id=department, day=day, **figures,
                                      **{f"{name}_total": carried[name]
                                         for name in CLOSED_GROUPS}))
        with transaction.atomic():
            DepartmentDay.objects.filter(day__gte=start, day__lte=last).delete()
            DepartmentDay.objects.bulk_create(rows, batch_size=500)
            RollupState.objects.filter(pk=state.pk).update(through=last, stamp=stamp,
                                                           refreshed_at=now)
        written += (last - start).days + 1
        start = last + dt.timedelta(days=1)
    return written
