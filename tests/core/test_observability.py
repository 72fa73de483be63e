"""Operations: /metrics (who may scrape, what it shows), the request id on answers and logs,
the JSON log format, and /readyz (database, queue, audit sealer)."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.core.signals import request_finished
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from tests.cases.test_materials import new_case
from tests.conftest import DEMO_WORKBOOK, make_user
from tongban.accounts.models import Role
from tongban.audit.models import AuditRecord
from tongban.audit.sealing import audit_seal
from tongban.audit.services import audit_record
from tongban.cases.models import Case, DeadlineState
from tongban.core import health
from tongban.core.logs import JsonFormatter, RequestIdFilter, RequestIdMiddleware
from tongban.scheduling.models import Schedule

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh(settings: Settings) -> None:
    """No cached aggregate from another test; every enabled schedule not yet due."""
    settings.METRICS_CACHE_SECONDS = 0
    settings.READY_CACHE_SECONDS = 0
    health.forget()
    cache.clear()
    Schedule.objects.update(next_run_at=timezone.now() + dt.timedelta(hours=1))


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample of a Prometheus text exposition (labels in any order)."""
    for line in text.splitlines():
        match = re.match(r"^([a-z_]+)(?:\{(.*)\})? (\S+)$", line)
        if not match or match[1] != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match[2] or ""))
        if found == labels:
            return float(match[3])
    return None


def scrape(client: Client, **extra: Any) -> str:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


# --- who may scrape ---------------------------------------------------------------------------

def test_metrics_answer_localhost_and_refuse_other_addresses(client: Client) -> None:
    scrape(client)  # the test client comes from 127.0.0.1
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403


def test_metrics_configured_network(client: Client, settings: Settings) -> None:
    settings.METRICS_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    assert client.get("/metrics", REMOTE_ADDR="10.20.3.4").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


def test_behind_a_proxy_the_client_address_counts_not_the_proxys(client: Client,
                                                                  settings: Settings) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    # nginx on the same host connects from 127.0.0.1 on behalf of an outside client.
    outside = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert outside.status_code == 403


def test_metrics_bearer_token(client: Client, settings: Settings) -> None:
    settings.METRICS_TOKEN = "s3cret-token"
    away = "203.0.113.9"
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token",
                      REMOTE_ADDR=away).status_code == 200
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong", REMOTE_ADDR=away).status_code == 403
    settings.METRICS_TOKEN = ""  # no token configured: no token opens it
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ", REMOTE_ADDR=away).status_code == 403


# --- what it shows ----------------------------------------------------------------------------

def test_requests_are_counted_by_route_name_and_status(client: Client) -> None:
    before = sample(scrape(client), "tongban_http_requests_total", route="healthz", method="GET",
                    status="200") or 0
    for _ in range(3):
        client.get("/healthz")
    client.get("/no/such/page/42")
    text = scrape(client)
    assert sample(text, "tongban_http_requests_total", route="healthz", method="GET",
                  status="200") == before + 3
    # Unmatched paths share one label value: no raw path becomes a label.
    assert sample(text, "tongban_http_requests_total", route="<unmatched>", method="GET",
                  status="404")
    assert "/no/such/page" not in text
    assert sample(text, "tongban_http_request_duration_seconds_count", route="healthz",
                  method="GET") is not None
    assert 'le="0.1"' in text


def test_queue_schedule_and_audit_gauges(client: Client) -> None:
    from django_tasks_db.models import DBTaskResult, get_date_max

    old = DBTaskResult.objects.create(args_kwargs={"args": [], "kwargs": {}}, task_path="x.y",
                                      backend_name="default", run_after=get_date_max())
    DBTaskResult.objects.filter(pk=old.pk).update(enqueued_at=timezone.now() - dt.timedelta(minutes=5))
    DBTaskResult.objects.create(args_kwargs={"args": [], "kwargs": {}}, task_path="x.y",
                                backend_name="default",
                                run_after=timezone.now() + dt.timedelta(hours=1))
    Schedule.objects.filter(pk=Schedule.objects.first().pk).update(  # type: ignore[union-attr]
        next_run_at=timezone.now() - dt.timedelta(seconds=90))
    text = scrape(client)
    assert sample(text, "tongban_queue_tasks", status="ready") == 1
    assert sample(text, "tongban_queue_tasks", status="scheduled") == 1
    assert sample(text, "tongban_queue_tasks", status="running") == 0
    assert 300 <= (sample(text, "tongban_queue_oldest_task_age_seconds") or 0) < 3600
    assert 90 <= (sample(text, "tongban_schedule_lag_seconds") or 0) < 3600
    assert sample(text, "tongban_audit_unsealed_records") is not None


