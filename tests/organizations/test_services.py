"""Departments, halls and windows: validated, audited, bureau-only, no-ops when unchanged."""

from __future__ import annotations

from datetime import time

import pytest

from tongban.accounts.models import Role, User
from tongban.audit.models import AuditRecord
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.organizations import services
from tongban.organizations.models import Department, Division, Hall, Window

from ..conftest import make_department, make_uscc, make_user


def dept_fields(**kw: object) -> services.DepartmentFields:
    values: dict[str, object] = dict(
        name="兰州市民政局", uscc=make_uscc(7), division=Division.objects.get(code="620100"),
        level="city", consultation_phone="0931-8119241", complaint_phone="0931-8883254",
        address="兰州市城关区定西路396号")
    values.update(kw)
    return services.DepartmentFields(**values)  # type: ignore[arg-type]  # tests pass valid keywords


def messages(exc: pytest.ExceptionInfo[RuleViolation]) -> dict[str, str]:
    return {p.field: str(p.message) for p in exc.value.problems}


@pytest.mark.django_db
def test_department_is_created_and_audited(admin_user: User) -> None:
    dept = services.department_save(actor=admin_user, fields=dept_fields())
    assert (dept.name, dept.level, dept.division.code) == ("兰州市民政局", "city", "620100")
    record = AuditRecord.objects.get()
    assert (record.action, record.object_id, record.actor) == ("department.created", dept.uscc, admin_user)


@pytest.mark.django_db
def test_department_rules_report_every_problem(admin_user: User, city_department: Department) -> None:
    with pytest.raises(RuleViolation) as exc:
        services.department_save(actor=admin_user, fields=dept_fields(
            name="兰州市市场监督管理局", uscc="11620100MB0000001X", level="county",
            complaint_phone="0931-8119241"))
    assert messages(exc) == {
        "name": "已有名为“兰州市市场监督管理局”的部门",
        "uscc": "统一社会信用代码“11620100MB0000001X”无效（须为18位且校验码正确）",
        "level": "行使层级“县级”与行政区划“兰州市”（市级）不一致",
        "complaint_phone": "监督投诉电话不能与咨询电话相同",
    }
    assert Department.objects.count() == 1
    assert not AuditRecord.objects.exists()


@pytest.mark.django_db
def test_uscc_must_be_unique(admin_user: User, city_department: Department) -> None:
    with pytest.raises(RuleViolation) as exc:
        services.department_save(actor=admin_user, fields=dept_fields(uscc=city_department.uscc))
    assert messages(exc) == {"uscc": f"统一社会信用代码“{city_department.uscc}”已被其他部门使用"}


@pytest.mark.django_db
def test_township_body_may_sit_in_its_district_but_not_in_the_city(admin_user: User) -> None:
    district = Division.objects.get(code="620102")
    dept = services.department_save(actor=admin_user, fields=dept_fields(
        name="城关区皋兰路街道便民服务中心", uscc=make_uscc(8, division_code="620102", kind="12"),
        division=district, level="township"))
    assert dept.level == "township"
    with pytest.raises(RuleViolation) as exc:
        services.department_save(actor=admin_user, fields=dept_fields(level="township"))
    assert messages(exc) == {"level": "行使层级“乡镇级”与行政区划“兰州市”（市级）不一致"}


@pytest.mark.django_db
def test_parent_cannot_be_itself_or_below_it(admin_user: User, city_department: Department) -> None:
    child = make_department("城关区市场监督管理局", serial=2, division_code="620102", level="county",
                            parent=city_department)
    grandchild = make_department("城关区某市场监管所", serial=3, division_code="620102", level="county",
                                 parent=child)
    stored = Department.objects.get(pk=city_department.pk)
    for parent in (city_department, grandchild):
        with pytest.raises(RuleViolation) as exc:
            services.department_save(actor=admin_user, department=stored, fields=dept_fields(
                name=city_department.name, uscc=city_department.uscc, parent=parent))
        assert messages(exc) == {"parent": "上级部门不能是本部门或其下级部门"}
    assert Department.objects.get(pk=city_department.pk).parent is None


@pytest.mark.django_db
def test_update_audits_changed_fields_and_unchanged_save_is_a_no_op(admin_user: User) -> None:
    dept = services.department_save(actor=admin_user, fields=dept_fields())
    services.department_save(actor=admin_user, department=dept, fields=dept_fields())
    assert AuditRecord.objects.count() == 1
    services.department_save(actor=admin_user, department=dept, fields=dept_fields(address="新地址1号"))
    record = AuditRecord.objects.order_by("-seq").first()
    assert record is not None
    assert (record.action, record.detail) == ("department.updated", {"fields": ["address"]})
    assert Department.objects.get(pk=dept.pk).address == "新地址1号"


@pytest.mark.django_db
def test_only_the_bureau_manages_organisations(city_department: Department) -> None:
    officer = make_user("officer", Role.OFFICER, department=city_department)
    with pytest.raises(AccessDenied):
        services.department_save(actor=officer, fields=dept_fields())
    with pytest.raises(AccessDenied):
        services.hall_save(actor=officer, fields=services.HallFields(
            name="某大厅", division=Division.objects.get(code="620100")))
    assert Department.objects.count() == 1 and not Hall.objects.exists()
    assert not AuditRecord.objects.exists()


