"""Cases by state and deadline mark for ``/metrics`` (registered in ``CasesConfig.ready``).

``tongban_cases{status,deadline}``: one GROUP BY over the cases, kept ``METRICS_CACHE_SECONDS``
(``core.metrics.cached``) so that scrapes do not each count a million rows.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from tongban.core import metrics

from .models import Case


def counts() -> list[tuple[str, str, int]]:
    """(status, deadline mark, number of cases) for every pair that has cases."""
    rows = (Case.objects.order_by().values_list("status", "deadline_state")
            .annotate(n=Count("pk")))
    return [(str(status), str(mark), int(n)) for status, mark, n in rows]


def collect() -> Iterator[Metric]:
    family = GaugeMetricFamily("tongban_cases", "Cases by status and deadline mark "
                               "(green, yellow, red)", labels=["status", "deadline"])
    for status, mark, n in metrics.cached("cases", counts):
        family.add_metric([status, mark], n)
    yield family


def register() -> None:
    metrics.register_collector("cases", metrics.FunctionCollector(collect))