def test_cases_by_status_and_deadline_mark(client: Client, settings: Settings) -> None:
    call_command("import_catalog", str(DEMO_WORKBOOK), verbosity=0)
    citizen = make_user("zhangsan", Role.CITIZEN, real_name="张三", id_number="620102199003077770")
    new_case(citizen)
    new_case(citizen)
    Case.objects.filter(pk=new_case(citizen).pk).update(deadline_state=DeadlineState.RED)
    text = scrape(client)
    assert sample(text, "tongban_cases", status="draft", deadline="green") == 2
    assert sample(text, "tongban_cases", status="draft", deadline="red") == 1

    # Kept for METRICS_CACHE_SECONDS: a case more shows only after the cache time.
    settings.METRICS_CACHE_SECONDS = 30
    scrape(client)
    new_case(citizen)
    assert sample(scrape(client), "tongban_cases", status="draft", deadline="green") == 2
    cache.clear()
    assert sample(scrape(client), "tongban_cases", status="draft", deadline="green") == 3


# --- request id and logs ----------------------------------------------------------------------

def test_each_answer_carries_a_request_id(client: Client) -> None:
    first, second = client.get("/healthz"), client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", first["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]
    assert client.get("/healthz", HTTP_X_REQUEST_ID="nginx-abc.123")["X-Request-ID"] == "nginx-abc.123"
    # Anything else a client sends is replaced (it would end up in logs and headers).
    forged = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nInjected: 1")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", forged)


def test_every_log_record_of_a_request_carries_its_id_as_json() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tongban.test_observability")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    def view(request: HttpRequest) -> HttpResponse:
        logger.info("working on %s", "张三的办件", extra={"case": "BJ-1"})
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("it failed")
        return HttpResponse("ok")

    try:
        request = HttpRequest()
        request.META["HTTP_X_REQUEST_ID"] = "req-42"
        response = RequestIdMiddleware(view)(request)
        logger.warning("Service Unavailable: /x")  # Django logs a 5xx after the middleware
        request_finished.send(sender=None)
        logger.info("after the request")
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert response["X-Request-ID"] == "req-42"
    assert [(entry["message"], entry["request_id"]) for entry in lines] == [
        ("working on 张三的办件", "req-42"), ("it failed", "req-42"),
        ("Service Unavailable: /x", "req-42"), ("after the request", "-")]
    assert lines[0]["case"] == "BJ-1" and lines[0]["level"] == "INFO"
    assert lines[0]["logger"] == "tongban.test_observability"
    assert "ValueError: boom" in lines[1]["exception"]
    assert lines[0]["time"].endswith("+00:00")


def test_log_format_setting_picks_the_formatter() -> None:
    from django.conf import settings

    logging_config: dict[str, Any] = settings.LOGGING
    handler = logging_config["handlers"]["console"]
    assert handler["formatter"] == settings.LOG_FORMAT
    assert handler["filters"] == ["request_id"]


# --- readiness --------------------------------------------------------------------------------

def test_ready_when_database_queue_and_sealer_are_fine(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) >= {"database", "queue", "audit"}
    assert all(check["ok"] for check in body["checks"].values())


