"""Prometheus metrics (prometheus-client), served at ``/metrics``.

Two kinds:

- Per request, counted in the process that answers (``MetricsMiddleware``):
  ``tongban_http_requests_total{route,method,status}`` and the histogram
  ``tongban_http_request_duration_seconds{route,method}``. ``route`` is the URL pattern's name
  (``cases:detail``), never the raw path, so the label set stays small. ``tongban serve`` runs
  several granian worker processes: it sets ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's
  multiprocess mode) so that each worker writes its counts to a file there and any worker's
  ``/metrics`` adds up all of them (docs/operations.md).
- Read from the database when scraped, the same for every process: the apps register them
  (:func:`register_collector`) — the queue (``scheduling``), the cases by state and deadline
  mark (``cases``), the audit sealer (``audit``) — a registration instead of an import, as the
  floors require. :func:`cached` keeps each aggregate ``METRICS_CACHE_SECONDS`` in the cache, so
  frequent scrapes do not repeat a full count.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

UNMATCHED = "<unmatched>"  # no URL pattern matched (404s): one label value for them all

REQUESTS = Counter("tongban_http_requests", "HTTP requests answered, by route (URL pattern "
                   "name), method and status", ["route", "method", "status"])
LATENCY = Histogram("tongban_http_request_duration_seconds", "Time to answer an HTTP request, "
                    "by route (URL pattern name) and method", ["route", "method"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))


def route_of(request: HttpRequest) -> str:
    """The URL pattern's name (namespaced, e.g. ``cases:detail``), or its route when unnamed."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNMATCHED
    return match.view_name or match.route or UNMATCHED


class MetricsMiddleware:
    """Counts each answered request and its duration by route, method and status."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        route = route_of(request)
        method = request.method if request.method in _METHODS else "other"
        REQUESTS.labels(route, method, str(response.status_code)).inc()
        LATENCY.labels(route, method).observe(time.perf_counter() - started)
        return response


_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

# --- collectors registered by the apps ----------------------------------------------------------

_collectors: dict[str, Collector] = {}


def register_collector(name: str, collector: Collector) -> None:
    """Add a collector whose metrics every scrape reads (once per name: apps may be readied
    more than once in tests)."""
    _collectors[name] = collector


class FunctionCollector(Collector):
    """A collector from a function returning metric families (prometheus-client's core types)."""

    def __init__(self, function: Callable[[], Iterable[Metric]]) -> None:
        self.function = function

    def collect(self) -> Iterator[Metric]:
        yield from self.function()


T = TypeVar("T")


def cached(key: str, compute: Callable[[], T], seconds: float | None = None) -> T:
    """``compute()``, kept ``seconds`` (default ``METRICS_CACHE_SECONDS``) in the default cache
    (shared by the processes when the cache is): a scrape every few seconds does not repeat an
    aggregate over every case."""
    ttl = settings.METRICS_CACHE_SECONDS if seconds is None else seconds
    if ttl <= 0:
        return compute()
    full = f"tongban:metrics:{key}"
    value = cache.get(full)
    if value is None:
        value = compute()
        cache.set(full, value, ttl)
    return value


class _RequestMetrics(Collector):
    """This process's request metrics (outside multiprocess mode)."""

    def collect(self) -> Iterator[Metric]:
        yield from REQUESTS.collect()
        yield from LATENCY.collect()


class _Registered(Collector):
    """The apps' collectors; one that fails (its database away) is left out of that scrape
    and logged, and the others are still served."""

    def collect(self) -> Iterator[Metric]:
        for name, collector in list(_collectors.items()):
            try:
                families = list(collector.collect())
            except Exception:  # a scrape must still show the request metrics
                log.exception("metrics collector %s failed", name)
                continue
            yield from families


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def exposition() -> tuple[bytes, str]:
    """The text of one scrape and its content type."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_RequestMetrics())
    registry.register(_Registered())
    return generate_latest(registry), CONTENT_TYPE_LATEST


def gauge_value(name: str, labels: dict[str, str] | None = None) -> Any:
    """A value of a registered gauge as a scrape would show it (for tests and the readiness)."""
    for collector in list(_collectors.values()):
        for metric in collector.collect():
            for sample in metric.samples:
                if sample.name == name and (labels is None or sample.labels == labels):
                    return sample.value
    return None
