"""Self-registration of citizens and companies: the service's rules and the registration pages."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.test import Client

from tongban.accounts import services
from tongban.accounts.models import Role, User
from tongban.audit.models import AuditRecord
from tongban.core.errors import AccessDenied, RuleViolation

from ..conftest import make_uscc

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse

pytestmark = pytest.mark.django_db

PERSON_ID = "620102198503150028"
REP_ID = "62010219920708004X"
PASSWORD = "a-long-passphrase"


def problems(exc: pytest.ExceptionInfo[RuleViolation]) -> dict[str, str]:
    return {p.field: str(p.message) for p in exc.value.problems}


def person(**kw: str) -> services.UserFields:
    values = {"username": "zhangsan", "role": Role.CITIZEN, "real_name": "张三",
              "id_number": PERSON_ID, "phone": "13912345678"} | kw
    return services.UserFields(**values)  # type: ignore[arg-type]


def company(**kw: str) -> services.UserFields:
    values = {"username": "huafeng", "role": Role.ENTERPRISE, "real_name": "兰州华丰食品有限公司",
              "uscc": make_uscc(77), "legal_representative": "李华", "legal_representative_id_number": REP_ID,
              "phone": "13712345678"} | kw
    return services.UserFields(**values)  # type: ignore[arg-type]


# --- the service ---------------------------------------------------------------------------------

def test_a_citizen_registers_and_it_is_audited() -> None:
    user = services.account_register(actor=None, fields=person(), password=PASSWORD)
    assert (user.role, user.real_name, user.id_number, user.phone) == (
        "citizen", "张三", PERSON_ID, "13912345678")
    assert user.check_password(PASSWORD) and not user.is_staff
    actions = list(AuditRecord.objects.filter(object_id=str(user.pk)).values_list("action", flat=True))
    assert actions == ["user.created", "user.registered"]
    assert PERSON_ID not in str(list(AuditRecord.objects.values_list("detail", flat=True)))


def test_a_company_registers_with_its_legal_representative() -> None:
    user = services.account_register(actor=None, fields=company(), password=PASSWORD)
    assert (user.role, user.uscc, user.legal_representative, user.legal_representative_id_number,
            user.id_number) == ("enterprise", make_uscc(77), "李华", REP_ID, "")


def test_the_legal_representative_may_also_hold_a_citizen_account() -> None:
    services.account_register(actor=None, fields=person(id_number=REP_ID), password=PASSWORD)
    user = services.account_register(actor=None, fields=company(), password=PASSWORD)
    assert user.legal_representative_id_number == REP_ID


def test_every_problem_is_reported_per_field_and_nothing_is_saved() -> None:
    with pytest.raises(RuleViolation) as exc:
        services.account_register(actor=None, password="123", fields=person(
            id_number="620102198503150029", phone="", username="bad name!"))
    found = problems(exc)
    assert found["id_number"] == "公民身份号码末位校验码与前17位不符，请核对号码"
    assert found["phone"] == "手机号码不能为空"
    assert found["username"] == "用户名只能包含字母、数字和 @/./+/-/_"
    assert "password" in found
    assert not User.objects.exists() and not AuditRecord.objects.exists()


def test_company_rules_uscc_and_legal_representative_id() -> None:
    with pytest.raises(RuleViolation) as exc:
        services.account_register(actor=None, password=PASSWORD, fields=company(
            uscc="91620100MA7ABCDEF0", legal_representative_id_number=""))
    found = problems(exc)
    assert found["uscc"] == "统一社会信用代码“91620100MA7ABCDEF0”无效（须为18位且校验码正确）"
    assert found["legal_representative_id_number"] == "法人账户须填写法定代表人身份证号码"
    with pytest.raises(RuleViolation) as exc:
        services.account_register(actor=None, password=PASSWORD,
                                  fields=company(legal_representative_id_number="620102199207080041"))
    assert problems(exc) == {"legal_representative_id_number":
                             "法定代表人身份证号码末位校验码与前17位不符，请核对号码"}
    assert not User.objects.exists()


def test_duplicates_are_rejected_with_a_field_message(citizen: User) -> None:
    services.account_register(actor=None, fields=company(), password=PASSWORD)
    with pytest.raises(RuleViolation) as exc:
        services.account_register(actor=None, password=PASSWORD, fields=person(
            username="CITIZEN", id_number="620102199001011233"))
    assert problems(exc) == {"username": "用户名“CITIZEN”已被使用", "id_number": "该公民身份号码已注册账户"}
    with pytest.raises(RuleViolation) as exc:
        services.account_register(actor=None, password=PASSWORD, fields=company(username="other"))
    assert problems(exc) == {"uscc": "该统一社会信用代码已注册账户"}
    assert User.objects.count() == 2


def test_staff_roles_cannot_be_registered_and_logged_in_users_cannot_register(citizen: User) -> None:
    with pytest.raises(RuleViolation) as exc:
        services.account_register(actor=None, password=PASSWORD, fields=person(role=Role.OFFICER))
    assert problems(exc) == {"role": "只能注册自然人或法人账户"}
    with pytest.raises(AccessDenied):
        services.account_register(actor=citizen, password=PASSWORD, fields=person())
    assert User.objects.count() == 1


# --- the pages -----------------------------------------------------------------------------------

def _post_person(client: Client, **kw: str) -> _MonkeyPatchedWSGIResponse:
    data = {"real_name": "张三", "id_number": PERSON_ID, "phone": "139 1234 5678",
            "username": "zhangsan", "password1": PASSWORD, "password2": PASSWORD} | kw
    return client.post("/accounts/register/?next=/topics/", data | {"next": "/topics/"})


def test_registering_logs_the_person_in_and_goes_on(client: Client) -> None:
    page = client.get("/accounts/register/").content.decode()
    for label in ("姓名", "公民身份号码", "手机号码", "用户名", "密码", "确认密码"):
        assert f">{label}</label>" in page
    response = _post_person(client)
    assert response.status_code == 302 and response["Location"] == "/topics/"
    user = User.objects.get(username="zhangsan")
    assert client.session["_auth_user_id"] == str(user.pk)
    assert user.phone == "13912345678"


def test_bad_input_is_shown_next_to_the_field_in_chinese(client: Client) -> None:
    response = _post_person(client, id_number="12345", password2="different-pass")
    assert response.status_code == 400
    page = response.content.decode()
    assert "两次输入的密码不一致" in page
    assert not User.objects.exists()
    response = _post_person(client, id_number="620102198503150029")
    page = response.content.decode()
    assert "公民身份号码末位校验码与前17位不符，请核对号码" in page and 'aria-invalid="true"' in page
    assert not User.objects.exists()


def test_company_registration_page(client: Client) -> None:
    page = client.get("/accounts/register/company/").content.decode()
    for label in ("单位名称", "统一社会信用代码", "法定代表人姓名", "法定代表人身份证号码"):
        assert f">{label}</label>" in page
    response = client.post("/accounts/register/company/", {
        "real_name": "兰州华丰食品有限公司", "uscc": make_uscc(77), "legal_representative": "李华",
        "legal_representative_id_number": REP_ID, "phone": "13712345678", "username": "huafeng",
        "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    assert User.objects.get(username="huafeng").role == Role.ENTERPRISE


def test_a_logged_in_user_is_not_offered_registration(client: Client, citizen: User) -> None:
    client.force_login(citizen)
    response = client.get("/accounts/register/")
    assert response.status_code == 302 and response["Location"] == "/accounts/me/"
