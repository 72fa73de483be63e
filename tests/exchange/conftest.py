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


# --- resources (数据资源目录) ---------------------------------------------------------------------

@pytest.fixture
def market(city_department: Department) -> Department:
    """兰州市市场监督管理局, provider of 企业登记信息 (the shared ``city_department``)."""
    return city_department


@pytest.fixture
def market_data_officer(market: Department) -> User:
    return staff("market_data", Role.DATA_OFFICER, market)


@pytest.fixture
def person_elements(db: None) -> None:
    """Published elements a person resource binds: DE00001 姓名 (personal), DE00002 公民身份号码,
    DE00006 户籍地址, DE00021 统一社会信用代码, DE00020 市场主体名称 (not personal)."""
    from tongban.exchange.models import Checker, DataElement, DataType, DomainKind, ElementStatus

    for identifier, name, personal, extra in (
            ("DE00001", "姓名", True, {"max_length": 50}),
            ("DE00002", "公民身份号码", True, {"domain_kind": DomainKind.CHECKED,
                                            "checker": Checker.ID_NUMBER}),
            ("DE00006", "户籍地址", True, {"max_length": 200}),
            ("DE00020", "市场主体名称", False, {"max_length": 100}),
            ("DE00021", "统一社会信用代码", False, {"domain_kind": DomainKind.CHECKED,
                                               "checker": Checker.USCC})):
        DataElement.objects.create(identifier=identifier, name=name, definition=name,
                                   data_type=DataType.STRING, personal=personal,
                                   status=ElementStatus.PUBLISHED, **extra)

# --- sharing (供需对接, grants, keys, records, the exchange) ------------------------------------



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

# --- part elements ------------------------------------------------------------------------------

# The elements the demo's item forms bind (``load_demo.DEMO_FORMS``).
DEMO_FORM_ELEMENTS = ("DE00001", "DE00002", "DE00006", "DE00011", "DE00020", "DE00021",
                      "DE00022", "DE00023", "DE00024")


def publish_demo_elements(*identifiers: str) -> None:
    """Publish these elements of the demo dictionary (all of them when none is named), as
    ``load_demo`` does, with the code lists they use."""
    from tongban.accounts.permissions import SYSTEM
    from tongban.demo.data_elements import DEMO_ELEMENTS
    from tongban.exchange.codelists import load_bundled_code_lists
    from tongban.exchange.services import elements as element_services

    rows = element_services.elements_from_csv(DEMO_ELEMENTS)
    if identifiers:
        rows = [r for r in rows if r.identifier in identifiers]
    if any(r.code_list for r in rows):
        load_bundled_code_lists(actor=SYSTEM)
    element_services.elements_load(actor=SYSTEM, elements=rows)


@pytest.fixture
def demo_form_elements(db: None) -> None:
    """The published elements the demo forms bind."""
    publish_demo_elements(*DEMO_FORM_ELEMENTS)


def handled_case(department: Department, number: str, *, sequence: int = 1) -> object:
    """A case of ``department`` numbered ``number``: what a consumer names with ``case=``."""
    from django.utils import timezone

    from tests.factories import item_data, publish
    from tongban.cases.models import Case

    version = publish(item_data(department, sequence=sequence))
    return Case.objects.create(
        item=version.item, item_version=version, department=department, channel="online",
        status="accepted", applicant_kind="natural_person", applicant_name="张明",
        applicant_id_number="620102199001011233", number=number, accepted_at=timezone.now())
