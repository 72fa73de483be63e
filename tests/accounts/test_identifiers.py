"""公民身份号码: one check for every door (``accounts.identifiers``). A number keeps the division
code of the place that issued it, so a code younger than its holder — or withdrawn since — is
valid; each kind of fault has its own message."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import translation

from tongban.accounts import services
from tongban.accounts.identifiers import IdNumberFault, id_number_fault, id_number_problem
from tongban.accounts.models import Role, User
from tongban.core.errors import RuleViolation

from ..conftest import make_uscc

# Born 1955 in 城关区, whose code 620102 is dated 1983 onwards: a valid number.
ELDER = "620102195506101236"
TODAY = dt.date(2026, 12, 6)
PASSWORD = "a-long-passphrase"

pytestmark = pytest.mark.django_db


def test_an_older_residents_number_is_valid_although_the_code_is_younger() -> None:
    assert id_number_fault(ELDER, today=TODAY) is None
    assert id_number_problem(ELDER, today=TODAY) is None
    # Spaces, hyphens and a lower-case x are only writing.
    assert id_number_fault("620102 1955-0610 1236", today=TODAY) is None
    # A code withdrawn since (崇文区, until 2010) stays the code of numbers it issued.
    assert id_number_fault("110103195506101232", today=TODAY) is None


@pytest.mark.parametrize(("number", "fault", "message"), [
    ("62010219550610123", IdNumberFault.LENGTH, "公民身份号码应为18位（现为17位）"),
    ("62010219550610123A", IdNumberFault.FORMAT, "公民身份号码前17位应为数字，末位应为数字或X"),
    ("620102195502301230", IdNumberFault.DATE,
     "公民身份号码第7至14位的出生日期1955-02-30不是有效日期"),
    ("620102209901011235", IdNumberFault.DATE, "公民身份号码中的出生日期2099-01-01晚于今天"),
    ("620102195506101235", IdNumberFault.CHECK, "公民身份号码末位校验码与前17位不符，请核对号码"),
    ("620199195506101235", IdNumberFault.DIVISION,
     "公民身份号码前6位620199不是任何时期的行政区划代码"),
])
def test_each_fault_says_which_part_is_wrong(number: str, fault: IdNumberFault,
                                              message: str) -> None:
    assert id_number_fault(number, today=TODAY) == fault
    assert str(id_number_problem(number, today=TODAY)) == message


def test_the_messages_are_in_english_too() -> None:
    with translation.override("en"):
        assert str(id_number_problem("620102195506101235", today=TODAY)) == (
            "Citizen ID number: the check character does not match the first 17 digits; "
            "please check the number")
        assert str(id_number_problem("620199195506101235", today=TODAY)) == (
            "Citizen ID number: the first six digits 620199 are not an administrative division "
            "code of any period")


# --- every account door ----------------------------------------------------------------------------


def test_an_older_resident_registers() -> None:
    fields = services.UserFields(username="wangxl", role=Role.CITIZEN, real_name="王秀兰",
                                 id_number=ELDER, phone="13912345670")
    user = services.account_register(actor=None, fields=fields, password=PASSWORD)
    assert user.id_number == ELDER


def test_the_registration_page_accepts_the_older_resident(client: Client) -> None:
    response = client.post("/accounts/register/", {
        "real_name": "王秀兰", "id_number": ELDER, "phone": "139 1234 5670",
        "username": "wangxl", "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302, response.content.decode()
    assert User.objects.get(username="wangxl").id_number == ELDER


def test_an_unknown_division_is_refused_at_registration_and_nothing_is_saved() -> None:
    fields = services.UserFields(username="wangxl", role=Role.CITIZEN, real_name="王秀兰",
                                 id_number="620199195506101235", phone="13912345670")
    with pytest.raises(RuleViolation) as exc:
        services.account_register(actor=None, fields=fields, password=PASSWORD)
    assert [(p.field, str(p.message)) for p in exc.value.problems] == [
        ("id_number", "公民身份号码前6位620199不是任何时期的行政区划代码")]
    assert not User.objects.exists()


def test_a_company_whose_legal_representative_is_older_registers() -> None:
    fields = services.UserFields(
        username="huafeng", role=Role.ENTERPRISE, real_name="兰州华丰食品有限公司",
        uscc=make_uscc(78), legal_representative="王秀兰", legal_representative_id_number=ELDER,
        phone="13712345678")
    user = services.account_register(actor=None, fields=fields, password=PASSWORD)
    assert user.legal_representative_id_number == ELDER


def test_the_identity_provider_may_vouch_for_an_older_resident() -> None:
    user = services.account_from_identity(identity=services.Identity(name="王秀兰", id_number=ELDER))
    assert (user.role, user.id_number) == ("citizen", ELDER)
