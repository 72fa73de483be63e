"""Input anyone can send that once ended as a server error is a 422 naming the field.

Each case changes nothing. Run on SQLite and PostgreSQL (which rejects NUL in text).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.test import Client

from tests.conftest import make_user
from tongban.accounts.models import ApiToken, Role, User
from tongban.audit.models import AuditRecord
from tongban.organizations.models import Hall

HUGE = "9223372036854775808"  # 2**63: one more than the largest 64-bit integer
NUL_MESSAGE = "不能含有空字符（U+0000）"
DATE_MESSAGE = "日期须在1901-01-01至2099-12-31之间"

pytestmark = pytest.mark.django_db


def fields(response: Any) -> list[tuple[str, str]]:
    return [(p["field"], p["message"]) for p in response.json()["detail"]]


def deadline(client: Client, **body: Any) -> Any:
    return client.post("/api/v1/calendar/deadline",
                       {"category": "time_limited", "limit": 20, **body},
                       content_type="application/json")


# --- the clock ------------------------------------------------------------------------------

def test_a_start_beyond_the_calendar_is_422_naming_start(client: Client) -> None:
    response = deadline(client, start="9999-12-30T10:00:00")
    assert response.status_code == 422
    assert fields(response) == [("start", DATE_MESSAGE)]


def test_a_stop_beyond_the_calendar_is_422_naming_it(client: Client) -> None:
    response = deadline(client, start="2026-03-02T10:00:00",
                        stops=[{"start": "2026-03-03T10:00:00", "end": "9999-01-01T00:00:00"}])
    assert response.status_code == 422
    assert fields(response) == [("stops.0.end", DATE_MESSAGE)]


def test_a_deadline_running_past_2099_is_422_naming_the_limit(client: Client) -> None:
    response = deadline(client, start="2099-12-20T10:00:00")
    assert response.status_code == 422
    assert fields(response) == [("limit", "到期时刻超出工作日历的范围（2099年以后）")]


def test_a_deadline_inside_2099_is_still_computed(client: Client) -> None:
    response = deadline(client, start="2099-06-01T10:00:00")
    assert response.status_code == 200
    assert response.json() == {"due": "2099-06-30T17:30:00+08:00", "provisional": True}


# --- pagination -----------------------------------------------------------------------------

@pytest.fixture
def bearer(issue_token: Callable[[User], str]) -> Callable[[str, str], dict[str, str]]:
    def headers(username: str, role: str) -> dict[str, str]:
        user = User.objects.filter(username=username).first() or make_user(username, role)
        return {"HTTP_AUTHORIZATION": f"Bearer {issue_token(user)}"}
    return headers


@pytest.mark.parametrize(("url", "field", "role"), [
    ("/api/v1/items?offset=" + HUGE, "offset", None),
    ("/api/v1/notifications?offset=" + HUGE, "offset", Role.CITIZEN),
    ("/api/v1/supervision/records?offset=" + HUGE, "offset", Role.SUPERVISOR),
    ("/api/v1/cases?page=" + HUGE, "page", Role.CITIZEN),
    ("/api/v1/inbox?page=" + HUGE, "page", Role.OFFICER),
])
def test_an_offset_beyond_64_bits_is_422_naming_it(client: Client, bearer: Any, url: str,
                                                   field: str, role: str | None) -> None:
    headers = bearer(f"user-{role}", role) if role else {}
    response = client.get(url, **headers)
    assert response.status_code == 422
    assert [name for name, _ in fields(response)] == [field]
    assert fields(response)[0][1] in {"不能大于1000000", "offset 不能大于1000000", "不能大于100000"}


# --- public figures and metrics -------------------------------------------------------------

def test_public_item_figures_ending_9999_is_422_naming_to(client: Client) -> None:
    response = client.get("/api/v1/supervision/public/items?from=2026-01-01&to=9999-12-31")
    assert response.status_code == 422
    assert fields(response) == [("to", DATE_MESSAGE)]


def test_metrics_ending_9999_is_422_naming_to(client: Client, bearer: Any) -> None:
    response = client.get("/api/v1/supervision/metrics?from=2026-01-01&to=9999-12-31",
                          **bearer("supervisor", Role.SUPERVISOR))
    assert response.status_code == 422
    assert fields(response) == [("to", DATE_MESSAGE)]


def test_hall_figures_ending_9999_is_422_naming_to(client: Client, bearer: Any,
                                                   city_hall: Hall) -> None:
    response = client.get(f"/api/v1/queues/halls/{city_hall.pk}/figures?to=9999-12-31",
                          **bearer("supervisor", Role.SUPERVISOR))
    assert response.status_code == 422
    assert fields(response) == [("to", DATE_MESSAGE)]


# --- NUL in any text ------------------------------------------------------------------------

def test_nul_in_the_token_endpoints_username_is_422_and_counts_no_failure(
        client: Client, citizen: User) -> None:
    records = AuditRecord.objects.count()
    response = client.post("/api/v1/auth/token", {"username": "citi\x00zen", "password": "x"},
                           content_type="application/json")
    assert response.status_code == 422
    assert fields(response) == [("username", NUL_MESSAGE)]
    assert not AccessAttempt.objects.exists()
    assert not ApiToken.objects.exists()
    assert AuditRecord.objects.count() == records


def test_nul_in_the_login_pages_username_is_422_naming_it(client: Client, citizen: User) -> None:
    response = client.post("/accounts/login/", {"username": "citi\x00zen", "password": "x"})
    assert response.status_code == 422
    assert "“username”不能含有空字符（U+0000）" in response.content.decode()
    assert not AccessAttempt.objects.exists()


def test_nul_in_a_nested_json_field_is_named_with_its_path(client: Client) -> None:
    response = client.post("/api/v1/calendar/deadline", json.dumps(
        {"start": "2026-03-02T10:00:00", "category": "time_limited", "limit": 3,
         "stops": [{"start": "2026-03-03\x00", "end": "2026-03-04T10:00:00"}]}),
        content_type="application/json")
    assert response.status_code == 422
    assert fields(response) == [("stops.0.start", NUL_MESSAGE)]


def test_nul_in_a_query_parameter_or_path_is_422(client: Client) -> None:
    response = client.get("/api/v1/items?q=%E7%A4%BE%00")
    assert response.status_code == 422
    assert fields(response) == [("q", NUL_MESSAGE)]
    response = client.get("/api/v1/items/6201%0001")
    assert response.status_code == 422
    assert fields(response) == [("path", NUL_MESSAGE)]


def test_nul_in_a_page_form_field_is_422(client: Client) -> None:
    response = client.get("/search/", {"q": "社保\x00"})
    assert response.status_code == 422
    assert "“q”不能含有空字符（U+0000）" in response.content.decode()


# --- anonymous writes -----------------------------------------------------------------------

def test_an_anonymous_post_is_401_not_a_csrf_403() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/api/v1/cases", {}, content_type="application/json")
    assert response.status_code == 401
    assert response.json() == {"detail": "需要登录或有效的访问令牌"}
    response = client.post("/api/v1/notifications/read-all", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.status_code == 401
    assert response.json() == {"detail": "需要登录或有效的访问令牌"}


def test_a_logged_in_session_still_needs_its_csrf_token(citizen: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(citizen)
    response = client.post("/api/v1/notifications/read-all")
    assert response.status_code == 403
    assert response.json() == {"detail": "CSRF check Failed"}


def test_the_messages_are_available_in_english(client: Client) -> None:
    response = client.post("/api/v1/auth/token", {"username": "a\x00", "password": "x"},
                           content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert fields(response) == [("username", "Must not contain the NUL character (U+0000)")]
    response = client.get("/api/v1/items?offset=" + HUGE, HTTP_ACCEPT_LANGUAGE="en")
    assert fields(response) == [("offset", "offset must not be greater than 1000000")]
    response = client.get("/api/v1/supervision/public/items?to=9999-12-31",
                          HTTP_ACCEPT_LANGUAGE="en")
    assert fields(response) == [("to", "The date must lie between 1901-01-01 and 2099-12-31")]


def test_a_digit_that_is_no_decimal_digit_in_a_case_reference_is_404(
        client: Client, bearer: Any) -> None:
    # "³" is a digit to str.isdigit() but no number to int().
    response = client.get("/api/v1/cases/%C2%B3", **bearer("citizen-x", Role.CITIZEN))
    assert response.status_code == 404
    assert response.json() == {"detail": "办件不存在，或您无权查看"}


# --- dates on pages and in list filters -------------------------------------------------------

@pytest.mark.parametrize("value", ["0001-01-01", "0001-01-01T00:00:00", "9999-12-31T23:59:59"])
def test_an_audit_log_filter_beyond_the_calendar_is_named_on_the_page(client: Client,
                                                                     value: str) -> None:
    client.force_login(make_user("supervisor", Role.SUPERVISOR))
    response = client.get("/supervision/audit/", {"since": value})
    assert response.status_code == 200
    assert DATE_MESSAGE in response.content.decode()


@pytest.mark.parametrize("path", ["/supervision/metrics/", "/queue/{hall}/figures/"])
def test_a_figures_period_beyond_the_calendar_is_named_on_the_page(client: Client, city_hall: Hall,
                                                                   path: str) -> None:
    client.force_login(make_user("supervisor", Role.SUPERVISOR))
    response = client.get(path.format(hall=city_hall.pk), {"start": "0001-01-01", "end": "9999-12-31"})
    assert response.status_code == 422
    assert DATE_MESSAGE in response.content.decode()


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00", "0001-01-01T00:00:00+08:00",
                                   "9999-12-31T23:59:59-12:00"])
def test_a_due_before_filter_beyond_the_calendar_is_422(citizen: User, issue_token: Any,
                                                        value: str) -> None:
    response = Client().get("/api/v1/cases", {"due_before": value},
                            HTTP_AUTHORIZATION=f"Bearer {issue_token(citizen)}")
    assert response.status_code == 422
    assert fields(response) == [("due_before", DATE_MESSAGE)]
