"""Builders for catalog editing tests: departments with valid codes, valid item data, personas
(delegating to ``tests/factories.py``)."""

from __future__ import annotations

from typing import Any

from tests.factories import (
    DepartmentFactory,
    basic_code,
    division,
    implementation_code,
    item_data,
    material,
    publish,
    staff,
    with_changes,
)
from tests.factories import uscc as _uscc
from tongban.accounts.models import User
from tongban.organizations.models import Department, Level

__all__ = ["basic_code", "implementation_code", "item_data", "make_department", "make_staff",
           "make_uscc", "material", "publish", "with_changes"]


def make_uscc(division_code: str = "620100") -> str:
    """A fresh, valid 统一社会信用代码 of a government body (机关) in the division."""
    return _uscc(division_code=division_code)


def make_department(name: str, *, division_code: str = "620100", level: str = Level.CITY,
                    **extra: Any) -> Department:
    return DepartmentFactory.create(name=name, uscc=make_uscc(division_code),
                             division=division(division_code), level=level, **extra)


def make_staff(username: str, role: str, department: Department | None) -> User:
    """An account as the accounts service makes it: staff roles may enter the admin site."""
    return staff(username, role, department)
