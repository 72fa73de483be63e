"""Personas of the data layer: the data bureau's data officer and a department's."""

from __future__ import annotations

import pytest

from tests.conftest import make_department
from tests.factories import staff
from tongban.accounts.models import Role, User
from tongban.exchange.models import Resource
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


# --- sharing (供需对接, grants, keys, records, the exchange) ------------------------------------

@pytest.fixture
def market_data_officer(city_department: Department) -> User:
    """Data officer of 兰州市市场监督管理局 (city_department), the consumer of the demo grant."""
    return staff("market_data", Role.DATA_OFFICER, city_department)


@pytest.fixture
def people_resource(police: Department) -> Resource:
    """LZ-GA-0001 户籍人口基本信息 (有条件共享 / 库表), provided by 兰州市公安局."""
    from tongban.demo.data_sharing import ensure_resource

    resource = ensure_resource("LZ-GA-0001", police)
    assert resource is not None
    return resource


@pytest.fixture
def company_resource(city_department: Department) -> Resource:
    """LZ-SC-0001 企业登记信息 (无条件共享 / 库表), provided by 兰州市市场监督管理局."""
    from tongban.demo.data_sharing import ensure_resource

    resource = ensure_resource("LZ-SC-0001", city_department)
    assert resource is not None
    return resource
