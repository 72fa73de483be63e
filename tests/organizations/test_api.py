"""Public reads: divisions, departments and halls (with windows and office periods)."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest
from django.test import Client

from tongban.organizations.models import Department, Division, Hall, OfficePeriod, Window

from ..conftest import make_department


@pytest.mark.django_db
def test_divisions_are_seeded_and_listed(client: Client) -> None:
    rows = client.get("/api/v1/divisions").json()
    by_code = {r["code"]: r for r in rows}
    assert by_code["620100"] == {"code": "620100", "name": "兰州市", "level": "city", "parent_code": "620000"}
    assert by_code["620102001000"] == {"code": "620102001000", "name": "皋兰路街道", "level": "township",
                                       "parent_code": "620102"}
    assert len(rows) == 16


@pytest.mark.django_db
def test_departments_filtered_by_division_include_sub_divisions(client: Client,
                                                                city_department: Department) -> None:
    district = make_department("城关区民政局", serial=2, division_code="620102", level="county",
                               parent=city_department)
    everything = client.get("/api/v1/departments").json()
    assert [d["name"] for d in everything] == ["兰州市市场监督管理局", "城关区民政局"]
    assert [d["name"] for d in client.get("/api/v1/departments?division=620102").json()] == ["城关区民政局"]
    one = client.get(f"/api/v1/departments/{district.pk}").json()
    assert one == {"id": district.pk, "name": "城关区民政局", "uscc": district.uscc,
                   "division_code": "620102", "division_name": "城关区", "level": "county",
                   "parent": "兰州市市场监督管理局", "consultation_phone": "", "complaint_phone": "",
                   "address": ""}
    assert client.get("/api/v1/departments/999999").status_code == 404


@pytest.mark.django_db
def test_halls_list_windows_and_office_periods(client: Client, city_hall: Hall,
                                               city_department: Department) -> None:
    OfficePeriod.objects.create(hall=city_hall, starts=time(13, 30), ends=time(17, 30))
    OfficePeriod.objects.create(hall=city_hall, starts=time(9), ends=time(12))
    Window.objects.create(hall=city_hall, number="1", name="综合受理窗口", is_comprehensive=True)
    Window.objects.create(hall=city_hall, number="2", name="市场监管窗口").departments.add(city_department)
    street = Division.objects.get(code="620102001000")
    Hall.objects.create(name="城关区皋兰路街道便民服务中心", division=street)
    halls = client.get("/api/v1/halls").json()
    assert [h["name"] for h in halls] == ["兰州市政务服务中心", "城关区皋兰路街道便民服务中心"]
    assert halls[0]["office_periods"] == [
        {"starts": "09:00", "ends": "12:00", "season_from": "", "season_to": ""},
        {"starts": "13:30", "ends": "17:30", "season_from": "", "season_to": ""},
    ]
    assert halls[0]["windows"] == [
        {"number": "1", "name": "综合受理窗口", "is_comprehensive": True, "departments": []},
        {"number": "2", "name": "市场监管窗口", "is_comprehensive": False,
         "departments": ["兰州市市场监督管理局"]},
    ]
    district = client.get("/api/v1/halls?division=620102").json()
    assert [h["name"] for h in district] == ["城关区皋兰路街道便民服务中心"]
    assert client.get(f"/api/v1/halls/{city_hall.pk}").json()["division_name"] == "兰州市"


@pytest.mark.django_db
def test_hall_list_query_count_does_not_grow_with_halls(client: Client, city_department: Department,
                                                        django_assert_max_num_queries: Any) -> None:
    for n in range(5):
        hall = Hall.objects.create(name=f"大厅{n}", division=Division.objects.get(code="620100"))
        Window.objects.create(hall=hall, number="1", name="窗口").departments.add(city_department)
        OfficePeriod.objects.create(hall=hall, starts=time(9), ends=time(12))
    with django_assert_max_num_queries(5):
        assert len(client.get("/api/v1/halls").json()) == 5
