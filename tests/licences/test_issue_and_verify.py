"""Issuing a licence and verifying it: by identifier (API, page), by its file (API, page, the
offline command). A licence changed by one byte, or signed with another key, fails."""

from __future__ import annotations

import base64
import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from tests.licences.conftest import COMPANY_USCC, food_surface, issue_food_licence
from tongban.accounts.models import User
from tongban.accounts.permissions import SYSTEM
from tongban.audit.models import AuditRecord
from tongban.core.crypto import encrypt_text
from tongban.core.errors import RuleViolation
from tongban.licences import identifiers, services, signing
from tongban.licences.models import Licence, LicenceType, Status
from tongban.licences.verification import licence_document
from tongban.organizations.models import Department

pytestmark = pytest.mark.django_db


def _verify(client: Client, identifier: str) -> dict[str, Any]:
    response = client.get("/api/v1/licences/verify", {"id": identifier})
    assert response.status_code == 200, response.content
    return dict(response.json())


def _document(licence: Licence) -> dict[str, Any]:
    return licence_document(Licence.objects.get(pk=licence.pk))


def test_an_issued_licence_is_signed_audited_and_verifies(licence_types: dict[str, LicenceType],
                                                          client: Client) -> None:
    licence = issue_food_licence(licence_types)
    parts = identifiers.parse(licence.identifier)
    assert parts == identifiers.Parts("11100000000013127D002", "11620100051317876B",
                                      "0000000001", 1)
    content = json.loads(licence.content)
    assert content["holder"] == {"kind": "legal_person", "name": "兰州示例餐饮有限公司",
                                 "id": COMPANY_USCC}
    assert [f["key"] for f in content["surface"]] == [
        "business_name", "holder_id", "legal_representative", "premises", "business_item"]
    assert content["valid_until"] is not None  # five years
    assert AuditRecord.objects.filter(action="licence.issued", object_id=str(licence.pk)).exists()
    answer = _verify(client, licence.identifier)
    assert answer["outcome"] == "valid"
    assert answer["holder"] == "兰州示例餐饮有限公司" and answer["type_name"] == "食品经营许可证"
    second = issue_food_licence(licence_types)
    assert identifiers.parse(second.identifier).serial == "0000000002"  # type: ignore[union-attr]


def test_unknown_and_malformed_identifiers_are_not_found(licence_types: dict[str, LicenceType],
                                                         client: Client) -> None:
    licence = issue_food_licence(licence_types)
    other_serial = identifiers.build("11100000000013127D002", "11620100051317876B", "0000000099", 1)
    assert _verify(client, other_serial)["outcome"] == "not_found"
    assert _verify(client, licence.identifier[:-1] + "Z")["outcome"] == "not_found"
    assert _verify(client, "nonsense")["outcome"] == "not_found"


def test_bad_surface_or_holder_is_refused_and_nothing_is_written(
        licence_types: dict[str, LicenceType]) -> None:
    market = Department.objects.get(uscc="11620100051317876B")
    with pytest.raises(RuleViolation) as refused:
        services.licence_issue(actor=SYSTEM, licence_type=licence_types["食品经营许可证"],
                               issuer=market,
                               holder=services.Holder("legal_person", "某公司", "91620102MA7123456X"),
                               surface={**food_surface(), "premises": ""})
    fields = {p.field for p in refused.value.problems}
    assert fields == {"holder.id", "surface.premises"}
    assert not Licence.objects.exists()


def _tamper_content(licence: Licence, change: Any) -> None:
    content = json.loads(licence.content)
    change(content)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE licences_licence SET content = %s WHERE id = %s",
                       [encrypt_text(signing.canonical(content)), licence.pk])


def test_a_stored_licence_changed_by_one_character_is_tampered(
        licence_types: dict[str, LicenceType], client: Client) -> None:
    licence = issue_food_licence(licence_types)
    _tamper_content(licence, lambda c: c["surface"][4].update(value="热食类食品制售、冷食"))
    assert _verify(client, licence.identifier)["outcome"] == "tampered"
    page = client.get("/licences/verify/", {"id": licence.identifier})
    assert page.status_code == 200 and 'data-outcome="tampered"' in page.content.decode()


def test_a_stored_licence_whose_row_says_otherwise_is_tampered(
        licence_types: dict[str, LicenceType], client: Client) -> None:
    licence = issue_food_licence(licence_types)
    Licence.objects.filter(pk=licence.pk).update(holder_name="别的公司")
    assert _verify(client, licence.identifier)["outcome"] == "tampered"


