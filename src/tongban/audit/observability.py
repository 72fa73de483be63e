"""The audit sealer as ``/metrics`` and ``/readyz`` see it (registered in ``AuditConfig.ready``).

- ``tongban_audit_unsealed_records``: audit records not yet sealed.
- ``tongban_audit_unsealed_age_seconds``: how long the oldest of them has waited.

Both come from ``audit.selectors.unsealed_tail()``; ``/readyz`` fails when the oldest has
waited longer than ``READY_AUDIT_MAX_UNSEALED_SECONDS`` (the sealer has stopped).

:func:`register` also names the audit files that ``tongban backup`` keeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from tongban.core import backup, health, metrics

from . import head, selectors, signing


def unsealed() -> dict[str, Any]:
    """``{"count", "age_seconds"}`` of the unsealed tail (``selectors.unsealed_tail``)."""
    count, age = selectors.unsealed_tail()
    return {"count": count, "age_seconds": round(age or 0.0, 3)}


def collect() -> Iterator[Metric]:
    state = metrics.cached("audit", unsealed, seconds=min(5.0, settings.METRICS_CACHE_SECONDS))
    yield GaugeMetricFamily("tongban_audit_unsealed_records", "Audit records not yet sealed",
                            value=state["count"])
    yield GaugeMetricFamily("tongban_audit_unsealed_age_seconds",
                            "Seconds the oldest unsealed audit record has waited (0: none)",
                            value=state["age_seconds"])


def sealer_check() -> tuple[bool, dict[str, Any]]:
    state = unsealed()
    return state["age_seconds"] <= settings.READY_AUDIT_MAX_UNSEALED_SECONDS, state


def register() -> None:
    """The audit app's part of operations: its gauges, its readiness check, and its files
    outside the database in ``tongban backup`` (the signing key, the chain-head file)."""
    metrics.register_collector("audit", metrics.FunctionCollector(collect))
    health.register_check("audit", sealer_check)
    backup.register_file("audit-signing.key", signing.key_path)
    backup.register_file("audit-head.log", head.head_path)
