"""Accounts: who may create and change which account, identifier checks, workplace rules, audit."""

from __future__ import annotations

from typing import Any

import pytest

from tongban.accounts import services
from tongban.accounts.models import Role, User
from tongban.accounts.permissions import SYSTEM
from tongban.audit.models import AuditRecord
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.organizations.models import Department, Hall

from ..conftest import make_user


def fields(**kw: object) -> services.UserFields:
    return services.UserFields(**kw)  # type: ignore[arg-type]  # each test passes valid keywords


def problems(exc: pytest.ExceptionInfo[RuleViolation]) -> dict[str, str]:
    return {p.field: str(p.message) for p in exc.value.problems}


@pytest.mark.django_db
def test_citizen_registers_with_a_valid_id_and_mobile() -> None:
    user = services.user_create(actor=None, password="a-long-passphrase", fields=fields(
        username="zhangsan", role=Role.CITIZEN, real_name="张三",
        id_number="620102199001011233", phone="+86 138-1234-5678"))
    assert user.phone == "13812345678"
    assert user.check_password("a-long-passphrase")
    assert not user.is_staff
    record = AuditRecord.objects.get(action="user.created")
    assert record.object_id == str(user.pk)
    assert record.detail == {"username": "zhangsan", "role": "citizen", "department": None, "hall": None}
    # The audit log must not copy personal data.
    assert "620102199001011233" not in str(record.detail)


@pytest.mark.django_db
def test_invalid_identifiers_are_reported_per_field_and_nothing_is_saved() -> None:
    with pytest.raises(RuleViolation) as exc:
        services.user_create(actor=None, password="a-long-passphrase", fields=fields(
            username="lisi", role=Role.CITIZEN, real_name="李四",
            id_number="620102199001011234", phone="1381234567"))
    assert problems(exc) == {
        "id_number": "公民身份号码末位校验码与前17位不符，请核对号码",
        "phone": "手机号码“1381234567”无效（须为11位，以1开头）",
    }
    assert not User.objects.filter(username="lisi").exists()
    assert not AuditRecord.objects.exists()


@pytest.mark.django_db
def test_citizen_needs_an_id_number_and_it_is_unique(citizen: User) -> None:
    with pytest.raises(RuleViolation) as exc:
        services.user_create(actor=None, password="a-long-passphrase", fields=fields(
            username="wangwu", role=Role.CITIZEN, real_name="王五"))
    assert problems(exc) == {"id_number": "自然人账户须填写公民身份号码"}
    with pytest.raises(RuleViolation) as exc:
        services.user_create(actor=None, password="a-long-passphrase", fields=fields(
            username="wangwu", role=Role.CITIZEN, real_name="王五", id_number=citizen.id_number))
    assert problems(exc) == {"id_number": "该公民身份号码已注册账户"}


@pytest.mark.django_db
def test_enterprise_needs_valid_uscc_and_legal_representative() -> None:
    with pytest.raises(RuleViolation) as exc:
        services.user_create(actor=None, password="a-long-passphrase", fields=fields(
            username="shop", role=Role.ENTERPRISE, real_name="示例公司", uscc="91620102MA71234560"))
    assert problems(exc) == {
        "uscc": "统一社会信用代码“91620102MA71234560”无效（须为18位且校验码正确）",
        "legal_representative": "法人账户须填写法定代表人",
    }
    user = services.user_create(actor=None, password="a-long-passphrase", fields=fields(
        username="shop", role=Role.ENTERPRISE, real_name="示例公司", uscc="91620102ma7123456t",
        legal_representative="李华"))
    assert user.uscc == "91620102MA7123456T"


@pytest.mark.django_db
def test_weak_password_is_refused() -> None:
    with pytest.raises(RuleViolation) as exc:
        services.user_create(actor=None, password="short", fields=fields(
            username="zhao", role=Role.CITIZEN, real_name="赵", id_number="620102199001011233"))
    assert [p.field for p in exc.value.problems] == ["password"]
    assert not User.objects.exists()


