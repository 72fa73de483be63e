"""The consistency rules of a service item (rules.check_item), one test per rule."""

from __future__ import annotations

from typing import Any

import pytest

from tests.catalog.bureau_factories import item_data, make_department, material, with_changes
from tongban.catalog.rules import ItemData, check_item
from tongban.organizations.models import Department, Level


@pytest.fixture
def dept(db: None) -> Department:
    return make_department("兰州市测试局")


def problems(data: ItemData) -> list[tuple[str, str]]:
    return [(p.field, str(p.message)) for p in check_item(data)]


def check(dept: Department, **changes: Any) -> list[tuple[str, str]]:
    return problems(with_changes(item_data(dept), **changes))


def test_a_complete_item_has_no_problems(dept: Department) -> None:
    assert problems(item_data(dept)) == []


# --- committed ≤ legal --------------------------------------------------------------------------

def test_committed_limit_may_not_exceed_the_legal_limit(dept: Department) -> None:
    assert check(dept, committed_limit=21) == [
        ("committed_limit", "承诺办结时限（21）不得超过法定办结时限（20）")]
    assert check(dept, committed_limit=20) == []


def test_committed_limit_is_compared_across_units(dept: Department) -> None:
    # 20 natural days; 15 working days span at least ceil(15×7/5) = 21 natural days: too long.
    assert check(dept, legal_limit=20, legal_limit_unit="natural_days", committed_limit=15) == [
        ("committed_limit", "承诺办结时限（15）不得超过法定办结时限（20）")]
    # 14 working days span ceil(19.6) = 20 natural days: fits.
    assert check(dept, legal_limit=20, legal_limit_unit="natural_days", committed_limit=14) == []
    # 20 natural days committed against 15 working days (≥ 21 natural days) legal: fits.
    assert check(dept, legal_limit=15, committed_limit=20,
                 committed_limit_unit="natural_days") == []


def test_a_legal_limit_of_zero_sets_no_ceiling(dept: Department) -> None:
    # 0 means "no separate statutory period" (workbook README), so nothing to exceed.
    assert check(dept, legal_limit=0, committed_limit=5) == []


# --- the four lists -----------------------------------------------------------------------------

def test_on_the_spot_items_commit_zero(dept: Department) -> None:
    assert check(dept, commitment="on_the_spot", committed_limit=1) == [
        ("committed_limit", "即收即办事项的承诺办结时限须为0（当场办结）")]
    assert check(dept, commitment="on_the_spot", committed_limit=0) == []


def test_same_day_items_commit_one_working_day(dept: Department) -> None:
    message = ("committed_limit", "当日办结事项的承诺办结时限须为1个工作日")
    assert check(dept, commitment="same_day", committed_limit=2) == [message]
    assert check(dept, commitment="same_day", committed_limit=1,
                 committed_limit_unit="natural_days") == [message]
    assert check(dept, commitment="same_day", committed_limit=1) == []


@pytest.mark.parametrize("commitment", ["time_limited", "proxy"])
def test_time_limited_and_proxy_items_commit_at_least_one_day(dept: Department,
                                                              commitment: str) -> None:
    township = make_department("某街道便民服务中心", division_code="620102",
                               level=Level.TOWNSHIP)
    unit = township if commitment == "proxy" else None
    assert check(dept, commitment=commitment, committed_limit=0, receiving_unit=unit) == [
        ("committed_limit", "限时办结和代办服务事项的承诺办结时限至少为1")]


def test_proxy_items_name_a_county_or_township_receiving_unit(dept: Department) -> None:
    assert check(dept, commitment="proxy") == [
        ("receiving_unit", "代办服务事项须指明代办受理单位")]
    other_city_dept = make_department("兰州市另一局")
    assert check(dept, commitment="proxy", receiving_unit=other_city_dept) == [
        ("receiving_unit", "代办受理单位须为乡镇级或县级部门")]
    county = make_department("城关区某局", division_code="620102", level=Level.COUNTY)
    assert check(dept, commitment="proxy", receiving_unit=county) == []


def test_only_proxy_items_name_a_receiving_unit(dept: Department) -> None:
    county = make_department("城关区某局", division_code="620102", level=Level.COUNTY)
    assert check(dept, receiving_unit=county) == [
        ("receiving_unit", "只有代办服务事项才能填写代办受理单位")]


