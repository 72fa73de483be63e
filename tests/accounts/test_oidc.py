"""Login through the provincial identity provider (OIDC): off unless switched on; the provider's
claims become a citizen account (matched by ID number, or created). No provider is contacted."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from tongban.accounts import oidc, services
from tongban.accounts.models import Role, User
from tongban.audit.models import AuditRecord
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.organizations.models import Department

from ..conftest import make_user

pytestmark = pytest.mark.django_db
PERSON_ID = "620102198503150028"
BUTTON = "使用省统一身份认证登录"


@pytest.fixture
def oidc_on(settings: Settings) -> Settings:
    settings.OIDC_ENABLED = True
    settings.OIDC_RP_CLIENT_ID = "tongban"
    settings.OIDC_RP_CLIENT_SECRET = "secret"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = "https://idp.example.gov.cn/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = "https://idp.example.gov.cn/token"
    settings.OIDC_OP_USER_ENDPOINT = "https://idp.example.gov.cn/userinfo"
    settings.OIDC_RP_SIGN_ALGO = "HS256"
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS,
                                        "tongban.accounts.oidc.ProvinceIdentityBackend"]
    return settings


def test_off_by_default_no_button_and_no_urls(client: Client) -> None:
    assert BUTTON not in client.get("/accounts/login/").content.decode()
    assert client.get("/accounts/oidc/authenticate/").status_code == 404
    assert client.get("/accounts/oidc/callback/?code=x&state=y").status_code == 404
    backend = oidc.ProvinceIdentityBackend()
    assert backend.authenticate(None, username="x", password="y") is None


def test_switched_on_the_button_sends_the_visitor_to_the_provider(client: Client, oidc_on: Any) -> None:
    page = client.get("/accounts/login/").content.decode()
    assert BUTTON in page and 'href="/accounts/oidc/authenticate/"' in page
    assert BUTTON not in client.get("/accounts/staff/login/").content.decode()
    response = client.get("/accounts/oidc/authenticate/")
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("https://idp.example.gov.cn/authorize?")
    assert "client_id=tongban" in location
    assert "redirect_uri=http%3A%2F%2Ftestserver%2Faccounts%2Foidc%2Fcallback%2F" in location


def test_a_refused_provider_login_says_so(client: Client, oidc_on: Any) -> None:
    response = client.get("/accounts/oidc/callback/?error=access_denied")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?oidc=failed"
    assert "统一身份认证登录未成功" in client.get(response["Location"]).content.decode()


def test_claims_map_to_an_identity(settings: Settings) -> None:
    identity = oidc.identity_from_claims({"name": " 张三 ", "id_number": "620102198503150028",
                                          "phone_number": "13912345678", "email": "x@example.cn"})
    assert identity == services.Identity(name="张三", id_number=PERSON_ID, phone="13912345678")
    settings.OIDC_CLAIMS = {"name": "xm", "id_number": "sfzh", "phone": "sjh"}
    assert oidc.identity_from_claims({"xm": "李四", "sfzh": PERSON_ID, "sjh": 13712345678}) == \
        services.Identity(name="李四", id_number=PERSON_ID, phone="13712345678")


def test_a_new_person_gets_a_citizen_account_without_a_password(oidc_on: Any,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    backend = oidc.ProvinceIdentityBackend()
    monkeypatch.setattr(backend, "get_userinfo", lambda *a: {
        "name": "张三", "id_number": "620102198503150028", "phone_number": "+86 139-1234-5678"})
    user = backend.get_or_create_user("access", "id", {})
    assert (user.role, user.real_name, user.id_number, user.phone) == (
        Role.CITIZEN, "张三", PERSON_ID, "13912345678")
    assert user.username.startswith("gov") and not user.has_usable_password()
    record = AuditRecord.objects.get(action="user.created")
    assert record.detail["source"] == "oidc" and PERSON_ID not in str(record.detail)
    # The same person again: the same account, nothing new.
    assert backend.get_or_create_user("access", "id", {}) == user
    assert User.objects.count() == 1 and AuditRecord.objects.count() == 1


def test_an_existing_citizen_is_matched_by_id_number_and_updated(citizen: User) -> None:
    user = services.account_from_identity(identity=services.Identity(
        name="王小明", id_number="620102199001011233", phone="13600000000"))
    assert user.pk == citizen.pk
    citizen.refresh_from_db()
    assert (citizen.real_name, citizen.phone) == ("王小明", "13600000000")
    assert AuditRecord.objects.get().detail == {"fields": ["phone", "real_name"]}


def test_staff_and_bad_claims_are_refused(oidc_on: Any, city_department: Department,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    make_user("officer", Role.OFFICER, department=city_department, id_number=PERSON_ID)
    with pytest.raises(AccessDenied):
        services.account_from_identity(identity=services.Identity(name="赵强", id_number=PERSON_ID))
    with pytest.raises(RuleViolation):
        services.account_from_identity(identity=services.Identity(name="某人", id_number="123"))
    backend = oidc.ProvinceIdentityBackend()
    monkeypatch.setattr(backend, "get_userinfo", lambda *a: {"name": "赵强", "id_number": PERSON_ID})
    assert backend.get_or_create_user("a", "i", {}) is None
    monkeypatch.setattr(backend, "get_userinfo", lambda *a: {"name": "", "id_number": PERSON_ID})
    assert backend.get_or_create_user("a", "i", {}) is None
    assert User.objects.count() == 1
