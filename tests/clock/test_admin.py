"""The calendar admin: every way of deleting days goes through the calendar service, so each
deletion is audited and reaches every process (the calendar version moves on)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from tests.conftest import make_user
from tongban.accounts.models import Role
from tongban.audit.models import AuditRecord
from tongban.clock import services
from tongban.clock.models import CalendarDay, CalendarVersion

pytestmark = pytest.mark.django_db


def test_a_bulk_delete_of_days_goes_through_the_service(client: Client) -> None:
    admin = make_user("bureau", Role.ADMIN, is_staff=True)
    days = [dt.date(2030, 10, 8), dt.date(2030, 10, 9)]
    for day in days:
        services.calendar_day_save(actor=admin, date=day, kind="holiday", name="国庆节")
    before = CalendarVersion.objects.get(pk=1).version
    client.force_login(admin)
    response = client.post("/admin/clock/calendarday/", {
        "action": "delete_selected", "post": "yes",
        "_selected_action": [str(d.pk) for d in CalendarDay.objects.filter(date__in=days)]})
    assert response.status_code == 302
    assert not CalendarDay.objects.filter(date__in=days).exists()
    assert sorted(AuditRecord.objects.filter(action="calendar.day_deleted")
                  .values_list("object_id", flat=True)) == ["2030-10-08", "2030-10-09"]
    assert CalendarVersion.objects.get(pk=1).version > before