def periods(*spans: tuple[str, str, str, str]) -> list[services.PeriodFields]:
    def t(v: str) -> time:
        return time(int(v[:2]), int(v[3:]))
    return [services.PeriodFields(t(s), t(e), f, to) for s, e, f, to in spans]


@pytest.mark.django_db
def test_hall_with_office_periods(admin_user: User, city_department: Department) -> None:
    hall = services.hall_save(actor=admin_user, fields=services.HallFields(
        name="兰州市政务服务中心", division=Division.objects.get(code="620100"), department=city_department,
        phone="0931-8651117", office_periods=periods(("09:00", "12:00", "", ""), ("13:30", "17:30", "", ""))))
    assert [str(p) for p in hall.office_periods.all()] == ["09:00–12:00", "13:30–17:30"]
    record = AuditRecord.objects.get()
    assert record.action == "hall.created"
    assert record.detail == {"name": "兰州市政务服务中心", "office_periods": ["09:00-12:00", "13:30-17:30"]}
    # Same periods in another order: nothing changes, nothing is recorded.
    services.hall_save(actor=admin_user, hall=hall, fields=services.HallFields(
        name="兰州市政务服务中心", division=hall.division, department=city_department, phone="0931-8651117",
        office_periods=periods(("13:30", "17:30", "", ""), ("09:00", "12:00", "", ""))))
    assert AuditRecord.objects.count() == 1


@pytest.mark.django_db
def test_overlapping_or_inverted_periods_are_refused(admin_user: User) -> None:
    division = Division.objects.get(code="620100")
    with pytest.raises(RuleViolation) as exc:
        services.hall_save(actor=admin_user, fields=services.HallFields(
            name="某大厅", division=division, office_periods=periods(
                ("09:00", "12:00", "", ""), ("11:30", "17:30", "", ""), ("18:00", "17:00", "", ""),
                ("08:00", "09:00", "0501", ""))))
    assert [str(p.message) for p in exc.value.problems] == [
        "第3个办公时段的开始时间须早于结束时间",
        "第4个办公时段的适用起止日期须同时填写或同时留空",
        "第2个办公时段（11:30–17:30）与第1个（09:00–12:00）重叠",
    ]
    assert not Hall.objects.exists()


@pytest.mark.django_db
def test_seasonal_periods_overlap_only_when_their_seasons_meet(admin_user: User) -> None:
    division = Division.objects.get(code="620100")
    summer_winter = periods(("14:30", "18:00", "0501", "0930"), ("14:00", "17:30", "1001", "0430"),
                            ("09:00", "12:00", "", ""))
    hall = services.hall_save(actor=admin_user, fields=services.HallFields(
        name="某大厅", division=division, office_periods=summer_winter))
    assert hall.office_periods.count() == 3
    with pytest.raises(RuleViolation) as exc:
        services.hall_save(actor=admin_user, hall=hall, fields=services.HallFields(
            name="某大厅", division=division, office_periods=periods(
                ("14:30", "18:00", "0501", "0930"), ("14:00", "17:30", "0901", "0430"))))
    assert [str(p.message) for p in exc.value.problems] == [
        "第2个办公时段（14:00–17:30）与第1个（14:30–18:00）重叠"]
    with pytest.raises(RuleViolation) as exc:
        services.hall_save(actor=admin_user, hall=hall, fields=services.HallFields(
            name="某大厅", division=division, office_periods=periods(("09:00", "12:00", "0230", "0301"))))
    assert [str(p.message) for p in exc.value.problems] == [
        "第1个办公时段的适用起止日期须为四位月日，例如 0501"]
    assert hall.office_periods.count() == 3


@pytest.mark.django_db
def test_windows(admin_user: User, city_department: Department, city_hall: Hall) -> None:
    comprehensive = services.window_save(actor=admin_user, fields=services.WindowFields(
        hall=city_hall, number="1", name="综合受理窗口", is_comprehensive=True))
    assert comprehensive.is_comprehensive and not comprehensive.departments.exists()
    with pytest.raises(RuleViolation) as exc:
        services.window_save(actor=admin_user, fields=services.WindowFields(
            hall=city_hall, number="1", name="市场监管窗口"))
    assert messages(exc) == {"number": "“兰州市政务服务中心”已有1号窗口",
                             "departments": "非综合窗口须至少选择一个受理部门"}
    window = services.window_save(actor=admin_user, fields=services.WindowFields(
        hall=city_hall, number="2", name="市场监管窗口", departments=[city_department]))
    assert list(window.departments.all()) == [city_department]
    services.window_save(actor=admin_user, window=window, fields=services.WindowFields(
        hall=city_hall, number="2", name="市场监管窗口", departments=[city_department]))
    assert [r.action for r in AuditRecord.objects.all()] == ["window.created", "window.created"]
    assert Window.objects.count() == 2
