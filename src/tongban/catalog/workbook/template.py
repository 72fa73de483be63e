"""The workbook template: sheet names, columns in order, and how cell values are written.

The template is ``shared/data/catalog/README.md``: one sheet per kind of row, the first row holds
the column names, values are written in Chinese as people read them (行政许可, 即收即办, Ⅳ, 是/否)
and multi-valued cells separate values with ``;`` (a full-width ``；`` is accepted too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import translation

from tongban.organizations.models import Department, Level

from ..models import (
    Commitment,
    HandlingForm,
    ItemType,
    ItemVersion,
    LimitUnit,
    Material,
    ResultType,
    ServiceObject,
)

SHEET_DEPARTMENTS = "部门"
SHEET_ITEMS = "事项"
SHEET_MATERIALS = "材料"
SHEETS = (SHEET_DEPARTMENTS, SHEET_ITEMS, SHEET_MATERIALS)

# Kinds of cell.
TEXT = "text"  # free text; numbers typed into it are read as their digits
INT = "int"
ENUM = "enum"  # one Chinese label of ``choices``
MULTI = "multi"  # ';'-separated labels of ``choices``
LIST = "list"  # ';'-separated free text
BOOL = "bool"  # 是 / 否
DEPTH = "depth"  # Ⅰ–Ⅳ
DEPARTMENT = "department"  # a 部门名称


@dataclass(frozen=True)
class Column:
    header: str
    attr: str
    kind: str = TEXT
    required: bool = False
    choices: Any = None  # the TextChoices/IntegerChoices class of ENUM and MULTI columns

    @property
    def width(self) -> int:
        # Two width units per CJK character plus a margin: the header stays readable.
        return len(self.header) * 2 + 4


DEPARTMENT_COLUMNS: tuple[Column, ...] = (
    Column("部门名称", "name", required=True),
    Column("统一社会信用代码", "uscc", required=True),
    Column("行政区划代码", "division_code", required=True),
    Column("行使层级", "level", ENUM, required=True, choices=Level),
    Column("上级部门", "parent_name"),
    Column("咨询电话", "consultation_phone"),
    Column("监督投诉电话", "complaint_phone"),
    Column("办公地址", "address"),
)

# Blank 事项名称, 办理形式, 服务对象 and 审批结果名称 are left to ``check_item``, which owns those rules.
ITEM_COLUMNS: tuple[Column, ...] = (
    Column("实施编码", "implementation_code", required=True),
    Column("基本编码", "basic_code", required=True),
    Column("事项名称", "name"),
    Column("事项类型", "item_type", ENUM, required=True, choices=ItemType),
    Column("实施主体", "department", DEPARTMENT, required=True),
    Column("行使层级", "level", ENUM, required=True, choices=Level),
    Column("承诺类别", "commitment", ENUM, required=True, choices=Commitment),
    Column("法定办结时限", "legal_limit", INT, required=True),
    Column("法定时限单位", "legal_limit_unit", ENUM, required=True, choices=LimitUnit),
    Column("承诺办结时限", "committed_limit", INT, required=True),
    Column("承诺时限单位", "committed_limit_unit", ENUM, required=True, choices=LimitUnit),
    Column("到现场次数", "required_visits", INT, required=True),
    Column("必须现场办理原因", "visit_reason"),
    Column("网上办理深度", "online_depth", DEPTH, required=True),
    Column("办理形式", "handling_forms", MULTI, choices=HandlingForm),
    Column("是否收费", "charges_fee", BOOL, required=True),
    Column("收费标准", "fee_standard"),
    Column("收费依据", "fee_basis"),
    Column("受理条件", "conditions"),
    Column("设定依据", "legal_basis"),
    Column("服务对象", "service_objects", MULTI, choices=ServiceObject),
    Column("主题分类", "topics", LIST),
    Column("办理地点", "location"),
    Column("办理时间", "office_hours"),
    Column("咨询电话", "consultation_phone"),
    Column("监督投诉电话", "complaint_phone"),
    Column("审批结果类型", "result_type", ENUM, required=True, choices=ResultType),
    Column("审批结果名称", "result_name"),
    Column("代办受理单位", "receiving_unit", DEPARTMENT),
    Column("特别程序", "special_procedures"),
)

MATERIAL_COLUMNS: tuple[Column, ...] = (
    Column("实施编码", "implementation_code", required=True),
    Column("材料名称", "name"),
    Column("材料类型", "material_type", ENUM, required=True, choices=Material.MaterialType),
    Column("材料形式", "form", ENUM, required=True, choices=Material.Form),
    Column("必要性", "necessity", ENUM, required=True, choices=Material.Necessity),
    Column("来源渠道", "source", ENUM, required=True, choices=Material.Source),
    Column("对应电子证照", "licence_type"),
    Column("原件份数", "original_copies", INT, required=True),
    Column("复印件份数", "copy_copies", INT, required=True),
    Column("填报须知", "notes"),
)

COLUMNS: dict[str, tuple[Column, ...]] = {
    SHEET_DEPARTMENTS: DEPARTMENT_COLUMNS,
    SHEET_ITEMS: ITEM_COLUMNS,
    SHEET_MATERIALS: MATERIAL_COLUMNS,
}
ITEM_COLUMN_BY_ATTR = {c.attr: c for c in ITEM_COLUMNS}
MATERIAL_COLUMN_BY_ATTR = {c.attr: c for c in MATERIAL_COLUMNS}

ROMAN = {"Ⅰ": 1, "Ⅱ": 2, "Ⅲ": 3, "Ⅳ": 4}
ASCII_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4}
YES, NO = "是", "否"
MULTI_SEPARATOR = re.compile(r"[;；]")
INTEGER_TEXT = re.compile(r"[+-]?\d+")


@cache
def label_map(choices: Any) -> dict[str, Any]:
    """Chinese label → stored value. The workbook is always Chinese, whatever the UI language."""
    with translation.override(None):  # no catalog active: labels read as their Chinese msgids
        return {str(label): value for value, label in choices.choices}


@cache
def label_of(choices: Any) -> dict[Any, str]:
    return {value: label for label, value in label_map(choices).items()}


def depth_label(depth: int) -> str:
    return next(numeral for numeral, value in ROMAN.items() if value == depth)


@cache
def max_length(sheet: str, attr: str) -> int | None:
    """The longest text the database takes for a column (None: no limit, or not stored as is)."""
    model = {SHEET_DEPARTMENTS: Department, SHEET_ITEMS: ItemVersion,
             SHEET_MATERIALS: Material}.get(sheet)
    if model is None:  # another workbook reusing the reader (the data resource workbook)
        return None
    try:
        model_field = model._meta.get_field(attr)
    except FieldDoesNotExist:
        return None
    return model_field.max_length if isinstance(model_field, models.CharField) else None