def test_a_file_changed_by_one_byte_fails_everywhere(licence_types: dict[str, LicenceType],
                                                     client: Client, tmp_path: Path) -> None:
    licence = issue_food_licence(licence_types)
    good = _document(licence)
    assert client.post("/api/v1/licences/verify", good,
                       content_type="application/json").json()["outcome"] == "valid"
    text = json.dumps(good, ensure_ascii=False)
    changed_text = text.replace("庆阳路100号", "庆阳路101号")
    assert len(changed_text.encode()) == len(text.encode()) and changed_text != text
    changed = json.loads(changed_text)
    # API
    answer = client.post("/api/v1/licences/verify", changed, content_type="application/json")
    assert answer.status_code == 200 and answer.json()["outcome"] == "tampered"
    # page
    upload = io.BytesIO(changed_text.encode())
    upload.name = "licence.json"
    page = client.post("/licences/verify/", {"file": upload})
    assert 'data-outcome="tampered"' in page.content.decode()
    # command, offline against the published keys
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(client.get("/api/v1/licences/keys").json()))
    good_file, bad_file = tmp_path / "good.json", tmp_path / "bad.json"
    good_file.write_text(text, encoding="utf-8")
    bad_file.write_text(changed_text, encoding="utf-8")
    out = io.StringIO()
    call_command("verify_licence", str(good_file), "--keys", str(keys), stdout=out)
    assert licence.identifier in out.getvalue()
    with pytest.raises(SystemExit) as failed:
        call_command("verify_licence", str(bad_file), "--keys", str(keys), stdout=io.StringIO())
    assert failed.value.code == 1


def test_a_file_signed_with_another_key_fails_everywhere(licence_types: dict[str, LicenceType],
                                                         client: Client, tmp_path: Path,
                                                         settings: Any) -> None:
    licence = issue_food_licence(licence_types)
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(client.get("/api/v1/licences/keys").json()))
    forged = copy.deepcopy(_document(licence))
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = Ed25519PrivateKey.generate()
    text = signing.canonical(forged["licence"])
    forged["signature"]["value"] = base64.b64encode(other.sign(signing.message(text))).decode()
    answer = client.post("/api/v1/licences/verify", forged, content_type="application/json")
    assert answer.json()["outcome"] == "tampered"
    upload = io.BytesIO(json.dumps(forged, ensure_ascii=False).encode())
    upload.name = "licence.json"
    assert 'data-outcome="tampered"' in client.post("/licences/verify/",
                                                    {"file": upload}).content.decode()
    forged_file = tmp_path / "forged.json"
    forged_file.write_text(json.dumps(forged, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(SystemExit):
        call_command("verify_licence", str(forged_file), "--keys", str(keys), stdout=io.StringIO())
    # The library's own copy re-signed with another key (a new key file) no longer verifies.
    settings.AUDIT_KEY_DIR = str(tmp_path / "other-keys")
    assert _verify(client, licence.identifier)["outcome"] == "tampered"


def test_the_command_checks_offline_and_asks_the_registry(licence_types: dict[str, LicenceType],
                                                          tmp_path: Path) -> None:
    licence = issue_food_licence(licence_types)
    path = tmp_path / "licence.json"
    path.write_text(json.dumps(_document(licence), ensure_ascii=False), encoding="utf-8")
    out = io.StringIO()
    call_command("verify_licence", str(path), "--registry", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["genuine"] is True and result["registry"] == "valid"
    services.licence_revoke(actor=SYSTEM, licence=licence, reason="测试注销")
    with pytest.raises(SystemExit):
        call_command("verify_licence", str(path), "--registry", stdout=io.StringIO())
    assert Licence.objects.get(pk=licence.pk).status == Status.REVOKED


def test_the_keys_are_published(client: Client, db: None) -> None:
    answer = client.get("/api/v1/licences/keys").json()
    assert answer["keys"][0]["algorithm"] == "ed25519"
    assert len(bytes.fromhex(answer["keys"][0]["public_key"])) == 32
    assert answer["message_prefix"] == "tongban-licence:v1\n"


def test_licence_types_are_kept_by_the_data_bureau(licence_types: dict[str, LicenceType],
                                                   people: dict[str, User]) -> None:
    from tongban.core.errors import AccessDenied

    food = licence_types["食品经营许可证"]
    data = services.LicenceTypeData(code=food.code, name=food.name, holder_kind=food.holder_kind,
                                    department=food.department, validity="years",
                                    validity_years=3, fields=food.fields)
    with pytest.raises(AccessDenied):
        services.licence_type_save(actor=people["officer"], data=data)
    saved = services.licence_type_save(actor=SYSTEM, data=data)
    assert saved.validity_years == 3
    with pytest.raises(RuleViolation) as refused:
        services.licence_type_save(actor=SYSTEM, data=services.LicenceTypeData(
            code="11100000000013127E002", name="", holder_kind="x", department=None,
            fields=[{"key": "A", "name": "", "element": "DE99999"}], template="{% if %}"))
    assert {p.field for p in refused.value.problems} >= {
        "code", "name", "holder_kind", "department", "fields.0.key", "fields.0.name",
        "fields.0.element", "template"}