def test_not_ready_when_the_oldest_task_waited_too_long(client: Client, settings: Settings,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    from django_tasks_db.models import DBTaskResult, get_date_max

    settings.READY_QUEUE_MAX_AGE_SECONDS = 60
    task = DBTaskResult.objects.create(args_kwargs={"args": [], "kwargs": {}}, task_path="x.y",
                                       backend_name="default", run_after=get_date_max())
    DBTaskResult.objects.filter(pk=task.pk).update(enqueued_at=timezone.now() - dt.timedelta(minutes=2))
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["queue"]["ok"] is False and body["checks"]["database"]["ok"] is True
    assert body["checks"]["queue"]["oldest_age_seconds"] >= 120
    # One warning naming the check, not an ERROR "Service Unavailable" for every probe.
    assert [(r.levelname, r.getMessage()) for r in caplog.records
            if r.name in {"tongban.core.views", "django.request"}] == [("WARNING", "not ready: queue")]


def test_not_ready_when_the_worker_fires_no_schedule(client: Client, settings: Settings) -> None:
    settings.READY_SCHEDULE_MAX_LAG_SECONDS = 60
    Schedule.objects.update(next_run_at=timezone.now() - dt.timedelta(minutes=5))
    assert client.get("/readyz").status_code == 503
    settings.TASKS_BACKEND = "immediate"  # no worker by design: schedules are not its heartbeat
    assert client.get("/readyz").status_code == 200


def test_audit_sealer_seen_by_metrics_and_readiness(client: Client, settings: Settings) -> None:
    """Records the sealer has not sealed show in the gauges; a tail older than the limit (the
    sealer has stopped) makes the node not ready until it is sealed."""
    settings.READY_AUDIT_MAX_UNSEALED_SECONDS = 600
    settings.METRICS_CACHE_SECONDS = 0
    audit_seal()
    with transaction.atomic():
        for n in range(7):
            audit_record(actor=None, action="case.note", object_type="case", object_id=str(n))
    AuditRecord.objects.filter(hash__isnull=True).update(
        at=timezone.now() - dt.timedelta(minutes=30))
    text = scrape(client)
    assert sample(text, "tongban_audit_unsealed_records") == 7
    assert (sample(text, "tongban_audit_unsealed_age_seconds") or 0) >= 1800
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["audit"] == {"ok": False, "count": 7,
                                                  "age_seconds": pytest.approx(1800, abs=60)}
    audit_seal()
    assert client.get("/readyz").status_code == 200


def test_readiness_is_kept_a_moment_per_process(client: Client, settings: Settings,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Probes inside READY_CACHE_SECONDS get the kept answer: the checks ran once."""
    settings.READY_CACHE_SECONDS = 2
    runs: list[int] = []
    now = [1000.0]
    monkeypatch.setattr(health, "_clock", lambda: now[0])

    def counting() -> tuple[bool, dict[str, Any]]:
        runs.append(1)
        return True, {}

    monkeypatch.setitem(health._checks, "counting", counting)
    for _i in range(5):
        assert client.get("/readyz").status_code == 200
    assert len(runs) == 1
    now[0] += 2.5
    assert client.get("/readyz").status_code == 200
    assert len(runs) == 2


def test_only_operators_read_which_check_failed(client: Client, settings: Settings) -> None:
    settings.METRICS_ALLOWED_NETWORKS = ["10.9.0.0/16"]
    settings.METRICS_TOKEN = "scrape-secret"
    settings.READY_SCHEDULE_MAX_LAG_SECONDS = 60
    Schedule.objects.update(next_run_at=timezone.now() - dt.timedelta(minutes=5))
    outside = client.get("/readyz", REMOTE_ADDR="203.0.113.9")
    assert outside.status_code == 503 and outside.json() == {"status": "not_ready"}
    monitor = client.get("/readyz", REMOTE_ADDR="10.9.1.2")
    assert monitor.status_code == 503 and monitor.json()["checks"]["queue"]["ok"] is False
    with_token = client.get("/readyz", REMOTE_ADDR="203.0.113.9",
                            HTTP_AUTHORIZATION="Bearer scrape-secret")
    assert with_token.json()["checks"]["database"]["ok"] is True
    Schedule.objects.update(next_run_at=timezone.now() + dt.timedelta(hours=1))
    assert client.get("/readyz", REMOTE_ADDR="203.0.113.9").json() == {"status": "ready"}