def test_commitment_must_be_one_of_the_four_lists(dept: Department) -> None:
    assert check(dept, commitment="someday") == [
        ("commitment", "承诺类别须为即收即办、当日办结、限时办结或代办服务")]


def test_limit_units_must_be_working_or_natural_days(dept: Department) -> None:
    assert check(dept, legal_limit_unit="months") == [
        ("legal_limit_unit", "法定时限单位须为工作日或自然日")]
    assert check(dept, committed_limit_unit="hours") == [
        ("committed_limit_unit", "承诺时限单位须为工作日或自然日")]


# --- visits and online depth --------------------------------------------------------------------

def test_fully_online_items_need_no_visit(dept: Department) -> None:
    assert check(dept, online_depth=4) == [("required_visits", "全程网办（Ⅳ）事项的到现场次数须为0")]
    assert check(dept, online_depth=4, required_visits=0, visit_reason="") == []


def test_a_visit_needs_a_reason(dept: Department) -> None:
    assert check(dept, required_visits=2, visit_reason="  ") == [
        ("visit_reason", "到现场次数不为0时须说明必须现场办理的原因")]


def test_no_visit_means_no_visit_reason(dept: Department) -> None:
    assert check(dept, required_visits=0) == [
        ("visit_reason", "到现场次数为0时不应填写必须现场办理原因")]


def test_zero_visits_without_online_handling_needs_post(dept: Department) -> None:
    assert check(dept, required_visits=0, visit_reason="", handling_forms=["window"]) == [
        ("handling_forms", "零跑动且不能网上办理的事项须提供快递申请")]
    assert check(dept, required_visits=0, visit_reason="", handling_forms=["window", "post"]) == []


def test_handling_forms_are_required_and_known(dept: Department) -> None:
    assert check(dept, handling_forms=[]) == [("handling_forms", "至少选择一种办理形式")]
    assert check(dept, handling_forms=["window", "fax"]) == [
        ("handling_forms", "办理形式只能是窗口办理、网上办理、快递申请")]


def test_online_depth_is_one_to_four(dept: Department) -> None:
    assert check(dept, online_depth=5) == [("online_depth", "网上办理深度须为Ⅰ、Ⅱ、Ⅲ或Ⅳ")]


# --- fees and phones ----------------------------------------------------------------------------

def test_a_fee_needs_its_standard_and_basis(dept: Department) -> None:
    assert check(dept, charges_fee=True) == [
        ("fee_standard", "收费事项须填写收费标准"), ("fee_basis", "收费事项须填写收费依据")]
    assert check(dept, charges_fee=True, fee_standard="每件10元",
                 fee_basis="甘发改收费〔2020〕1号") == []


def test_no_fee_means_no_fee_text(dept: Department) -> None:
    assert check(dept, fee_standard="每件10元") == [
        ("charges_fee", "不收费的事项不应填写收费标准或收费依据")]


def test_consultation_and_complaint_phones_differ(dept: Department) -> None:
    assert check(dept, complaint_phone="0931-8000001") == [
        ("complaint_phone", "监督投诉电话不能与咨询电话相同")]


# --- required content ---------------------------------------------------------------------------

def test_name_and_result_name_are_required(dept: Department) -> None:
    assert check(dept, name=" ", result_name="") == [
        ("name", "事项名称不能为空"), ("result_name", "审批结果名称不能为空")]


def test_service_objects_are_required(dept: Department) -> None:
    assert check(dept, service_objects=[]) == [("service_objects", "须填写服务对象（自然人、法人）")]


def test_limits_and_visits_are_non_negative(dept: Department) -> None:
    assert check(dept, required_visits=-1) == [("required_visits", "须为非负整数")]


def test_limits_visits_and_copies_are_bounded(dept: Department) -> None:
    assert check(dept, legal_limit=10 ** 12, committed_limit=1000, required_visits=100) == [
        ("legal_limit", "不能大于999"), ("committed_limit", "不能大于999"),
        ("required_visits", "不能大于99")]
    assert check(dept, legal_limit=999, committed_limit=20) == []
    many = material("身份证复印件", material_type="copy", original_copies=0, copy_copies=100)
    assert check(dept, materials=[many]) == [("materials[1].copy_copies", "份数不能大于99")]


