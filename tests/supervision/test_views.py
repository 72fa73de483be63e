"""The supervision pages and API: who may open them, and what they show."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.cases.conftest import TIME_LIMITED, ApiClient, item
from tongban.accounts.models import User
from tongban.accounts.permissions import SYSTEM
from tongban.cases.models import Case
from tongban.supervision import services
from tongban.supervision.models import Kind, State, SupervisionRecord

pytestmark = pytest.mark.django_db


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def make_case(*, code: str = TIME_LIMITED, overdue: bool, status: str = "accepted") -> Case:
    it = item(code)
    assert it.current is not None
    now = timezone.now()
    return Case.objects.create(
        item=it, item_version=it.current, department=it.department, channel="online",
        status=status, applicant_kind="natural_person", applicant_name="张三",
        applicant_id_number="620102199003077770", number=f"6201002026{Case.objects.count():010d}",
        accepted_at=now - dt.timedelta(days=20),
        due_at=now - dt.timedelta(days=1) if overdue else now + dt.timedelta(days=60))


@pytest.fixture
def world(overseers: dict[str, User]) -> dict[str, Any]:
    red = make_case(overdue=True)
    green = make_case(overdue=False)
    record = services.supervision_record_open(
        kind=Kind.RED_CASE, case=red, department=red.department, person=overseers["officer"],
        detail="办件超期未办结", actor=SYSTEM)
    return {"people": overseers, "red": red, "green": green, "record": record}


def test_dashboard_for_the_supervisor(world: dict[str, Any]) -> None:
    response = client_for(world["people"]["supervisor"]).get("/supervision/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>电子监察</h1>" in html
    assert "兰州市市场监督管理局" in html
    assert 'id="sv-trend-data"' in html and "vendor/echarts.min.js" in html
    board = response.context["total"]
    assert (board.states["red"], board.states["green"], board.states["yellow"]) == (1, 1, 0)
    assert board.statuses["in_progress"] == 2


def test_drill_down_lists_the_red_case(world: dict[str, Any]) -> None:
    department = world["red"].department_id
    response = client_for(world["people"]["supervisor"]).get(
        f"/supervision/cases/?department={department}&state=red")
    assert response.status_code == 200
    assert [c.pk for c, _mark in response.context["rows"]] == [world["red"].pk]
    assert world["red"].number in response.content.decode()


def test_head_sees_own_department_only_and_officer_is_refused(world: dict[str, Any]) -> None:
    people = world["people"]
    mine = client_for(people["head"]).get("/supervision/")
    assert mine.status_code == 200 and mine.context["total"].states["red"] == 1
    other = client_for(people["hr_head"]).get("/supervision/")
    assert other.status_code == 200 and other.context["total"].states["red"] == 0
    assert client_for(people["officer"]).get("/supervision/").status_code == 403
    assert client_for(people["citizen"]).get("/supervision/").status_code == 403
    anonymous = client_for(None).get("/supervision/")
    assert anonymous.status_code == 302 and "/accounts/login" in anonymous["Location"]


def test_records_page_and_answering(world: dict[str, Any]) -> None:
    people, record = world["people"], world["record"]
    officer = client_for(people["officer"])
    listing = officer.get("/supervision/records/")
    assert listing.status_code == 200 and "办件红牌超期" in listing.content.decode()
    # Someone from another department gets 404 and changes nothing.
    assert client_for(people["hr_head"]).post(
        f"/supervision/records/{record.pk}/", {"op": "acknowledge"}).status_code == 404
    assert client_for(people["hr_head"]).get("/supervision/records/").context["page"].paginator.count == 0
    response = officer.post(f"/supervision/records/{record.pk}/",
                            {"op": "explain", "explain-explanation": ""})
    assert response.status_code == 422 and "须填写情况说明" in response.content.decode()
    record.refresh_from_db()
    assert record.state == State.OPEN
    response = officer.post(f"/supervision/records/{record.pk}/",
                            {"op": "explain", "explain-explanation": "等待专家评审结果"})
    assert response.status_code == 302
    # The officer may not close it; the supervisor may.
    assert officer.post(f"/supervision/records/{record.pk}/",
                        {"op": "close", "close-note": "结"}).status_code == 403
    supervisor = client_for(people["supervisor"])
    assert supervisor.post(f"/supervision/records/{record.pk}/",
                           {"op": "close", "close-note": "已核实"}).status_code == 302
    record.refresh_from_db()
    assert (record.state, record.explanation, record.close_note) == (
        State.CLOSED, "等待专家评审结果", "已核实")


def test_metrics_page_shows_formulas(world: dict[str, Any]) -> None:
    response = client_for(world["people"]["supervisor"]).get(
        "/supervision/metrics/?group=item&start=2026-01-01&end=2026-12-31")
    assert response.status_code == 200
    html = response.content.decode()
    assert "即收即办事项办结件数 ÷ 办结件数" in html and "Σ(法定时限 − 承诺时限) ÷ Σ法定时限" in html
    bad = client_for(world["people"]["supervisor"]).get(
        "/supervision/metrics/?start=2026-03-01&end=2026-02-01")
    assert bad.status_code == 422 and "结束日期不能早于开始日期" in bad.content.decode()


def test_public_item_page_is_public(world: dict[str, Any]) -> None:
    response = client_for(None).get("/supervision/public/items/?start=2026-01-01&end=2026-12-31")
    assert response.status_code == 200
    html = response.content.decode()
    assert "事项办理情况公示" in html and "食品经营许可（新办）" in html and "平均实际用时" in html


def test_api(world: dict[str, Any]) -> None:
    people = world["people"]
    api = ApiClient(people["supervisor"].username)
    metrics = api.get("/supervision/metrics", {"group": "division", "from": "2026-01-01",
                                               "to": "2026-12-31"})
    assert metrics.status_code == 200
    body = metrics.json()
    assert body["group"] == "division" and body["total"]["name"] == "合计"
    assert {f["key"] for f in body["total"]["figures"]} >= {"on_the_spot_rate", "good_rate"}
    assert api.get("/supervision/metrics", {"group": "nonsense"}).status_code == 422
    trend = api.get("/supervision/trend", {"weeks": 4}).json()
    assert len(trend["weeks"]) == 4 and sum(trend["records"]) == 1
    board = api.get("/supervision/board").json()
    assert board["total"]["states"]["red"] == 1
    records = api.get("/supervision/records").json()
    assert [r["kind"] for r in records] == ["red_case"]
    # An officer may not read the figures.
    assert ApiClient(people["officer"].username).get("/supervision/metrics").status_code == 403
    public = Client().get("/api/v1/supervision/public/items")
    assert public.status_code == 200 and any(r["name"] == "食品经营许可（新办）" for r in public.json())
    assert SupervisionRecord.objects.count() == 1
