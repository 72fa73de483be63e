"""Application forms filled in: form data checked against the item's form whichever door it came
through, cases pinned to their form version (the definitions themselves:
tests/catalog/test_form_definitions.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.cases.conftest import (
    DEMO_FORM_DATA,
    ON_THE_SPOT,
    PROXY,
    SAME_DAY,
    TIME_LIMITED,
    form,
    form_for,
    item,
)
from tests.conftest import make_user
from tongban.accounts.models import Role, User
from tongban.accounts.permissions import SYSTEM
from tongban.audit.models import AuditRecord
from tongban.cases import services
from tongban.cases.forms import case_form_fields, form_fields, form_validate
from tongban.cases.models import Case, Channel
from tongban.cases.services import ApplicantData
from tongban.catalog.form_definitions import form_definition_save
from tongban.catalog.models import FormDefinition
from tongban.core.errors import RuleViolation

pytestmark = pytest.mark.django_db

SIMPLE = [
    {"name": "shop_name", "label": "店铺名称", "type": "text", "required": True, "max_length": 20},
    {"name": "area", "label": "面积", "type": "number", "min": 1, "max": 500},
]


def problems(exc: pytest.ExceptionInfo[RuleViolation]) -> list[tuple[str, str]]:
    return [(p.field, str(p.message)) for p in exc.value.problems]


def pairs(found: list[Any]) -> list[tuple[str, str]]:
    return [(p.field, str(p.message)) for p in found]


@pytest.fixture
def bureau(catalog: None) -> User:
    return make_user("bureau", Role.ADMIN, is_staff=True)


# --- form data -------------------------------------------------------------------------------

def test_values_of_a_field_without_bounds_stay_within_the_documented_range(bureau: User) -> None:
    form_definition_save(actor=bureau, item=item(TIME_LIMITED), fields=[
        {"name": "area", "label": "面积", "type": "number"},
        {"name": "fee", "label": "费用", "type": "amount"}])
    version = item(TIME_LIMITED).current
    clean, found = form_validate(version=version, data={"area": "1e400", "fee": "9" * 40})
    assert pairs(found) == [("form.area", "“面积”不能大于1000000000000000"),
                            ("form.fee", "“费用”不能大于9999999999.99")]
    clean, found = form_validate(version=version, data={"area": "-1e15", "fee": "9999999999.99"})
    assert found == [] and (clean["area"], clean["fee"]) == (-10 ** 15, "9999999999.99")


def test_default_form_serves_items_without_their_own(catalog: None) -> None:
    version = item(TIME_LIMITED).current
    specs = form_fields(version)
    assert [(f["name"], f["label"], f["type"], f["required"]) for f in specs] == [
        ("contact_phone", "联系电话", "phone", True), ("purpose", "申请事由", "text", True),
        ("address", "联系地址", "address", False)]
    clean, found = form_validate(version=version, data=form())
    assert found == []
    assert clean == {"contact_phone": "13893100001", "purpose": "开办餐饮店",
                     "_form": {"id": None, "version": 0}}


def test_demo_form_data_is_cleaned(demo_forms: None) -> None:
    version = item(TIME_LIMITED).current
    definition = FormDefinition.objects.get(item__implementation_code=TIME_LIMITED)
    data = {**form_for(TIME_LIMITED), "uscc": "91620102ma7123456t", "floor_area": "85.5",
            "opening_date": dt.date(2026, 12, 1), "_form": {"id": 999, "version": 7}}
    clean, found = form_validate(version=version, data=data)
    assert found == []
    assert clean == {
        "business_name": "兰州示例餐饮有限公司", "uscc": "91620102MA7123456T",
        "legal_representative": "李华", "legal_representative_id": "620102199003077770",
        "premises": "兰州市城关区庆阳路100号", "business_item": "热食类食品制售",
        "floor_area": 85.5, "contact_phone": "0931-8123456", "opening_date": "2026-12-01",
        "_form": {"id": definition.pk, "version": 1},
    }
    # Whole numbers come back as integers; an optional field left empty is simply absent.
    clean, found = form_validate(version=version, data={**form_for(TIME_LIMITED), "floor_area": 85,
                                                        "opening_date": ""})
    assert found == [] and clean["floor_area"] == 85 and "opening_date" not in clean


def test_every_demo_item_accepts_its_sample_data(demo_forms: None) -> None:
    for code in (ON_THE_SPOT, SAME_DAY, TIME_LIMITED, PROXY):
        clean, found = form_validate(version=item(code).current, data=form_for(code))
        assert found == [], code
        assert set(clean) == {*DEMO_FORM_DATA[code], "_form"}
    clean, _found = form_validate(version=item(ON_THE_SPOT).current, data=form_for(ON_THE_SPOT))
    assert clean["registered_capital"] == "100.00"


def test_each_field_type_says_what_is_wrong(demo_forms: None) -> None:
    data = {
        "business_name": "  ", "uscc": "91620102MA7123456X", "legal_representative": "李" * 51,
        "legal_representative_id": "620102199002307770", "premises": ["兰州"],
        "business_item": "烟草零售", "floor_area": "八十五", "contact_phone": "12893100001",
        "opening_date": "2026-02-30", "licence_no": "JY123",
    }
    _clean, found = form_validate(version=item(TIME_LIMITED).current, data=data)
    assert pairs(found) == [
        ("form.licence_no", "申请表中没有“licence_no”这一项"),
        ("form.business_name", "“经营者名称”为必填项"),
        ("form.uscc", "“统一社会信用代码”不是有效的统一社会信用代码（18位，末位校验码须正确）"),
        ("form.legal_representative", "“法定代表人（负责人）”不能超过50个字（现有51个）"),
        ("form.legal_representative_id",
         "“法定代表人身份证号”第7至14位的出生日期1990-02-30不是有效日期"),
        ("form.premises", "“经营场所”应为文字"),
        ("form.business_item", "“经营项目”须为以下之一：预包装食品销售、散装食品销售、热食类食品制售、"
                               "冷食类食品制售、自制饮品制售、糕点类食品制售"),
        ("form.floor_area", "“营业面积（平方米）”应为数字"),
        ("form.contact_phone", "“联系电话”应为11位手机号码或带区号的固定电话（如0931-8123456）"),
        ("form.opening_date", "“计划开业日期”应为有效日期，格式为YYYY-MM-DD（如2026-03-01）"),
    ]


@pytest.mark.parametrize("value, expected", [
    ("0", ("form.floor_area", "“营业面积（平方米）”不能小于1")),
    ("100001", ("form.floor_area", "“营业面积（平方米）”不能大于100000")),
    ("NaN", ("form.floor_area", "“营业面积（平方米）”应为数字")),
    (True, ("form.floor_area", "“营业面积（平方米）”应为数字")),
])
def test_number_limits(demo_forms: None, value: Any, expected: tuple[str, str]) -> None:
    _clean, found = form_validate(version=item(TIME_LIMITED).current,
                                  data={**form_for(TIME_LIMITED), "floor_area": value})
    assert pairs(found) == [expected]


@pytest.mark.parametrize("value, cleaned, message", [
    ("1234.5", "1234.50", None),
    (12.5, "12.50", None),
    (100, "100.00", None),
    ("0.001", None, "“注册资本（万元）”最多保留两位小数（精确到分）"),
    ("-5", None, "“注册资本（万元）”不能为负数"),
    ("0.00", None, "“注册资本（万元）”不能小于0.01"),
    ("1,000", None, "“注册资本（万元）”应为金额（元），如1234.50"),
])
def test_amounts(demo_forms: None, value: Any, cleaned: str | None, message: str | None) -> None:
    clean, found = form_validate(version=item(ON_THE_SPOT).current,
                                 data={**form_for(ON_THE_SPOT), "registered_capital": value})
    if message is None:
        assert found == [] and clean["registered_capital"] == cleaned
    else:
        assert pairs(found) == [("form.registered_capital", message)]
        assert "registered_capital" not in clean


@pytest.mark.parametrize("phone, valid", [
    ("13893100001", True), ("0931-8123456", True), ("09318123456", True), ("010-62345678", True),
    ("138 9310 0001", True), ("12893100001", False), ("1389310000", False), ("8123456", False),
    ("0931-812345", False),
])
def test_phone_numbers(catalog: None, phone: str, valid: bool) -> None:
    _clean, found = form_validate(version=item(TIME_LIMITED).current,
                                  data={**form(), "contact_phone": phone})
    assert (found == []) is valid


def test_form_data_must_be_an_object(catalog: None) -> None:
    clean, found = form_validate(version=item(TIME_LIMITED).current, data=["13893100001"])
    assert clean == {} and pairs(found) == [("form", "申请表应为“字段名: 值”形式的对象")]


# --- cases pin the version they were filled under ------------------------------------------

def applicant(user: User) -> ApplicantData:
    return ApplicantData(kind="natural_person", name=user.real_name, id_number=user.id_number,
                         phone=user.phone)


def test_a_case_keeps_the_form_version_it_was_made_under(people: dict[str, User],
                                                         demo_forms: None) -> None:
    citizen = people["citizen"]
    food = item(TIME_LIMITED)
    case = services.case_create(actor=citizen, item=food, channel=Channel.ONLINE,
                                applicant=applicant(citizen), form_data=form_for(TIME_LIMITED))
    first = FormDefinition.objects.get(item=food, version=1)
    assert case.form_data["_form"] == {"id": first.pk, "version": 1}
    assert case.form_data["floor_area"] == 85

    # The bureau adds a required field: new applications need it, the earlier case is unchanged.
    extra = {"name": "staff_count", "label": "从业人员数", "type": "number", "required": True}
    second = form_definition_save(actor=SYSTEM, item=food, fields=[*first.fields, extra])
    with pytest.raises(RuleViolation) as exc:
        services.case_create(actor=citizen, item=food, channel=Channel.ONLINE,
                             applicant=applicant(citizen), form_data=form_for(TIME_LIMITED))
    assert problems(exc) == [("form.staff_count", "“从业人员数”为必填项")]
    assert Case.objects.count() == 1
    later = services.case_create(actor=citizen, item=food, channel=Channel.ONLINE,
                                 applicant=applicant(citizen),
                                 form_data={**form_for(TIME_LIMITED), "staff_count": 6})
    assert later.form_data["_form"] == {"id": second.pk, "version": 2}
    case.refresh_from_db()
    assert [f["name"] for f in case_form_fields(case.form_data)] == [f["name"] for f in first.fields]
    assert [f["name"] for f in case_form_fields(later.form_data)][-1] == "staff_count"


def test_case_create_reports_form_and_party_problems_together(people: dict[str, User],
                                                              demo_forms: None) -> None:
    citizen = people["citizen"]
    with pytest.raises(RuleViolation) as exc:
        services.case_create(
            actor=citizen, item=item(PROXY), channel=Channel.ONLINE,
            applicant=ApplicantData(kind="natural_person", name="张三", id_number="123"),
            form_data={**form_for(PROXY), "contribution_grade": "450"})
    assert problems(exc) == [
        ("applicant.id_number", "公民身份号码应为18位（现为3位）"),
        ("form.contribution_grade",
         "“缴费档次（元/年）”须为以下之一：200、300、500、700、1000、2000、3000、5000"),
    ]
    assert not Case.objects.exists()


def test_loading_the_demo_forms_twice_changes_nothing(demo_forms: None) -> None:
    from tongban.demo.management.commands.load_demo import load_forms

    assert FormDefinition.objects.filter(is_active=True, version=1).count() == 4
    before = (FormDefinition.objects.count(), AuditRecord.objects.count())
    load_forms()
    assert (FormDefinition.objects.count(), AuditRecord.objects.count()) == before
