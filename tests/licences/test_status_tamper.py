"""A licence's status is not in its signed content; verification compares it with the licence's
history (the audited revocation and expiry, the next version of a changed one), so a status
edited in the database reads as tampered."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.licences.conftest import issue_food_licence
from tongban.accounts.models import User
from tongban.licences import services
from tongban.licences.models import Licence, LicenceType, Status
from tongban.licences.verification import licence_document, verify_document, verify_identifier

pytestmark = pytest.mark.django_db


def _outcome(client: Client, identifier: str) -> str:
    return str(client.get("/api/v1/licences/verify", {"id": identifier}).json()["outcome"])


def test_a_revoked_licence_set_back_to_valid_reads_as_tampered(
        licence_types: dict[str, LicenceType], people: dict[str, User], client: Client) -> None:
    licence = issue_food_licence(licence_types)
    document = json.loads(json.dumps(licence_document(licence)))
    services.licence_revoke(actor=people["head"], licence=licence, reason="经营者申请注销")
    assert _outcome(client, licence.identifier) == "revoked"
    Licence.objects.filter(pk=licence.pk).update(status=Status.VALID, status_reason="")
    assert _outcome(client, licence.identifier) == "tampered"
    assert verify_document(document).outcome == "tampered"  # the downloaded file too
    page = client.get("/licences/verify/", {"id": licence.identifier}).content.decode()
    assert "证照状态与签发、变更、注销的记录不符" in page
    # Revoked again, but with another reason than the one recorded.
    Licence.objects.filter(pk=licence.pk).update(status=Status.REVOKED, status_reason="别的理由")
    assert verify_identifier(licence.identifier).problems == ["注销理由与注销记录不符"]
    Licence.objects.filter(pk=licence.pk).update(status_reason="经营者申请注销")
    assert _outcome(client, licence.identifier) == "revoked"


def test_changed_and_expired_statuses_are_checked_too(
        licence_types: dict[str, LicenceType], people: dict[str, User], client: Client) -> None:
    licence = issue_food_licence(licence_types)
    new = services.licence_change(actor=people["officer"], licence=licence,
                                  surface={"premises": "兰州市城关区张掖路8号"}, reason="经营场所变更")
    Licence.objects.filter(pk=licence.pk).update(status=Status.VALID)
    assert _outcome(client, licence.identifier) == "tampered"
    Licence.objects.filter(pk=licence.pk).update(status=Status.CHANGED)
    assert _outcome(client, licence.identifier) == "changed"
    # Revoked or expired in the database alone, with no audited move: tampered as well.
    Licence.objects.filter(pk=new.pk).update(status=Status.REVOKED, status_reason="伪造")
    assert _outcome(client, new.identifier) == "tampered"
    Licence.objects.filter(pk=new.pk).update(status=Status.EXPIRED, status_reason="")
    assert _outcome(client, new.identifier) == "tampered"
    Licence.objects.filter(pk=new.pk).update(status=Status.VALID)
    assert _outcome(client, new.identifier) == "valid"
