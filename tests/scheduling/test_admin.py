"""The bureau administrator changes a schedule's timing in the admin; the change is audited."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import make_user
from tongban.accounts.models import Role, User
from tongban.audit.models import AuditRecord
from tongban.scheduling.models import Schedule

pytestmark = pytest.mark.django_db


def form(schedule: Schedule, **changes: str) -> dict[str, str]:
    data = {"kwargs": "{}", "interval_seconds": str(schedule.interval_seconds or ""),
            "daily_at": schedule.daily_at.isoformat() if schedule.daily_at else "",
            "next_run_at_0": "2026-03-02", "next_run_at_1": "09:00:00", "enabled": "on"}
    data.update(changes)
    return {k: v for k, v in data.items() if v != "off"}


def test_the_administrator_slows_the_sweep_and_it_is_audited(client: Client, bureau_admin: User) -> None:
    sweep = Schedule.objects.get(name="sweep_deadlines")
    client.force_login(bureau_admin)
    url = f"/admin/scheduling/schedule/{sweep.pk}/change/"
    assert client.get(url).status_code == 200
    response = client.post(url, form(sweep, interval_seconds="600"))
    assert response.status_code == 302
    sweep.refresh_from_db()
    assert (sweep.interval_seconds, sweep.task) == (600, "tongban.cases.tasks.sweep_deadlines")
    record = AuditRecord.objects.get(action="schedule.saved")
    assert (record.object_id, record.actor_id, record.detail["interval_seconds"]) == (
        "sweep_deadlines", bureau_admin.pk, 600)


def test_both_an_interval_and_a_daily_time_is_refused(client: Client, bureau_admin: User) -> None:
    sweep = Schedule.objects.get(name="sweep_deadlines")
    client.force_login(bureau_admin)
    response = client.post(f"/admin/scheduling/schedule/{sweep.pk}/change/",
                           form(sweep, daily_at="03:00"))
    assert response.status_code == 200
    assert "须填写间隔或每日运行时刻，二者选一" in response.content.decode()
    sweep.refresh_from_db()
    assert (sweep.interval_seconds, sweep.daily_at) == (300, None)
    assert not AuditRecord.objects.filter(action="schedule.saved").exists()


def test_an_officer_cannot_open_the_schedules(client: Client) -> None:
    officer = make_user("officer-x", Role.OFFICER, is_staff=True)
    client.force_login(officer)
    assert client.get("/admin/scheduling/schedule/").status_code == 403


def test_a_bulk_delete_is_audited_like_a_single_one(client: Client, bureau_admin: User) -> None:
    chosen = list(Schedule.objects.filter(name__in=["sweep_deadlines", "sweep_supervision"])
                  .order_by("name"))
    client.force_login(bureau_admin)
    response = client.post("/admin/scheduling/schedule/", {
        "action": "delete_selected", "post": "yes",
        "_selected_action": [str(s.pk) for s in chosen]})
    assert response.status_code == 302
    assert not Schedule.objects.filter(pk__in=[s.pk for s in chosen]).exists()
    assert sorted(AuditRecord.objects.filter(action="schedule.deleted")
                  .values_list("object_id", "actor_id")) == [
        ("sweep_deadlines", bureau_admin.pk), ("sweep_supervision", bureau_admin.pk)]
    # Audited once, by the schedule's own records: the site adds nothing when a record exists.
    assert not AuditRecord.objects.filter(action__startswith="admin.").exists()
