"""The public deadline endpoint and the calendar the platform keeps in its database."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from tests.conftest import make_user
from tongban.accounts.models import Role
from tongban.audit.models import AuditRecord
from tongban.clock import selectors, services
from tongban.clock.models import CalendarDay, CalendarYear
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.organizations.models import Division, Hall, OfficePeriod

pytestmark = pytest.mark.django_db

URL = "/api/v1/calendar/deadline"


def post(client: Client, **body: Any) -> Any:
    return client.post(URL, body, content_type="application/json")


@pytest.fixture(autouse=True)
def _fresh_calendar() -> None:
    selectors.forget_calendar()


def test_seeded_calendar_has_the_official_2025_and_2026_schedules() -> None:
    makeup = set(CalendarDay.objects.filter(kind="makeup_workday", date__year=2026)
                 .values_list("date", flat=True))
    assert makeup == {dt.date(2026, 1, 4), dt.date(2026, 2, 14), dt.date(2026, 2, 28),
                      dt.date(2026, 5, 9), dt.date(2026, 9, 20), dt.date(2026, 10, 10)}
    assert CalendarDay.objects.get(date=dt.date(2026, 2, 17)).name == "春节"
    assert set(CalendarYear.objects.values_list("year", flat=True)) == set(range(2004, 2027))


def test_deadline_endpoint_counts_working_days_across_national_day(client: Client) -> None:
    response = post(client, start="2025-09-30T10:00:00+08:00", category="time_limited", limit=5)
    assert response.status_code == 200
    assert response.json() == {"due": "2025-10-14T17:30:00+08:00", "provisional": False}


def test_deadline_endpoint_answers_in_shanghai_time_for_utc_input(client: Client) -> None:
    response = post(client, start="2026-03-10T07:00:00Z", category="same_day")
    assert response.json() == {"due": "2026-03-10T17:30:00+08:00", "provisional": False}


def test_deadline_endpoint_applies_stops_and_extension(client: Client) -> None:
    response = post(client, start="2026-03-02T10:00:00+08:00", category="time_limited", limit=3,
                    stops=[{"start": "2026-03-03T14:00:00+08:00", "end": "2026-03-04T10:00:00+08:00"}],
                    extension_working_days=2)
    # 3 working days → Thu 03-05 17:30; +4.5 h of business time → Fri 03-06 15:00; +2 → Tue 03-10.
    assert response.json() == {"due": "2026-03-10T17:30:00+08:00", "provisional": False}


def test_deadline_endpoint_marks_a_year_without_schedule_provisional(client: Client) -> None:
    response = post(client, start="2026-12-30T10:00:00+08:00", category="proxy", limit=2)
    assert response.json() == {"due": "2027-01-04T17:30:00+08:00", "provisional": True}


def test_deadline_endpoint_natural_days(client: Client) -> None:
    response = post(client, start="2025-09-25T10:00:00+08:00", category="time_limited", limit=7,
                    unit="natural_days")
    assert response.json()["due"] == "2025-10-09T17:30:00+08:00"


def test_deadline_endpoint_uses_the_halls_office_hours(client: Client) -> None:
    hall = Hall.objects.create(name="榆中县政务服务中心", division=Division.objects.get(code="620123"))
    OfficePeriod.objects.create(hall=hall, starts=dt.time(8, 30), ends=dt.time(12, 0))
    OfficePeriod.objects.create(hall=hall, starts=dt.time(14, 30), ends=dt.time(18, 0))
    response = post(client, start="2026-03-10T10:00:00+08:00", category="time_limited", limit=1,
                    hall=hall.pk)
    assert response.json()["due"] == "2026-03-11T18:00:00+08:00"


@pytest.mark.parametrize(("body", "field"), [
    ({"category": "time_limited", "limit": 3}, "start"),
    ({"start": "not a date", "category": "time_limited", "limit": 3}, "start"),
    ({"start": "2026-03-02T10:00:00+08:00", "category": "soon"}, "category"),
    ({"start": "2026-03-02T10:00:00+08:00", "category": "time_limited", "limit": -1}, "limit"),
    ({"start": "2026-03-02T10:00:00+08:00", "category": "time_limited", "limit": 3,
      "unit": "hours"}, "unit"),
    ({"start": "2026-03-02T10:00:00+08:00", "category": "time_limited", "limit": 3,
      "extension_working_days": -2}, "extension_working_days"),
])
def test_bad_input_is_422_naming_the_field(client: Client, body: dict[str, Any], field: str) -> None:
    response = post(client, **body)
    assert response.status_code == 422
    locations = [error["loc"] for error in response.json()["detail"]]
    assert any(field in loc for loc in locations), locations


def test_stop_ending_before_it_starts_is_refused(client: Client) -> None:
    response = post(client, start="2026-03-02T10:00:00+08:00", category="time_limited", limit=3,
                    stops=[{"start": "2026-03-04T10:00:00+08:00", "end": "2026-03-03T10:00:00+08:00"}])
    assert response.status_code == 422
    assert "stops" in response.json()["detail"][0]["loc"]


def test_time_limited_without_limit_is_refused(client: Client) -> None:
    response = post(client, start="2026-03-02T10:00:00+08:00", category="time_limited")
    assert response.status_code == 422
    assert "limit" in response.json()["detail"][0]["msg"]


def test_unknown_hall_is_refused(client: Client) -> None:
    response = post(client, start="2026-03-02T10:00:00+08:00", category="same_day", hall=999999)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "hall"


# --- editing the calendar -----------------------------------------------------------------------

CSV_2027 = """date,kind,name
2027-01-01,holiday,元旦
2027-02-05,holiday,春节
2027-02-06,holiday,春节
2027-02-07,holiday,春节
2027-02-08,holiday,春节
2027-02-09,holiday,春节
2027-02-10,holiday,春节
2027-02-11,holiday,春节
2027-02-13,makeup_workday,春节
"""


def test_loading_next_years_schedule_makes_its_deadlines_official(client: Client, tmp_path: Any) -> None:
    before = post(client, start="2027-02-04T10:00:00+08:00", category="time_limited", limit=1).json()
    assert before == {"due": "2027-02-09T17:30:00+08:00", "provisional": True}
    path = tmp_path / "2027.csv"
    path.write_text(CSV_2027, encoding="utf-8")
    call_command("import_calendar", str(path))
    after = post(client, start="2027-02-04T10:00:00+08:00", category="time_limited", limit=1).json()
    assert after == {"due": "2027-02-12T17:30:00+08:00", "provisional": False}
    assert AuditRecord.objects.filter(action="calendar.imported", object_id="2027").count() == 1


def test_a_bad_calendar_file_changes_nothing(tmp_path: Any) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("date,kind,name\n2027-01-01,holiday,元旦\n2027-13-01,holiday,x\n"
                    "2027-02-10,makeup_workday,周三\n", encoding="utf-8")
    days, audits = CalendarDay.objects.count(), AuditRecord.objects.count()
    with pytest.raises(CommandError):
        call_command("import_calendar", str(path))
    assert (CalendarDay.objects.count(), AuditRecord.objects.count()) == (days, audits)
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_only_the_bureau_admin_edits_the_calendar() -> None:
    officer = make_user("officer1", Role.OFFICER)
    admin = make_user("bureau1", Role.ADMIN)
    with pytest.raises(AccessDenied):
        services.calendar_day_save(actor=officer, date=dt.date(2026, 12, 31), kind="holiday")
    assert not CalendarDay.objects.filter(date=dt.date(2026, 12, 31)).exists()
    services.calendar_day_save(actor=admin, date=dt.date(2026, 12, 31), kind="holiday", name="临时")
    record = AuditRecord.objects.get(action="calendar.day_saved")
    assert (record.object_id, record.actor_id) == ("2026-12-31", admin.pk)
    assert not selectors.work_calendar().is_working_day(dt.date(2026, 12, 31))
    with pytest.raises(RuleViolation):
        services.calendar_day_save(actor=admin, date=dt.date(2026, 12, 30), kind="makeup_workday")


def test_administrators_are_warned_from_october_about_a_missing_year() -> None:
    assert selectors.years_missing_schedule(dt.date(2026, 9, 30)) == []
    assert selectors.years_missing_schedule(dt.date(2026, 10, 1)) == [2027]
    assert selectors.years_missing_schedule(dt.date(2027, 3, 1)) == [2027]
