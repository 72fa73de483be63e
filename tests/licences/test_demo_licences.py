"""The demo's licences (``tongban load_demo``): issued through the library's service — signed,
audited, verifiable — for 张明, the demo company and some synthetic people and companies; a
second run issues nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import make_user
from tongban.accounts.models import Role, User
from tongban.audit.models import AuditRecord
from tongban.demo.licences import load_demo_licences
from tongban.licences.models import Licence, LicenceType
from tongban.licences.verification import verify_identifier

pytestmark = pytest.mark.django_db


def test_demo_licences_are_issued_once_and_verify(licence_types: dict[str, LicenceType],
                                                  people: dict[str, User], client: Client) -> None:
    issued = load_demo_licences()
    assert issued == Licence.objects.count() > 60
    assert AuditRecord.objects.filter(action="licence.issued").count() == issued
    assert {t.name for t in LicenceType.objects.filter(licences__isnull=False)} == {
        "营业执照", "食品经营许可证", "居民身份证", "结婚证", "出生医学证明", "不动产权证书"}
    assert {verify_identifier(lc.identifier).outcome for lc in Licence.objects.all()} == {"valid"}

    zhang = make_user("zhangming", Role.CITIZEN, real_name="张明", id_number="620102199001011233")
    client.force_login(zhang)
    mine = client.get("/api/v1/me/licences").json()
    assert sorted(lc["type_name"] for lc in mine) == ["不动产权证书", "居民身份证", "结婚证"]
    company = make_user("shili2", Role.ENTERPRISE, real_name="兰州示例餐饮有限公司",
                        uscc="91620102MA7123456T")
    client.force_login(company)
    page = client.get("/licences/mine/").content.decode()
    assert "营业执照" in page and "食品经营许可证" in page

    assert load_demo_licences() == 0
    assert Licence.objects.count() == issued