@pytest.mark.django_db
def test_only_the_bureau_creates_staff(citizen: User, city_department: Department) -> None:
    staff = fields(username="officer1", role=Role.OFFICER, real_name="赵强", department=city_department)
    for actor in (None, citizen, make_user("head1", Role.HEAD, department=city_department)):
        with pytest.raises(AccessDenied):
            services.user_create(actor=actor, password="a-long-passphrase", fields=staff)
    assert not User.objects.filter(username="officer1").exists()
    assert not AuditRecord.objects.exists()
    user = services.user_create(actor=SYSTEM, password="a-long-passphrase", fields=staff)
    assert user.is_staff and user.department == city_department


@pytest.mark.django_db
def test_staff_belong_to_a_department_or_a_hall(city_department: Department, city_hall: Hall) -> None:
    cases: list[tuple[dict[str, Any], dict[str, str]]] = [
        (dict(role=Role.OFFICER), {"department": "“部门经办人”须归属一个部门"}),
        (dict(role=Role.DATA_OFFICER, hall=city_hall),
         {"department": "“数据管理员”须归属一个部门", "hall": "只有窗口工作人员和代办员归属大厅"}),
        (dict(role=Role.CLERK), {"hall": "“窗口工作人员”须归属一个大厅或便民服务中心"}),
        (dict(role=Role.PROXY_AGENT, hall=city_hall, department=city_department),
         {"department": "“代办员”不归属部门"}),
        (dict(role=Role.CITIZEN, id_number="620102199001011233", department=city_department),
         {"department": "“自然人”不归属部门"}),
    ]
    for extra, expected in cases:
        with pytest.raises(RuleViolation) as exc:
            services.user_create(actor=SYSTEM, password="a-long-passphrase",
                                 fields=fields(username="x", real_name="某人", **extra))
        assert problems(exc) == expected, extra
    clerk = services.user_create(actor=SYSTEM, password="a-long-passphrase", fields=fields(
        username="clerk1", role=Role.CLERK, real_name="王芳", hall=city_hall))
    assert clerk.hall == city_hall and clerk.department is None


@pytest.mark.django_db
def test_permission_changes_are_bureau_only_and_audited(admin_user: User, city_department: Department,
                                                        city_hall: Hall) -> None:
    clerk = services.user_create(actor=admin_user, password="a-long-passphrase", fields=fields(
        username="clerk1", role=Role.CLERK, real_name="王芳", hall=city_hall))
    promote = fields(username="clerk1", role=Role.OFFICER, real_name="王芳", department=city_department)
    with pytest.raises(AccessDenied):
        services.user_update(actor=clerk, user=clerk, fields=promote)
    clerk.refresh_from_db()
    assert clerk.role == Role.CLERK and clerk.hall == city_hall
    assert not AuditRecord.objects.filter(action="user.permissions_changed").exists()

    services.user_update(actor=admin_user, user=clerk, fields=promote)
    clerk.refresh_from_db()
    assert (clerk.role, clerk.department, clerk.hall) == (Role.OFFICER, city_department, None)
    record = AuditRecord.objects.get(action="user.permissions_changed")
    assert record.actor == admin_user
    assert record.detail == {
        "role": {"from": "clerk", "to": "officer"},
        "department": {"from": None, "to": city_department.pk},
        "hall": {"from": city_hall.pk, "to": None},
    }


@pytest.mark.django_db
def test_a_citizen_may_change_own_phone_but_not_own_role(citizen: User) -> None:
    same = dict(username="citizen", real_name="citizen", id_number=citizen.id_number)
    services.user_update(actor=citizen, user=citizen, fields=fields(
        role=Role.CITIZEN, phone="13912345678", **same))
    citizen.refresh_from_db()
    assert citizen.phone == "13912345678"
    assert AuditRecord.objects.get(action="user.updated").detail == {"fields": ["phone"]}
    with pytest.raises(AccessDenied):
        services.user_update(actor=citizen, user=citizen, fields=fields(
            role=Role.ADMIN, phone="13912345678", **same))
    citizen.refresh_from_db()
    assert citizen.role == Role.CITIZEN


@pytest.mark.django_db
def test_saving_unchanged_values_writes_nothing(citizen: User) -> None:
    services.user_update(actor=citizen, user=citizen, fields=fields(
        username="citizen", role=Role.CITIZEN, real_name="citizen", id_number=citizen.id_number))
    assert not AuditRecord.objects.exists()
