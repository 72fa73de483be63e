"""Personas and the demo catalog for case tests."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command

from tests.conftest import DEMO_WORKBOOK, make_user
from tongban.accounts.models import Role, User
from tongban.catalog.models import Item
from tongban.organizations.models import Department, Division, Hall

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

ON_THE_SPOT = "11620100051317876B3000100113001"  # 企业设立登记
SAME_DAY = "11620100051317876B3000100113002"  # 企业变更登记
TIME_LIMITED = "11620100051317876B3000100139001"  # 食品经营许可（新办）
PROXY = "11620100051760018C3002000165004"  # 城乡居民基本养老保险参保登记


@pytest.fixture
def catalog(db: None) -> None:
    call_command("import_catalog", str(DEMO_WORKBOOK), verbosity=0)


@pytest.fixture
def people(catalog: None) -> dict[str, User]:
    market = Department.objects.get(name="兰州市市场监督管理局")
    hrss = Department.objects.get(name="兰州市人力资源和社会保障局")
    street = Department.objects.get(name="城关区皋兰路街道便民服务中心")
    city = Division.objects.get(code="620100")
    hall = Hall.objects.create(name="兰州市政务服务中心", division=city,
                               department=Department.objects.get(name="兰州市政务服务管理局"))
    street_hall = Hall.objects.create(name="皋兰路街道便民服务中心", division=street.division,
                                      department=street)
    return {
        "citizen": make_user("zhangsan", Role.CITIZEN, real_name="张三",
                             id_number="620102199003077770", phone="13893100001"),
        "other": make_user("lisi", Role.CITIZEN, real_name="李四", id_number="620102199003070018"),
        "clerk": make_user("clerk", Role.CLERK, hall=hall),
        "officer": make_user("officer", Role.OFFICER, department=market),
        "officer2": make_user("officer2", Role.OFFICER, department=market),
        "head": make_user("head", Role.HEAD, department=market),
        "hr_officer": make_user("hr_officer", Role.OFFICER, department=hrss),
        "hr_head": make_user("hr_head", Role.HEAD, department=hrss),
        "proxy": make_user("proxy", Role.PROXY_AGENT, hall=street_hall),
    }


def item(code: str) -> Item:
    return Item.objects.select_related("current").get(implementation_code=code)


def pdf() -> io.BytesIO:
    return io.BytesIO(PDF)


def form() -> dict[str, Any]:
    return {"contact_phone": "13893100001", "purpose": "开办餐饮店"}
