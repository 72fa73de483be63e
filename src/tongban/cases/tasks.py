"""Background work on cases: the periodic deadline sweep, and recomputing due instants once
the working calendar of some years changed. The rules are the services' (``services/deadlines.py``);
the tasks call them.

Tasks take ids (or nothing), are idempotent, and re-read the state they act on when they run.
"""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task


@task()
def sweep_deadlines() -> dict[str, int]:
    """Periodic (see the ``sweep_deadlines`` schedule): ``services.cases_sweep``."""
    from .services import cases_sweep

    return cases_sweep(now=timezone.now())


@task()
def recompute_deadlines(years: list[int]) -> list[str]:
    """After the calendar of ``years`` changed: ``services.deadlines_recompute``."""
    from .services import deadlines_recompute

    return deadlines_recompute(years=years)


@task()
def drop_number_sequences() -> int:
    """Daily (the ``case_number_sequences`` schedule): drop the case-number sequences of days
    past (``numbers.drop_old_sequences``)."""
    from tongban.clock.deadline import SHANGHAI

    from .numbers import drop_old_sequences

    return drop_old_sequences(timezone.now().astimezone(SHANGHAI).date())
