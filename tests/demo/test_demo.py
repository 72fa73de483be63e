"""``tongban load_demo``: debug-only, loads catalog, halls and one account per role, idempotent."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from pytest_django.fixtures import Settings

from tongban.accounts.models import Role, User
from tongban.audit.models import AuditRecord
from tongban.catalog.models import Item
from tongban.organizations.models import Department, Hall, OfficePeriod, Window


@pytest.mark.django_db
def test_refuses_without_debug(settings: Settings) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError) as exc:
        call_command("load_demo", stdout=StringIO())
    assert str(exc.value) == ("load_demo 只能在调试模式下运行（演示账户共用公开的密码）。"
                              "请设置环境变量 TONGBAN_DEBUG=1 后重试。")
    assert not User.objects.exists() and not Department.objects.exists()


def snapshot() -> dict[str, int]:
    return {"users": User.objects.count(), "halls": Hall.objects.count(),
            "windows": Window.objects.count(), "periods": OfficePeriod.objects.count(),
            "departments": Department.objects.count(), "items": Item.objects.count(),
            "audit": AuditRecord.objects.count()}


@pytest.mark.slow
@pytest.mark.django_db
def test_loads_the_demo_city_once(settings: Settings, client: Client) -> None:
    settings.DEBUG = True
    out = StringIO()
    call_command("load_demo", stdout=out)
    printed = out.getvalue()

    # One account per role, password tongban-demo, staff where they work.
    users = {u.username: u for u in User.objects.select_related("department", "hall")}
    assert {u.username: u.role for u in users.values()} == {
        "citizen": Role.CITIZEN, "enterprise": Role.ENTERPRISE, "clerk": Role.CLERK,
        "officer": Role.OFFICER, "head": Role.HEAD, "hr_officer": Role.OFFICER,
        "hr_head": Role.HEAD, "proxy": Role.PROXY_AGENT,
        "supervisor": Role.SUPERVISOR, "data": Role.DATA_OFFICER,
        "market_data": Role.DATA_OFFICER, "police_data": Role.DATA_OFFICER, "admin": Role.ADMIN}
    assert all(u.check_password("tongban-demo") for u in users.values())
    assert users["officer"].department.name == "兰州市市场监督管理局"  # type: ignore[union-attr]
    assert users["head"].department.name == "兰州市市场监督管理局"  # type: ignore[union-attr]
    assert users["clerk"].hall.name == "兰州市政务服务中心"  # type: ignore[union-attr]
    assert users["proxy"].hall.name == "城关区皋兰路街道便民服务中心"  # type: ignore[union-attr]
    assert users["data"].department.name == "兰州市大数据管理局"  # type: ignore[union-attr]
    assert users["market_data"].department.name == "兰州市市场监督管理局"  # type: ignore[union-attr]
    assert users["police_data"].department.name == "兰州市公安局"  # type: ignore[union-attr]
    assert users["admin"].is_staff and not users["citizen"].is_staff

    # The accounts table is printed.
    assert "演示账户（仅供试用）：" in printed
    for username in users:
        assert any(line.startswith(username + " ") and "tongban-demo" in line
                   for line in printed.splitlines()), username

    # Catalog from the demo workbook.
    assert Department.objects.count() == 44
    assert Item.objects.count() == 288

    # Halls: the city hall, three district centres, six street centres; two office periods each.
    assert Hall.objects.count() == 10
    city = Hall.objects.get(name="兰州市政务服务中心")
    assert city.division.code == "620100" and city.department is not None
    assert [str(p) for p in city.office_periods.all()] == ["09:00–12:00", "13:30–17:30"]
    assert OfficePeriod.objects.count() == 20
    assert city.windows.filter(is_comprehensive=True).count() == 4
    street = Hall.objects.get(name="城关区皋兰路街道便民服务中心")
    assert street.division.code == "620102001000"
    assert [(w.number, w.is_comprehensive) for w in street.windows.all()] == [("1", True), ("2", False)]
    assert set(Window.objects.get(hall=street, number="2").departments.values_list("name", flat=True)) == {
        "城关区皋兰路街道便民服务中心"}

    # A demo account can use the API right away.
    login = json.dumps({"username": "officer", "password": "tongban-demo"})
    token = client.post("/api/v1/auth/token", data=login, content_type="application/json").json()["token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["department"] == "兰州市市场监督管理局"

    # Running it again changes nothing and does not fail.
    before = snapshot()
    call_command("load_demo", stdout=StringIO())
    assert snapshot() == before
