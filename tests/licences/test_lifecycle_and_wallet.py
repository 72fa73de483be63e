"""Life cycle (revoke, change, expire: audited, the holder told), the wallet (only the holder's
own) and 授权用证 (every use in the exchange log the holder sees)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from tests.cases.conftest import ApiClient
from tests.conftest import Freeze
from tests.factories import uscc
from tests.licences.conftest import issue_food_licence
from tongban.accounts.models import User
from tongban.accounts.permissions import SYSTEM
from tongban.audit.models import AuditRecord
from tongban.cases.notifications.models import Notification
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.exchange.models import ExchangeUse
from tongban.licences import services
from tongban.licences.models import Licence, LicenceType, Status
from tongban.organizations.models import Department

pytestmark = pytest.mark.django_db


def _outcome(client: Client, identifier: str) -> str:
    return str(client.get("/api/v1/licences/verify", {"id": identifier}).json()["outcome"])


def test_revoke_is_audited_told_and_verified(licence_types: dict[str, LicenceType],
                                             people: dict[str, User], company: User,
                                             client: Client, told: Any) -> None:
    with told():
        licence = issue_food_licence(licence_types)
    assert Notification.objects.filter(recipient=company, kind="licence").count() == 1
    with pytest.raises(AccessDenied):
        services.licence_revoke(actor=people["hr_officer"], licence=licence, reason="无权")
    with pytest.raises(RuleViolation):
        services.licence_revoke(actor=people["head"], licence=licence, reason=" ")
    with told():
        services.licence_revoke(actor=people["head"], licence=licence, reason="经营者申请注销")
    assert Licence.objects.get(pk=licence.pk).status == Status.REVOKED
    answer = client.get("/api/v1/licences/verify", {"id": licence.identifier}).json()
    assert (answer["outcome"], answer["reason"]) == ("revoked", "经营者申请注销")
    assert AuditRecord.objects.filter(action="licence.revoked").count() == 1
    assert Notification.objects.filter(recipient=company, kind="licence").count() == 2
    with pytest.raises(RuleViolation):  # not twice
        services.licence_revoke(actor=people["head"], licence=licence, reason="再次")


def test_change_issues_the_next_version(licence_types: dict[str, LicenceType],
                                        people: dict[str, User], client: Client) -> None:
    licence = issue_food_licence(licence_types)
    new = services.licence_change(actor=people["officer"], licence=licence,
                                  surface={"premises": "兰州市城关区张掖路8号"}, reason="经营场所变更")
    assert (new.serial, new.version, new.previous_id) == (licence.serial, 2, licence.pk)
    assert new.identifier.split(".")[-2] == "002"
    assert _outcome(client, licence.identifier) == "changed"
    answer = client.get("/api/v1/licences/verify", {"id": licence.identifier}).json()
    assert answer["current"] == new.identifier
    assert _outcome(client, new.identifier) == "valid"
    assert AuditRecord.objects.filter(action="licence.changed").count() == 1


def test_expiry_by_date_and_by_the_sweep(licence_types: dict[str, LicenceType], client: Client,
                                         freeze: Freeze, company: User, told: Any) -> None:
    with told():
        licence = issue_food_licence(licence_types)
    assert licence.valid_until is not None
    freeze(dt.datetime.combine(licence.valid_until + dt.timedelta(days=2), dt.time(12),
                               tzinfo=dt.UTC))
    assert _outcome(client, licence.identifier) == "expired"  # before the sweep too
    with told():
        assert services.licences_expire(actor=SYSTEM) == [licence.identifier]
    assert services.licences_expire(actor=SYSTEM) == []  # idempotent
    assert Licence.objects.get(pk=licence.pk).status == Status.EXPIRED
    assert AuditRecord.objects.filter(action="licence.expired").count() == 1
    assert Notification.objects.filter(recipient=company, kind="licence").count() == 2


def test_the_wallet_shows_only_the_holders_own(licence_types: dict[str, LicenceType],
                                               people: dict[str, User], company: User,
                                               client: Client) -> None:
    mine = issue_food_licence(licence_types)
    theirs = issue_food_licence(licence_types, holder_id=uscc(77))
    assert theirs.holder_id != mine.holder_id
    client.force_login(company)
    page = client.get("/licences/mine/").content.decode()
    assert mine.identifier in page and theirs.identifier not in page
    assert client.get(f"/licences/mine/{theirs.identifier}/").status_code == 404
    assert client.get(f"/licences/{theirs.identifier}/pdf/").status_code == 404
    pdf = client.get(f"/licences/{mine.identifier}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    api = [lc["identifier"] for lc in ApiClient("shili").get("/me/licences").json()]
    assert api == [mine.identifier]
    assert ApiClient("zhangsan").get(f"/licences/{mine.identifier}").status_code == 403


def test_an_authorised_use_is_in_the_holders_exchange_log(
        licence_types: dict[str, LicenceType], people: dict[str, User], company: User,
        client: Client) -> None:
    licence = issue_food_licence(licence_types)
    hrss = Department.objects.get(name="兰州市人力资源和社会保障局")
    with pytest.raises(AccessDenied):  # only the holder authorises
        services.authorization_grant(actor=people["citizen"], licence=licence, department=hrss,
                                     purpose="x")
    client.force_login(company)
    response = client.post(f"/licences/mine/{licence.identifier}/",
                           {"department": hrss.pk, "purpose": "办理劳务派遣经营许可",
                            "case_number": "LZ2026120700009", "days": "30"})
    assert response.status_code == 302
    authorization = licence.authorizations.get()
    # Another department may not use it; the authorised one may, and the use is recorded.
    with pytest.raises(AccessDenied):
        services.licence_use(actor=people["officer"], authorization=authorization)
    used = ApiClient("hr_officer").post(f"/licence-authorizations/{authorization.pk}/use", {})
    assert used.status_code == 200 and used.json()["licence"]["identifier"] == licence.identifier
    use = ExchangeUse.objects.get()
    assert (use.consumer, use.licence_identifier, use.case_number, use.grant_id) == (
        hrss, licence.identifier, "LZ2026120700009", None)
    assert use.audit_seq is not None
    assert AuditRecord.objects.filter(action="licence.used", seq=use.audit_seq).exists()
    page = client.get("/data/my-data-uses/").content.decode()
    assert licence.identifier in page and "办理劳务派遣经营许可" in page
    mine = ApiClient("shili").get("/me/data-uses").json()
    assert [u["licence"] for u in mine] == [licence.identifier]
    # Withdrawn: no more uses.
    services.authorization_revoke(actor=company, authorization=authorization)
    with pytest.raises(AccessDenied):
        services.licence_use(actor=people["hr_officer"], authorization=authorization)
    assert ExchangeUse.objects.count() == 1
