"""Personas and the demo catalog for case tests."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command

from tests.conftest import DEMO_WORKBOOK, make_user
from tests.factories import HallFactory
from tongban.accounts.models import Role, User
from tongban.catalog.models import Item
from tongban.organizations.models import Department

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
    hall = HallFactory(name="兰州市政务服务中心",
                       department=Department.objects.get(name="兰州市政务服务管理局"))
    street_hall = HallFactory(name="皋兰路街道便民服务中心", division=street.division,
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


# --- application forms (the demo items' own forms, as ``tongban load_demo`` loads them) -------

# Valid form data for each demo item's own form; items without one use the default form().
DEMO_FORM_DATA: dict[str, dict[str, Any]] = {
    TIME_LIMITED: {
        "business_name": "兰州示例餐饮有限公司", "uscc": "91620102MA7123456T",
        "legal_representative": "李华", "legal_representative_id": "620102199003077770",
        "premises": "兰州市城关区庆阳路100号", "business_item": "热食类食品制售",
        "floor_area": "85", "contact_phone": "0931-8123456", "opening_date": "2026-12-01"},
    ON_THE_SPOT: {
        "company_name": "兰州示例商贸有限公司", "company_type": "有限责任公司",
        "legal_representative": "李华", "legal_representative_id": "620102199003077770",
        "domicile": "兰州市城关区庆阳路100号", "registered_capital": "100",
        "business_scope": "日用百货销售", "contact_phone": "13893100001"},
    SAME_DAY: {
        "company_name": "兰州示例餐饮有限公司", "uscc": "91620102MA7123456T", "change_item": "住所",
        "before_change": "兰州市城关区庆阳路100号", "after_change": "兰州市城关区张掖路8号",
        "resolution_date": "2026-11-20", "contact_phone": "13893100001"},
    PROXY: {
        "insured_name": "张三", "insured_id": "620102199003077770",
        "household_address": "兰州市城关区皋兰路街道", "contribution_grade": "500",
        "contact_phone": "13893100001"},
}


@pytest.fixture
def demo_forms(catalog: None) -> None:
    """The demo items' application forms, loaded as ``tongban load_demo`` does (after the data
    elements their fields bind)."""
    from tests.exchange.conftest import DEMO_FORM_ELEMENTS, publish_demo_elements
    from tongban.demo.management.commands.load_demo import load_forms

    publish_demo_elements(*DEMO_FORM_ELEMENTS)
    load_forms()


def form_for(code: str) -> dict[str, Any]:
    """Valid form data for the item's demo form (with ``demo_forms`` loaded)."""
    return dict(DEMO_FORM_DATA[code])


# --- the HTTP API (tests/cases/test_api*.py, tests/workflows/) ---------------------------------

class ApiClient:
    """A client of /api/v1/ holding the bearer token its user got from POST /api/v1/auth/token.

    Each instance has its own Django test client, so that threads may each use one.
    """

    def __init__(self, username: str, password: str = "secret-pass-123") -> None:
        from django.test import Client

        self.client = Client(raise_request_exception=False)
        response = self.client.post("/api/v1/auth/token", {"username": username,
                                                           "password": password},
                                    content_type="application/json")
        assert response.status_code == 200, response.content
        self.headers = {"Authorization": f"Bearer {response.json()['token']}"}

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.get("/api/v1" + path, params or {}, headers=self.headers)

    def post(self, path: str, body: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None) -> Any:
        return self.client.post("/api/v1" + path, body if body is not None else {},
                                content_type="application/json",
                                headers={**self.headers, **(headers or {})})

    def upload(self, path: str, fields: dict[str, Any]) -> Any:
        """A multipart POST (files as open file objects)."""
        return self.client.post("/api/v1" + path, fields, headers=self.headers)


@pytest.fixture
def api(people: dict[str, User]) -> Any:
    """``api("officer")``: an API client logged in as that persona (one token per persona)."""
    clients: dict[str, ApiClient] = {}

    def as_user(name: str) -> ApiClient:
        if name not in clients:
            clients[name] = ApiClient(people[name].username)
        return clients[name]

    return as_user


def applicant_body(user: User) -> dict[str, Any]:
    return {"kind": "natural_person", "name": user.real_name, "id_number": user.id_number,
            "phone": user.phone}


WALK_IN = {"kind": "natural_person", "name": "王五", "id_number": "620102199003070018",
           "phone": "13893100009"}


def api_create(client: ApiClient, code: str, *, applicant: dict[str, Any], channel: str = "online",
               key: str = "", **extra: Any) -> dict[str, Any]:
    """POST /cases; asserts it was created and returns the case."""
    headers = {"Idempotency-Key": key} if key else {}
    response = client.post("/cases", {"item": code, "channel": channel, "applicant": applicant,
                                      "form_data": form(), **extra}, headers=headers)
    assert response.status_code == 201, response.content
    data: dict[str, Any] = response.json()
    return data


def api_upload_all(client: ApiClient, case: dict[str, Any], *, skip: int = 0) -> dict[str, Any]:
    """Upload a PDF for every material of the case's checklist (but the first ``skip``)."""
    for entry in case["checklist"][skip:]:
        response = client.upload(f"/cases/{case['id']}/materials",
                                 {"material": entry["material_id"], "file": named_pdf(entry["name"])})
        assert response.status_code == 201, response.content
        case = response.json()
    return case


def named_pdf(name: str) -> io.BytesIO:
    upload = pdf()
    upload.name = f"{name}.pdf"
    return upload


@pytest.fixture
def overseers(people: dict[str, User]) -> dict[str, User]:
    """Adds the supervisor (监察人员) and the bureau administrator to ``people``."""
    people["supervisor"] = make_user("supervisor", Role.SUPERVISOR, real_name="赵监察")
    people["bureau"] = make_user("bureau", Role.ADMIN, real_name="吴刚")
    return people


def ok(response: Any, status: int = 200) -> Any:
    """The JSON of an API answer that must have ``status`` (the body shown when it has not)."""
    assert response.status_code == status, response.content
    return response.json()
