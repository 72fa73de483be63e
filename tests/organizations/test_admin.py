"""The organisations admin shows the services' problems on the fields and saves through them."""

from __future__ import annotations

import pytest
from django.test import Client

from tongban.accounts.models import User
from tongban.audit.models import AuditRecord
from tongban.organizations.models import Department, Division, Hall, Window

from ..conftest import make_uscc, make_user


def department_post(**kw: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "兰州市民政局", "uscc": make_uscc(7), "division": Division.objects.get(code="620100").pk,
        "level": "city", "consultation_phone": "0931-8119241", "complaint_phone": "0931-8883254",
        "address": "兰州市城关区定西路396号",
    }
    data.update(kw)
    return data


@pytest.mark.django_db
def test_department_form_maps_problems_to_fields(client: Client, bureau_admin: User,
                                                 city_department: Department) -> None:
    client.force_login(bureau_admin)
    response = client.post("/admin/organizations/department/add/", department_post(
        uscc=city_department.uscc, level="county", complaint_phone="0931-8119241"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors == {
        "uscc": [f"统一社会信用代码“{city_department.uscc}”已被其他部门使用"],
        "level": ["行使层级“县级”与行政区划“兰州市”（市级）不一致"],
        "complaint_phone": ["监督投诉电话不能与咨询电话相同"],
    }
    assert Department.objects.count() == 1


@pytest.mark.django_db
def test_department_added_in_the_admin_is_audited(client: Client, bureau_admin: User) -> None:
    client.force_login(bureau_admin)
    response = client.post("/admin/organizations/department/add/", department_post())
    assert response.status_code == 302
    dept = Department.objects.get(name="兰州市民政局")
    record = AuditRecord.objects.get()
    assert (record.action, record.actor, record.object_id) == ("department.created", bureau_admin, dept.uscc)


def hall_post(division: Division, periods: list[tuple[str, str]]) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "兰州市政务服务中心", "division": division.pk, "address": "", "phone": "0931-8651117",
        "office_periods-TOTAL_FORMS": str(len(periods)), "office_periods-INITIAL_FORMS": "0",
        "office_periods-MIN_NUM_FORMS": "0", "office_periods-MAX_NUM_FORMS": "1000",
        "windows-TOTAL_FORMS": "0", "windows-INITIAL_FORMS": "0",
        "windows-MIN_NUM_FORMS": "0", "windows-MAX_NUM_FORMS": "1000",
    }
    for i, (starts, ends) in enumerate(periods):
        data[f"office_periods-{i}-starts"] = starts
        data[f"office_periods-{i}-ends"] = ends
    return data


@pytest.mark.django_db
def test_hall_admin_refuses_overlapping_periods(client: Client, bureau_admin: User) -> None:
    client.force_login(bureau_admin)
    city = Division.objects.get(code="620100")
    response = client.post("/admin/organizations/hall/add/", hall_post(city, [("09:00", "12:00"),
                                                                              ("11:00", "17:30")]))
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.non_form_errors() == ["第2个办公时段（11:00–17:30）与第1个（09:00–12:00）重叠"]
    assert not Hall.objects.exists()


@pytest.mark.django_db
def test_hall_admin_saves_hall_and_periods_through_the_service(client: Client, bureau_admin: User) -> None:
    client.force_login(bureau_admin)
    city = Division.objects.get(code="620100")
    response = client.post("/admin/organizations/hall/add/", hall_post(city, [("09:00", "12:00"),
                                                                              ("13:30", "17:30")]))
    assert response.status_code == 302
    hall = Hall.objects.get()
    assert [str(p) for p in hall.office_periods.all()] == ["09:00–12:00", "13:30–17:30"]
    assert AuditRecord.objects.get().action == "hall.created"


@pytest.mark.django_db
def test_window_admin_requires_departments_for_a_non_comprehensive_window(
        client: Client, bureau_admin: User, city_hall: Hall, city_department: Department) -> None:
    client.force_login(bureau_admin)
    response = client.post("/admin/organizations/window/add/", {
        "hall": city_hall.pk, "number": "5", "name": "市场监管窗口"})
    assert response.context["adminform"].form.errors == {"departments": ["非综合窗口须至少选择一个受理部门"]}
    response = client.post("/admin/organizations/window/add/", {
        "hall": city_hall.pk, "number": "5", "name": "市场监管窗口", "departments": [city_department.pk]})
    assert response.status_code == 302
    window = Window.objects.get()
    assert list(window.departments.all()) == [city_department]
    assert AuditRecord.objects.get().action == "window.created"


@pytest.mark.django_db
def test_supervisor_may_look_but_not_change(client: Client) -> None:
    supervisor = make_user("sup", "supervisor", is_staff=True)
    client.force_login(supervisor)
    assert client.get("/admin/organizations/department/").status_code == 200
    response = client.post("/admin/organizations/department/add/", department_post())
    assert response.status_code == 403
    assert not Department.objects.exists()
    assert not AuditRecord.objects.exists()


@pytest.mark.django_db
def test_officers_do_not_get_the_organisations_admin(client: Client, city_department: Department) -> None:
    officer = make_user("officer", "officer", department=city_department, is_staff=True)
    client.force_login(officer)
    assert client.get("/admin/organizations/department/").status_code == 403
