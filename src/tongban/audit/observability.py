"""The audit sealer as ``/metrics`` and ``/readyz`` see it (registered in ``AuditConfig.ready``).

- ``tongban_audit_unsealed_records``: audit records not yet sealed.
- ``tongban_audit_unsealed_age_seconds``: how long the oldest of them has waited.

Both come from ``audit.selectors.unsealed_tail()`` when the sealer provides it (a guarded
look-up: until then both read 0 and the readiness check passes with ``"available": false``).
It may return a count, a ``(count, oldest)`` pair or an object with ``count`` and
``oldest_at`` (or ``age_seconds``); ``oldest`` a datetime or an age in seconds.

:func:`register` also names the audit files that ``tongban backup`` keeps.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from tongban.core import backup, health, metrics

from . import head, selectors, signing


def _age(oldest: Any) -> float:
    if oldest is None:
        return 0.0
    if isinstance(oldest, dt.datetime):
        return max(0.0, (timezone.now() - oldest).total_seconds())
    if isinstance(oldest, dt.timedelta):
        return max(0.0, oldest.total_seconds())
    return max(0.0, float(oldest))


def unsealed() -> dict[str, Any]:
    """``{"available", "count", "age_seconds"}`` of the unsealed tail."""
    function = getattr(selectors, "unsealed_tail", None)
    if function is None:
        return {"available": False, "count": 0, "age_seconds": 0.0}
    value = function()
    if isinstance(value, int):
        count, oldest = value, None
    elif isinstance(value, tuple):
        count, oldest = value[0], value[1] if len(value) > 1 else None
    else:
        count = getattr(value, "count", 0)
        oldest = getattr(value, "oldest_at", None)
        if oldest is None:
            oldest = getattr(value, "age_seconds", None)
    count = int(count() if callable(count) else count)
    return {"available": True, "count": count,
            "age_seconds": round(_age(oldest) if count else 0.0, 3)}


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
