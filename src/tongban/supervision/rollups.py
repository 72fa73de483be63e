"""Daily rollups of figures that cost too much to compute live over a year of cases.

One rollup so far: ``ItemDayTime``, each item's actual handling time per closed day (the power
list and the public per-item figures). A case's actual time is a walk over the working-day
clock (calendar, the hall's office periods, its clock stops), done in Python; once a case is
decided none of its inputs change, so a closed day's sum is final — unless the calendar or the
office hours change, which the rollup's stamp detects (it is then not read, and rebuilt).

The pattern: the rollup holds the closed days up to ``RollupState.through``; the readers add
the live computation for the days after it (today, or more when the task has not run), so the
figures are the same whether or not the rollup is current. The task (``tasks.rollup_figures``,
schedule ``rollup_figures``) is idempotent: a day is replaced, never added to.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.db import transaction
from django.db.models import Min, Sum
from django.utils import timezone

from tongban.cases.models import Case, ClockStop
from tongban.clock import selectors as clock
from tongban.organizations.models import office_hours_stamp

from .models import ItemDayTime, RollupState

ITEM_TIMES = "item_times"
CHUNK_DAYS = 7


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
    if not cases:
        return {}
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
