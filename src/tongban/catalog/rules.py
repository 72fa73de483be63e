"""The consistency rules of a service item (domain.md §1–2), in one place.

Every door into the catalog — workbook import, admin, API, pages — builds an :class:`ItemData`
and calls :func:`check_item`; the list of problems it returns (field name + message) is then
translated into the door's own way of pointing at the fault (a workbook cell, a form field, a
JSON path). Nothing here touches the database except through the objects passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import ValidationError as StdnumError

from tongban.clock.deadline import natural_days_spanned
from tongban.core.errors import Problem
from tongban.organizations.models import LEVEL_DIGIT, Department, Level

from .models import Commitment, HandlingForm, ItemType, LimitUnit, Material, OnlineDepth

# The largest value of each number an item or material carries (docs/catalog.md): a time limit
# of more than 999 days, or 100 visits or copies, is a typing error, and a much larger one
# would not fit its column or the working-day clock.
NUMBER_BOUNDS = {"legal_limit": 999, "committed_limit": 999, "required_visits": 99,
                 "original_copies": 99, "copy_copies": 99}

BASIC_CODE_RE = re.compile(r"^(00|[1-9]\d)(\d{2})\d{8}$")


@dataclass
class MaterialData:
    name: str
    material_type: str
    form: str
    necessity: str
    source: str
    licence_type: str = ""
    original_copies: int = 0
    copy_copies: int = 0
    notes: str = ""
    legal_basis: str = ""


@dataclass
class ItemData:
    """The content of one item version, already parsed into model values."""

    implementation_code: str
    basic_code: str
    name: str
    item_type: str
    department: Department | None
    level: str
    commitment: str
    legal_limit: int
    legal_limit_unit: str
    committed_limit: int
    committed_limit_unit: str
    required_visits: int
    visit_reason: str = ""
    online_depth: int = 1
    handling_forms: list[str] = field(default_factory=list)
    charges_fee: bool = False
    fee_standard: str = ""
    fee_basis: str = ""
    conditions: str = ""
    legal_basis: str = ""
    service_objects: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    location: str = ""
    office_hours: str = ""
    consultation_phone: str = ""
    complaint_phone: str = ""
    result_type: str = "other"
    result_name: str = ""
    receiving_unit: Department | None = None
    special_procedures: str = ""
    process: str = ""
    review_route: str = ""
    materials: list[MaterialData] = field(default_factory=list)

    # Fields copied onto ItemVersion as they are.
    VERSION_FIELDS = (
        "name", "item_type", "level", "commitment", "legal_limit", "legal_limit_unit",
        "committed_limit", "committed_limit_unit", "required_visits", "visit_reason",
        "online_depth", "handling_forms", "charges_fee", "fee_standard", "fee_basis",
        "conditions", "legal_basis", "service_objects", "topics", "location", "office_hours",
        "consultation_phone", "complaint_phone", "result_type", "result_name",
        "receiving_unit", "special_procedures", "process", "review_route",
    )

    def version_values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.VERSION_FIELDS}


def uscc_problem(value: str) -> Any | None:
    """A message if ``value`` is not a valid 统一社会信用代码, else None."""
    try:
        stdnum_uscc.validate(value)
    except StdnumError:
        return _("统一社会信用代码“%(value)s”无效（须为18位且校验码正确）") % {"value": value}
    return None


def check_item(data: ItemData) -> list[Problem]:
    """Every rule an item version must satisfy. Returns problems; an empty list means valid."""
    problems: list[Problem] = []

    def add(field_name: str, message: Any) -> None:
        problems.append(Problem(field=field_name, message=message))

    # --- required text --------------------------------------------------------------------
    for name, label in (("name", _("事项名称")), ("result_name", _("审批结果名称"))):
        if not str(getattr(data, name) or "").strip():
            add(name, _("%(label)s不能为空") % {"label": label})

    # --- codes ----------------------------------------------------------------------------
    valid_types = {c.value for c in ItemType}
    if data.item_type not in valid_types:
        add("item_type", _("事项类型无效"))
    match = BASIC_CODE_RE.match(data.basic_code or "")
    if not match:
        add("basic_code", _("基本编码须为12位数字：前2位为00（国家）或省份代码，第3–4位为事项类型代码"))
    elif data.item_type in valid_types and match.group(2) != data.item_type:
        add("basic_code", _("基本编码第3–4位“%(code)s”与事项类型“%(type)s”（代码%(expected)s）不符") % {
            "code": match.group(2), "type": ItemType(data.item_type).label,
            "expected": data.item_type,
        })
    if data.level not in LEVEL_DIGIT:
        add("level", _("行使层级无效"))
    if data.department is None:
        add("department", _("实施主体不存在"))
    else:
        if data.level in LEVEL_DIGIT and data.department.level != data.level:
            add("level", _("行使层级与实施主体“%(dept)s”的层级（%(level)s）不一致") % {
                "dept": data.department.name, "level": Level(data.department.level).label,
            })
        code = data.implementation_code or ""
        if len(code) != 31:
            add("implementation_code", _("实施编码须为31位（当前%(n)s位）") % {"n": len(code)})
        elif data.level in LEVEL_DIGIT:
            expected = data.department.uscc + LEVEL_DIGIT[Level(data.level)] + (data.basic_code or "")
            if code != expected:
                add("implementation_code", _(
                    "实施编码应为实施主体统一社会信用代码+行使层级代码+基本编码，即“%(expected)s”"
                ) % {"expected": expected})

    # --- the four lists and time limits ---------------------------------------------------
    units = {u.value for u in LimitUnit}
    if data.legal_limit_unit not in units:
        add("legal_limit_unit", _("法定时限单位须为工作日或自然日"))
    if data.committed_limit_unit not in units:
        add("committed_limit_unit", _("承诺时限单位须为工作日或自然日"))
    for name in ("legal_limit", "committed_limit", "required_visits"):
        if not isinstance(getattr(data, name), int) or getattr(data, name) < 0:
            add(name, _("须为非负整数"))
        elif getattr(data, name) > NUMBER_BOUNDS[name]:
            add(name, _("不能大于%(max)s") % {"max": NUMBER_BOUNDS[name]})
    limits_ok = not any(p.field in {"legal_limit", "committed_limit", "legal_limit_unit",
                                    "committed_limit_unit"} for p in problems)
    if data.commitment not in {c.value for c in Commitment}:
        add("commitment", _("承诺类别须为即收即办、当日办结、限时办结或代办服务"))
    elif limits_ok:
        legal = natural_days_spanned(data.legal_limit, data.legal_limit_unit)
        committed = natural_days_spanned(data.committed_limit, data.committed_limit_unit)
        if data.legal_limit > 0 and committed > legal:
            add("committed_limit", _("承诺办结时限（%(c)s）不得超过法定办结时限（%(l)s）") % {
                "c": data.committed_limit, "l": data.legal_limit})
        if data.commitment == Commitment.ON_THE_SPOT and data.committed_limit != 0:
            add("committed_limit", _("即收即办事项的承诺办结时限须为0（当场办结）"))
        elif data.commitment == Commitment.SAME_DAY and (
            data.committed_limit != 1 or data.committed_limit_unit != LimitUnit.WORKING_DAYS
        ):
            add("committed_limit", _("当日办结事项的承诺办结时限须为1个工作日"))
        elif (data.commitment in (Commitment.TIME_LIMITED, Commitment.PROXY)
              and data.committed_limit < 1):
            add("committed_limit", _("限时办结和代办服务事项的承诺办结时限至少为1"))
    if data.commitment == Commitment.PROXY:
        if data.receiving_unit is None:
            add("receiving_unit", _("代办服务事项须指明代办受理单位"))
        elif data.receiving_unit.level not in (Level.TOWNSHIP, Level.COUNTY):
            add("receiving_unit", _("代办受理单位须为乡镇级或县级部门"))
    elif data.receiving_unit is not None:
        add("receiving_unit", _("只有代办服务事项才能填写代办受理单位"))

    # --- visits and online depth ----------------------------------------------------------
    if data.online_depth not in {d.value for d in OnlineDepth}:
        add("online_depth", _("网上办理深度须为Ⅰ、Ⅱ、Ⅲ或Ⅳ"))
    forms = set(data.handling_forms)
    if not forms:
        add("handling_forms", _("至少选择一种办理形式"))
    elif not forms <= {f.value for f in HandlingForm}:
        add("handling_forms", _("办理形式只能是窗口办理、网上办理、快递申请"))
    if isinstance(data.required_visits, int) and data.required_visits >= 0:
        if data.online_depth == OnlineDepth.FULLY_ONLINE and data.required_visits != 0:
            add("required_visits", _("全程网办（Ⅳ）事项的到现场次数须为0"))
        if data.required_visits >= 1 and not data.visit_reason.strip():
            add("visit_reason", _("到现场次数不为0时须说明必须现场办理的原因"))
        if data.required_visits == 0 and data.visit_reason.strip():
            add("visit_reason", _("到现场次数为0时不应填写必须现场办理原因"))
        if (data.required_visits == 0 and forms and HandlingForm.ONLINE not in forms
                and HandlingForm.POST not in forms):
            add("handling_forms", _("零跑动且不能网上办理的事项须提供快递申请"))

    # --- fees and phones ------------------------------------------------------------------
    if data.charges_fee:
        if not data.fee_standard.strip():
            add("fee_standard", _("收费事项须填写收费标准"))
        if not data.fee_basis.strip():
            add("fee_basis", _("收费事项须填写收费依据"))
    elif data.fee_standard.strip() or data.fee_basis.strip():
        add("charges_fee", _("不收费的事项不应填写收费标准或收费依据"))
    if (data.consultation_phone.strip() and
            data.consultation_phone.strip() == data.complaint_phone.strip()):
        add("complaint_phone", _("监督投诉电话不能与咨询电话相同"))

    if not data.service_objects:
        add("service_objects", _("须填写服务对象（自然人、法人）"))

    # --- materials ------------------------------------------------------------------------
    for index, material in enumerate(data.materials, start=1):
        problems.extend(check_material(material, prefix=f"materials[{index}]."))
    return problems


def check_material(material: MaterialData, *, prefix: str = "") -> list[Problem]:
    problems: list[Problem] = []

    def add(name: str, message: Any) -> None:
        problems.append(Problem(field=prefix + name, message=message))

    if not material.name.strip():
        add("name", _("材料名称不能为空"))
    choices = (
        ("material_type", Material.MaterialType, _("材料类型须为原件、复印件或原件和复印件")),
        ("form", Material.Form, _("材料形式须为纸质、电子或纸质和电子")),
        ("necessity", Material.Necessity, _("必要性须为必要、非必要或容缺")),
        ("source", Material.Source, _("来源渠道须为申请人自备、政府部门核发或其他")),
    )
    for name, enum, message in choices:
        if getattr(material, name) not in {c.value for c in enum}:
            add(name, message)
    for name in ("original_copies", "copy_copies"):
        if not isinstance(getattr(material, name), int) or getattr(material, name) < 0:
            add(name, _("份数须为非负整数"))
        elif getattr(material, name) > NUMBER_BOUNDS[name]:
            add(name, _("份数不能大于%(max)s") % {"max": NUMBER_BOUNDS[name]})
    if not problems:
        kind = material.material_type
        if kind == Material.MaterialType.ORIGINAL and (
            material.original_copies < 1 or material.copy_copies != 0
        ):
            add("original_copies", _("材料类型为原件时，原件份数至少为1、复印件份数为0"))
        elif kind == Material.MaterialType.COPY and (
            material.copy_copies < 1 or material.original_copies != 0
        ):
            add("copy_copies", _("材料类型为复印件时，复印件份数至少为1、原件份数为0"))
        elif kind == Material.MaterialType.BOTH and (
            material.original_copies < 1 or material.copy_copies < 1
        ):
            add("original_copies", _("材料类型为原件和复印件时，两种份数都至少为1"))
    return problems