# --- codes --------------------------------------------------------------------------------------

def test_basic_code_has_twelve_digits(dept: Department) -> None:
    message = ("basic_code", "基本编码须为12位数字：前2位为00（国家）或省份代码，第3–4位为事项类型代码")
    data = item_data(dept)
    for bad in ("6201000000", "620100000001X", "6201A0000001", "010100000001"):
        code = dept.uscc + "3" + bad
        assert problems(with_changes(data, basic_code=bad, implementation_code=code))[0] == message


def test_basic_code_carries_the_item_type(dept: Department) -> None:
    data = item_data(dept)  # 行政许可, code 62 01 …
    assert problems(with_changes(data, item_type="20")) == [
        ("basic_code", "基本编码第3–4位“01”与事项类型“公共服务”（代码20）不符")]


def test_item_type_is_known(dept: Department) -> None:
    assert check(dept, item_type="99") == [("item_type", "事项类型无效")]


def test_implementation_code_has_31_characters(dept: Department) -> None:
    data = item_data(dept)
    assert problems(with_changes(data, implementation_code=data.implementation_code[:-1])) == [
        ("implementation_code", "实施编码须为31位（当前30位）")]


def test_implementation_code_is_uscc_level_digit_and_basic_code(dept: Department) -> None:
    data = item_data(dept)
    expected = dept.uscc + "3" + data.basic_code
    assert data.implementation_code == expected
    wrong_level = dept.uscc + "4" + data.basic_code
    assert problems(with_changes(data, implementation_code=wrong_level)) == [
        ("implementation_code",
         f"实施编码应为实施主体统一社会信用代码+行使层级代码+基本编码，即“{expected}”")]
    other = make_department("兰州市另一局")
    assert problems(with_changes(data, implementation_code=other.uscc + "3" + data.basic_code)) == [
        ("implementation_code",
         f"实施编码应为实施主体统一社会信用代码+行使层级代码+基本编码，即“{expected}”")]


def test_level_matches_the_department(dept: Department) -> None:
    data = item_data(dept)
    code = dept.uscc + "4" + data.basic_code
    assert problems(with_changes(data, level="county", implementation_code=code)) == [
        ("level", "行使层级与实施主体“兰州市测试局”的层级（市级）不一致")]


def test_department_must_exist(dept: Department) -> None:
    assert check(dept, department=None) == [("department", "实施主体不存在")]


# --- materials ----------------------------------------------------------------------------------

def test_original_materials_count_originals_only(dept: Department) -> None:
    bad = material("营业执照", material_type="original", original_copies=1, copy_copies=1)
    assert check(dept, materials=[material(), bad]) == [
        ("materials[2].original_copies", "材料类型为原件时，原件份数至少为1、复印件份数为0")]


def test_copy_materials_count_copies_only(dept: Department) -> None:
    bad = material("身份证复印件", material_type="copy", original_copies=0, copy_copies=0)
    assert check(dept, materials=[bad]) == [
        ("materials[1].copy_copies", "材料类型为复印件时，复印件份数至少为1、原件份数为0")]


def test_original_and_copy_materials_count_both(dept: Department) -> None:
    bad = material("合同", material_type="both", original_copies=1, copy_copies=0)
    assert check(dept, materials=[bad]) == [
        ("materials[1].original_copies", "材料类型为原件和复印件时，两种份数都至少为1")]
    good = material("合同", material_type="both", original_copies=1, copy_copies=2)
    assert check(dept, materials=[good]) == []


def test_material_name_and_choices(dept: Department) -> None:
    bad = material(" ", material_type="scan", form="fax", necessity="maybe", source="web")
    assert check(dept, materials=[bad]) == [
        ("materials[1].name", "材料名称不能为空"),
        ("materials[1].material_type", "材料类型须为原件、复印件或原件和复印件"),
        ("materials[1].form", "材料形式须为纸质、电子或纸质和电子"),
        ("materials[1].necessity", "必要性须为必要、非必要或容缺"),
        ("materials[1].source", "来源渠道须为申请人自备、政府部门核发或其他"),
    ]
