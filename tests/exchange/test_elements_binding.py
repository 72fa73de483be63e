"""Item form fields bind published data elements; a bound value is held to the element's rule."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.core.management import call_command

from tests.conftest import DEMO_WORKBOOK
from tests.exchange.conftest import publish_demo_elements
from tongban.accounts.models import User
from tongban.accounts.permissions import SYSTEM
from tongban.cases.forms import form_validate
from tongban.catalog.form_definitions import form_definition_check, form_definition_save
from tongban.catalog.models import Item
from tongban.core.errors import RuleViolation
from tongban.demo.data_elements import DEMO_ELEMENTS
from tongban.exchange.services import elements as services

pytestmark = pytest.mark.django_db

FOOD_BUSINESS = "11620100051317876B3000100139001"


def fields(**bindings: str) -> list[dict[str, Any]]:
    return [
        {"name": "holder", "label": "持证人", "type": "text", "required": True,
         "data_element": bindings.get("holder", "")},
        {"name": "sex", "label": "持证人性别", "type": "text", "data_element": bindings.get("sex", "")},
        {"name": "phone", "label": "手机", "type": "phone", "data_element": bindings.get("phone", "")},
    ]


def test_a_binding_must_name_a_published_element(db: None) -> None:
    publish_demo_elements("DE00001")
    _, problems = form_definition_check(fields(holder="姓名", sex="DE00003"))
    assert [(p.field, str(p.message)) for p in problems] == [
        ("fields[0].data_element", "字段“持证人”绑定的数据元“姓名”不存在；请填写已发布数据元的内部标识符（如 "
                                   "DE00002），或留空"),
        ("fields[1].data_element", "字段“持证人性别”绑定的数据元“DE00003”不存在；"
                                   "请填写已发布数据元的内部标识符（如 DE00002），或留空"),
    ]
    assert form_definition_check(fields(holder="DE00001"))[1] == []


def test_the_field_type_must_suit_the_element(db: None) -> None:
    publish_demo_elements("DE00002", "DE00004")
    specs = [{"name": "born", "label": "出生日期", "type": "number", "data_element": "DE00004"},
             {"name": "id", "label": "身份证号", "type": "phone", "data_element": "DE00002"},
             {"name": "id2", "label": "证件号", "type": "id_number", "data_element": "DE00002"}]
    _, problems = form_definition_check(specs)
    assert [(p.field, str(p.message)) for p in problems] == [
        ("fields[0].type", "字段“出生日期”的类型“数字”与绑定的数据元DE00004（出生日期）不符，"
                           "可用的类型：文本、日期"),
        ("fields[1].type", "字段“身份证号”的类型“电话号码”与绑定的数据元DE00002（公民身份号码）不符，"
                           "可用的类型：文本、公民身份号码"),
    ]


def test_a_draft_element_cannot_be_bound(bureau_data_officer: User) -> None:
    publish_demo_elements("DE00001")
    rows = [r for r in services.elements_from_csv(DEMO_ELEMENTS) if r.identifier == "DE00013"]
    services.element_save(actor=bureau_data_officer, data=rows[0])
    _, problems = form_definition_check(fields(holder="DE00013"))
    assert [str(p.message) for p in problems] == [
        "字段“持证人”绑定的数据元DE00013（曾用名）尚未发布或已废止，只能绑定已发布的数据元"]


@pytest.fixture
def bound_item(db: None) -> Item:
    call_command("import_catalog", str(DEMO_WORKBOOK), verbosity=0)
    publish_demo_elements("DE00001", "DE00003", "DE00010")
    item = Item.objects.get(implementation_code=FOOD_BUSINESS)
    form_definition_save(actor=SYSTEM, item=item,
                         fields=fields(holder="DE00001", sex="DE00003", phone="DE00010"))
    return item


def test_form_data_of_bound_fields_is_checked_by_the_elements(bound_item: Item) -> None:
    version = SimpleNamespace(item_id=bound_item.pk)
    clean, problems = form_validate(version=version, data={
        "holder": "张" * 51, "sex": "3", "phone": "09318123456"})
    assert [(p.field, str(p.message)) for p in problems] == [
        ("form.holder", "“持证人”不能超过50个字符（现有51个）"),
        ("form.sex", "“持证人性别”须为代码集中的代码：0 未知的性别、1 男性、2 女性、9 未说明的性别"),
        ("form.phone", "“手机”应为11位手机号码"),
    ]
    clean, problems = form_validate(version=version, data={
        "holder": "张三", "sex": "1", "phone": "13893100001"})
    assert problems == []
    assert (clean["holder"], clean["sex"], clean["phone"]) == ("张三", "1", "13893100001")


def test_a_bound_element_cannot_be_retired(bound_item: Item) -> None:
    with pytest.raises(RuleViolation) as caught:
        services.element_retire(actor=SYSTEM, identifier="DE00003", reason="重复")
    assert "仍被使用" in str(caught.value.problems[0].message)
    assert "持证人性别" in str(caught.value.problems[0].message)
