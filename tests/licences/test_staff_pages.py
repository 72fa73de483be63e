"""The staff's pages of the library: the issuing department's licences (list with filters and
masked holder codes, change and revoke through the services) and the data bureau's licence
types (view, edit, upload a types file refused whole)."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.conftest import make_user
from tests.licences.conftest import DEMO_TYPES, issue_food_licence
from tongban.accounts.models import Role, User
from tongban.accounts.permissions import SYSTEM
from tongban.audit.models import AuditRecord
from tongban.licences import services
from tongban.licences.models import Licence, LicenceType, Status
from tongban.organizations.models import Department

pytestmark = pytest.mark.django_db

PERSON_ID = "620102199001011233"


def _login(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def _identity_card(types: dict[str, LicenceType]) -> Licence:
    return services.licence_issue(
        actor=SYSTEM, licence_type=types["居民身份证"], issuer=types["居民身份证"].department,
        holder=services.Holder("natural_person", "张明", PERSON_ID),
        surface={"birth_date": "1990-01-01", "address": "兰州市城关区皋兰路1号"})


def test_the_department_lists_its_licences_with_filters_and_masked_codes(
        licence_types: dict[str, LicenceType], people: dict[str, User], client: Client) -> None:
    food = issue_food_licence(licence_types)
    card = _identity_card(licence_types)
    police = make_user("police_officer", Role.OFFICER, department=card.issuer)
    page = _login(client, police).get("/licences/issued/").content.decode()
    assert card.identifier in page and food.identifier not in page  # another department's
    assert "6201**********1233" in page and PERSON_ID not in page
    found = client.get("/licences/issued/", {"q": PERSON_ID})
    assert [r["licence"] for r in found.context["rows"]] == [card], found.context["total"]
    assert card.identifier not in client.get("/licences/issued/", {"status": "revoked"}).content.decode()
    assert client.get(f"/licences/issued/{food.identifier}/").status_code == 404
    market = _login(Client(), people["officer"])
    listed = market.get("/licences/issued/", {"type": licence_types["食品经营许可证"].code})
    assert food.identifier in listed.content.decode()
    assert market.get("/licences/issued/").context["total"] == 1


def test_revoke_and_change_from_the_licence_page(licence_types: dict[str, LicenceType],
                                                 people: dict[str, User], client: Client) -> None:
    licence = issue_food_licence(licence_types)
    url = f"/licences/issued/{licence.identifier}/"
    _login(client, people["officer"])
    page = client.get(url)
    assert page.context["actions"] == services.LicenceActions(change=True, revoke=True)
    refused = client.post(url, {"action": "change", "reason": "", "surface-premises": "x"})
    assert refused.status_code == 422 and Licence.objects.count() == 1
    changed = client.post(url, {"action": "change", "reason": "经营场所变更",
                                "holder_name": "兰州示例餐饮有限公司",
                                "surface-premises": "兰州市城关区张掖路8号",
                                "surface-business_name": "兰州示例餐饮有限公司",
                                "surface-legal_representative": "李华",
                                "surface-business_item": "热食类食品制售"})
    new = Licence.objects.get(previous=licence)
    assert changed.status_code == 302 and changed["Location"].endswith(f"/{new.identifier}/")
    assert {f["key"]: f["value"] for f in json.loads(new.content)["surface"]}["premises"] == \
        "兰州市城关区张掖路8号"
    old = client.get(url)
    assert old.context["actions"] == services.LicenceActions(change=False, revoke=False)
    new_url = f"/licences/issued/{new.identifier}/"
    assert client.post(new_url, {"action": "revoke", "reason": " "}).status_code == 422
    assert client.post(new_url, {"action": "revoke", "reason": "经营者申请注销"}).status_code == 302
    assert Licence.objects.get(pk=new.pk).status == Status.REVOKED
    assert AuditRecord.objects.filter(action="licence.revoked").count() == 1
    other = _login(Client(), people["hr_officer"])
    assert other.get(new_url).status_code == 404  # another department's licence


def _bureau_officer() -> User:
    bureau = Department.objects.get(name="兰州市大数据管理局")
    bureau.is_data_bureau = True
    bureau.save(update_fields=["is_data_bureau"])
    return make_user("bureau_data", Role.DATA_OFFICER, department=bureau)


def _types_file(rows: object) -> SimpleUploadedFile:
    return SimpleUploadedFile("types.json", json.dumps(rows, ensure_ascii=False).encode(),
                             content_type="application/json")


def test_the_data_bureau_keeps_the_types(licence_types: dict[str, LicenceType],
                                         people: dict[str, User], client: Client) -> None:
    _login(client, _bureau_officer())
    page = client.get("/licences/types/").content.decode()
    assert all(name in page for name in licence_types)
    rows = json.loads(DEMO_TYPES.read_text(encoding="utf-8"))
    rows[0]["name_en"] = "Business licence (changed)"
    rows[2]["fields"][0]["element"] = "DE99999"
    refused = client.post("/licences/types/", {"file": _types_file(rows)})
    assert refused.status_code == 422
    assert "2.fields.0.element" in refused.content.decode()
    assert LicenceType.objects.get(name="营业执照").name_en == "Business licence"  # refused whole
    del rows[2]["fields"][0]["element"]
    rows[2]["fields"][0]["element"] = "DE00001"
    assert client.post("/licences/types/", {"file": _types_file(rows)}).status_code == 302
    assert LicenceType.objects.get(name="营业执照").name_en == "Business licence (changed)"
    assert AuditRecord.objects.filter(action="licence_type.changed").count() == 1

    food = licence_types["食品经营许可证"]
    url = f"/licences/types/{food.code}/"
    form = client.get(url).context
    assert form["values"]["name"] == "食品经营许可证" and len(form["rows"]) == len(food.fields) + 3
    post = {"name": "食品经营许可证", "name_en": "Food business licence",
            "aliases": "食品经营许可证（变更后）",
            "holder_kind": "legal_person", "department": str(food.department_id),
            "validity": "years", "validity_years": "5", "active": "1", "template": ""}
    for i, spec in enumerate(food.fields):
        post |= {f"field-{i}-key": spec["key"], f"field-{i}-name": spec["name"],
                 f"field-{i}-element": spec["element"], f"field-{i}-required": "1"}
    assert client.post(url, {**post, "validity_years": "0"}).status_code == 422
    assert client.post(url, {**post, "validity_years": "6"}).status_code == 302
    assert LicenceType.objects.get(pk=food.pk).validity_years == 6
    new = client.post("/licences/types/new/", {**post, "code": "11100000000013127D009",
                                                "name": "测试证照"})
    assert new.status_code == 302 and LicenceType.objects.filter(name="测试证照").exists()


def test_a_departments_own_data_officer_may_not_keep_the_types(
        licence_types: dict[str, LicenceType], people: dict[str, User], client: Client) -> None:
    market = Department.objects.get(name="兰州市市场监督管理局")
    _login(client, make_user("market_data", Role.DATA_OFFICER, department=market))
    assert client.get("/licences/types/").status_code == 403
    _login(client, people["officer"])
    assert client.get("/licences/types/").status_code == 403
