"""Builders for catalog editing tests: departments with valid codes, valid item data, personas."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from stdnum.cn import uscc as stdnum_uscc

from tests.conftest import make_user
from tongban.accounts.models import STAFF_ROLES, User
from tongban.accounts.permissions import SYSTEM
from tongban.catalog import services
from tongban.catalog.models import ItemVersion
from tongban.catalog.rules import ItemData, MaterialData
from tongban.organizations.models import LEVEL_DIGIT, Department, Division, Level

_sequence = [100000]


def make_uscc(division_code: str = "620100") -> str:
    """A fresh, valid 统一社会信用代码 of a government body (机关) in the division."""
    _sequence[0] += 1
    body = f"11{division_code}{_sequence[0]:09d}"
    return body + stdnum_uscc.calc_check_digit(body)


def make_department(name: str, *, division_code: str = "620100", level: str = Level.CITY,
                    **extra: Any) -> Department:
    division = Division.objects.get(code=division_code)
    return Department.objects.create(name=name, uscc=make_uscc(division_code), division=division,
                                     level=level, **extra)


def make_staff(username: str, role: str, department: Department | None) -> User:
    """An account as the accounts service makes it: staff roles may enter the admin site."""
    return make_user(username, role, department=department, is_staff=role in STAFF_ROLES)


def basic_code(sequence: int, *, item_type: str = "01") -> str:
    return f"62{item_type}{sequence:08d}"


def implementation_code(department: Department, basic: str, level: str | None = None) -> str:
    return department.uscc + LEVEL_DIGIT[Level(level or department.level)] + basic


def material(name: str = "申请表", **overrides: Any) -> MaterialData:
    values: dict[str, Any] = {
        "name": name, "material_type": "original", "form": "paper", "necessity": "required",
        "source": "applicant", "original_copies": 1, "copy_copies": 0,
    }
    values.update(overrides)
    return MaterialData(**values)


def item_data(department: Department, *, sequence: int = 1, **overrides: Any) -> ItemData:
    """A valid time-limited licensing item of ``department``; override any field."""
    basic = basic_code(sequence, item_type=overrides.get("item_type", "01"))
    values: dict[str, Any] = {
        "implementation_code": implementation_code(department, basic),
        "basic_code": basic,
        "name": f"测试事项{sequence}",
        "item_type": "01",
        "department": department,
        "level": department.level,
        "commitment": "time_limited",
        "legal_limit": 20,
        "legal_limit_unit": "working_days",
        "committed_limit": 5,
        "committed_limit_unit": "working_days",
        "required_visits": 1,
        "visit_reason": "须现场核验身份",
        "online_depth": 3,
        "handling_forms": ["window", "online"],
        "service_objects": ["natural_person"],
        "topics": ["设立变更"],
        "consultation_phone": "0931-8000001",
        "complaint_phone": "0931-8000002",
        "result_type": "licence",
        "result_name": "许可证",
        "materials": [material("申请表"), material("身份证明", material_type="copy",
                                                  original_copies=0, copy_copies=1)],
    }
    values.update(overrides)
    return ItemData(**values)


def with_changes(data: ItemData, **changes: Any) -> ItemData:
    return replace(data, **changes)


def publish(data: ItemData, *, actor: Any = SYSTEM, note: str = "") -> ItemVersion:
    """Draft, submit and approve ``data``; returns the published version."""
    draft = services.item_save_draft(actor=actor, data=data, change_note=note)
    services.version_submit(actor=actor, version=draft)
    return services.version_review(actor=actor, version=draft, approve=True)

