"""Personas of the data layer: the data bureau's data officer and a department's."""

from __future__ import annotations

import pytest

from tests.conftest import make_department
from tests.factories import staff
from tongban.accounts.models import Role, User
from tongban.organizations.models import Department


@pytest.fixture
def data_bureau(db: None) -> Department:
    """兰州市大数据管理局, the data bureau."""
    return make_department("兰州市大数据管理局", serial=90, is_data_bureau=True)


@pytest.fixture
def bureau_data_officer(data_bureau: Department) -> User:
    """孙磊, data officer of the data bureau: keeps elements and code lists, reviews."""
    return staff("data", Role.DATA_OFFICER, data_bureau)


@pytest.fixture
def police(db: None) -> Department:
    """兰州市公安局, provider of 户籍人口基本信息."""
    return make_department("兰州市公安局", serial=91)


@pytest.fixture
def police_data_officer(police: Department) -> User:
    return staff("police_data", Role.DATA_OFFICER, police)
