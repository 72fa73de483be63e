"""Directories, people and workbooks for the 双随机一公开 tests."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
from stdnum.cn import uscc as stdnum_uscc

from tests.conftest import make_department, make_user
from tongban.accounts.models import Role, User
from tongban.accounts.permissions import SYSTEM
from tongban.inspections import services
from tongban.inspections.workbook import COLUMNS
from tongban.organizations.models import Department

MARKET = "兰州市市场监督管理局"
DISTRICT = "城关区市场监督管理局"
INDUSTRIES = ["餐饮服务", "食品销售", "药品零售"]


def entity_uscc(n: int, kind: str = "91") -> str:
    body = f"{kind}620102MA{n:07d}"
    return body + stdnum_uscc.calc_check_digit(body + "0")


def certificate(n: int) -> str:
    return f"62010024{n:04d}"


def build_workbook(sheets: dict[str, list[list[Any]]]) -> io.BytesIO:
    """A workbook with the given sheets: the standard header row, then the rows."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        sheet.append([c.header for c in COLUMNS[name]])
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


def entity_rows(count: int, department: str = MARKET, start: int = 1) -> list[list[Any]]:
    return [[entity_uscc(n), f"兰州测试{n:02d}号餐饮有限公司", "有限责任公司", INDUSTRIES[n % 3],
             "620102" if n % 2 else "620102001000", f"兰州市城关区测试路{n}号", ["低", "中", "高"][n % 3],
             department] for n in range(start, start + count)]


@pytest.fixture
def departments(db: None) -> dict[str, Department]:
    return {"market": make_department(MARKET, serial=1),
            "district": make_department(DISTRICT, serial=2, division_code="620102", level="county")}


@pytest.fixture
def people(departments: dict[str, Department]) -> dict[str, User]:
    market, district = departments["market"], departments["district"]
    return {
        "officer": make_user("officer", Role.OFFICER, real_name="赵强", department=market),
        "officer2": make_user("officer2", Role.OFFICER, real_name="钱进", department=market),
        "head": make_user("head", Role.HEAD, real_name="刘洋", department=market),
        "district_officer": make_user("d_officer", Role.OFFICER, department=district),
        "supervisor": make_user("supervisor", Role.SUPERVISOR),
        "admin": make_user("admin", Role.ADMIN),
        "citizen": make_user("zhangsan", Role.CITIZEN, id_number="620102199003077770"),
    }


@pytest.fixture
def directory(people: dict[str, User]) -> dict[str, Any]:
    """30 market entities of the city bureau, 6 active inspectors (officer and head among them,
    one more inactive), two declared conflicts, three inspection items."""
    inspectors = [[certificate(n), f"检查员{n}", MARKET, "是", ""] for n in range(1, 7)]
    inspectors[0][4] = "officer"
    inspectors[1][4] = "head"
    inspectors.append([certificate(7), "离岗员", MARKET, "否", ""])
    entities = entity_rows(30)
    conflicts = [[certificate(1), entity_uscc(1), "近亲属任法定代表人"],
                 [certificate(3), entity_uscc(2), "曾在该企业任职"]]
    items = [[f"SJ-{n:03d}", f"检查事项{n}", MARKET, "《中华人民共和国食品安全法》", "现场检查"]
             for n in range(1, 4)]
    report = services.directory_import(actor=SYSTEM, source=build_workbook({
        "市场主体": entities, "检查人员": inspectors, "回避关系": conflicts, "检查事项": items}),
        name="test.xlsx")
    return {"report": report, "entities": entities, "inspectors": inspectors}


@pytest.fixture
def make_task(directory: dict[str, Any], departments: dict[str, Department],
              people: dict[str, User]) -> Callable[..., Any]:
    from tongban.inspections.models import InspectionItem

    def make(**overrides: Any) -> Any:
        fields = services.TaskFields(name=overrides.pop("name", "2025年餐饮抽查"),
                                     items=list(InspectionItem.objects.filter(code="SJ-001")))
        if "count" not in overrides and "ratio_percent" not in overrides:
            overrides["count"] = 5
        for key, value in overrides.items():
            setattr(fields, key, value)
        return services.task_create(actor=people["officer"], department=departments["market"],
                                    fields=fields)

    return make
