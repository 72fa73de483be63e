import logging
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.i18n import set_language as django_set_language

from . import health, metrics
from .access import operator_allowed, public, require_operator

log = logging.getLogger(__name__)


@public
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for load balancers and the start script."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception:  # any database failure means "not healthy", whatever its type
        database = "unavailable"
    status = 200 if database == "ok" else 503
    return JsonResponse({"status": "ok" if status == 200 else "error", "database": database},
                        status=status)


@public
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database, the queue and the audit sealer (``core.health``); 200 when all
    pass, 503 otherwise. The answer is kept a couple of seconds per process
    (``READY_CACHE_SECONDS``); which check failed, and its figures, only for operators (the
    networks and token of ``/metrics``)."""
    ready, checks, fresh = health.cached_readiness()
    body: dict[str, Any] = {"status": "ready" if ready else "not_ready"}
    if operator_allowed(request):
        body["checks"] = checks
    response = JsonResponse(body, status=200 if ready else 503)
    if not ready:
        if fresh:
            # A probe every few seconds would otherwise log "Service Unavailable" as an ERROR
            # each time (django.request); one warning naming the failing checks says more.
            log.warning("not ready: %s", ", ".join(n for n, c in checks.items() if not c["ok"]))
        response._has_been_logged = True  # type: ignore[attr-defined]  # Django's own flag
    return response


@require_operator
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics (``core.metrics``), for allowed networks or the metrics token."""
    body, content_type = metrics.exposition()
    return HttpResponse(body, content_type=content_type)


@public
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch between 简体中文 and English (Django's view, declared public)."""
    return django_set_language(request)
