"""Data elements validate values through their type and value domain (one validator)."""

from __future__ import annotations

import pytest

from tongban.exchange import elements
from tongban.exchange.models import (
    Checker,
    CodeEntry,
    CodeList,
    DataElement,
    DataType,
    DomainKind,
    ElementStatus,
)

pytestmark = pytest.mark.django_db


def element(identifier: str, name: str, **fields: object) -> elements.Rule:
    fields.setdefault("data_type", DataType.STRING)
    DataElement.objects.create(identifier=identifier, name=name, definition=name,
                               status=ElementStatus.PUBLISHED, **fields)
    return elements.rules([identifier])[identifier]


def test_id_number_element_uses_the_check_character() -> None:
    rule = element("DE00001", "公民身份号码", domain_kind=DomainKind.CHECKED,
                   checker=Checker.ID_NUMBER)
    assert elements.clean(rule, " 620102199001011233 ") == ("620102199001011233", None)
    value, message = elements.clean(rule, "620102199001011234", label="身份证号")
    assert value is None
    assert str(message) == "“身份证号”末位校验码与前17位不符，请核对号码"


def test_uscc_element_is_compacted_and_checked() -> None:
    rule = element("DE00002", "统一社会信用代码", domain_kind=DomainKind.CHECKED,
                   checker=Checker.USCC)
    assert elements.clean(rule, "91620102ma7123456t") == ("91620102MA7123456T", None)
    assert elements.clean(rule, "91620102MA7123456X")[0] is None


def test_code_list_accepts_the_code_or_its_label_and_names_the_codes_otherwise() -> None:
    sex = CodeList.objects.create(code="GB/T 2261.1", name="人的性别代码")
    for position, (value, label) in enumerate([("0", "未知的性别"), ("1", "男性"),
                                               ("2", "女性"), ("9", "未说明的性别")]):
        CodeEntry.objects.create(code_list=sex, value=value, label=label, position=position)
    rule = element("DE00003", "性别代码", domain_kind=DomainKind.CODE_LIST, code_list=sex)
    assert elements.clean(rule, "1") == ("1", None)
    assert elements.clean(rule, "女性") == ("2", None)
    value, message = elements.clean(rule, "3", label="性别")
    assert value is None
    assert str(message) == "“性别”须为代码集中的代码：0 未知的性别、1 男性、2 女性、9 未说明的性别"


def test_pattern_type_and_length() -> None:
    postcode = element("DE00004", "邮政编码", domain_kind=DomainKind.PATTERN, pattern=r"\d{6}")
    assert elements.clean(postcode, "730030") == ("730030", None)
    assert str(elements.clean(postcode, "73003")[1]) == "“邮政编码”的格式不符合数据元DE00004的规定"
    born = element("DE00005", "出生日期", data_type=DataType.DATE)
    assert elements.clean(born, "19900101") == ("1990-01-01", None)
    assert elements.clean(born, "1990-02-30")[0] is None
    count = element("DE00006", "家庭人口数", data_type=DataType.INTEGER)
    assert elements.clean(count, "4") == (4, None)
    assert str(elements.clean(count, "四")[1]) == "“家庭人口数”应为整数"
    name = element("DE00007", "姓名", max_length=5)
    assert str(elements.clean(name, "一二三四五六")[1]) == "“姓名”不能超过5个字符（现有6个）"


def test_element_check_names_each_faulty_field() -> None:
    problems = elements.element_check(elements.ElementData(
        identifier="X1", name="", definition="说明", data_type="text",
        domain_kind=DomainKind.CODE_LIST, code_list="GB/T 9999"))
    assert [(p.field, str(p.message)) for p in problems] == [
        ("identifier", "内部标识符应为 DE 加5至8位数字，如 DE00001"),
        ("name", "须填写中文名称"),
        ("data_type", "未知的数据类型“text”；可用：string（字符型）、integer（整数型）、"
                      "decimal（数值型）、date（日期型）、datetime（日期时间型）、boolean（布尔型）"),
        ("code_list", "代码集“GB/T 9999”不存在，请先导入该代码集"),
    ]
    assert elements.element_check(elements.ElementData(
        identifier="DE00010", name="邮政编码", definition="邮政编码", data_type="string",
        domain_kind=DomainKind.PATTERN, pattern=r"\d{6}")) == []
