"""What a value of a data element may be: the one validator for every door.

An application form's bound field, a resource record uploaded by its provider, a licence's surface
field and the exchange all check values through :func:`clean`, so a 公民身份号码 or a 性别代码 is
held to the same rule wherever it is entered. The rule of an element is its data type, its length
and its value domain (free text, a pattern, a code list, or an identifier with a check
character: python-stdnum for 统一社会信用代码, the platform's own check for 公民身份号码).

Elements are read as :class:`Rule` values (:func:`rules`, one statement for a form's fields); a
code list's values are kept per process under the list's version, which every change bumps.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from tongban.accounts.identifiers import id_number_compact, id_number_problem

from .models import Checker, CodeEntry, DataElement, DataType, DomainKind, ElementStatus

MOBILE_RE = re.compile(r"1[3-9]\d{9}")
# Area code (3–4 digits from 0), optional hyphen, 7–8 digit number: 0931-8123456, 01062345678.
LANDLINE_RE = re.compile(r"0\d{2,3}-?\d{7,8}")
TRUE_WORDS = {"true", "1", "是", "y", "yes"}
FALSE_WORDS = {"false", "0", "否", "n", "no"}


@dataclass(frozen=True)
class Rule:
    """The checking part of a data element, detached from its row."""

    identifier: str
    name: str
    data_type: str
    max_length: int | None
    domain_kind: str
    pattern: str
    checker: str
    code_list_id: int | None
    code_list_version: int
    status: str
    personal: bool
    # When the code list last changed: with its id and version, the key of the process's copy of
    # its values (ids of a list deleted in a rolled-back transaction can come back).
    code_list_stamp: str = ""

    @property
    def is_published(self) -> bool:
        return self.status == ElementStatus.PUBLISHED


_RULE_COLUMNS = ("identifier", "name", "data_type", "max_length", "domain_kind", "pattern",
                 "checker", "code_list_id", "code_list__version", "status", "personal",
                 "code_list__updated_at")


def _rule(row: tuple[Any, ...]) -> Rule:
    values = list(row)
    values[8] = values[8] or 0  # no code list: version 0
    values[11] = values[11].isoformat() if values[11] else ""
    return Rule(*values)


def rule_of(element: DataElement) -> Rule:
    return Rule(element.identifier, element.name, element.data_type, element.max_length,
                element.domain_kind, element.pattern, element.checker, element.code_list_id,
                element.code_list.version if element.code_list else 0,
                element.status, element.personal,
                element.code_list.updated_at.isoformat() if element.code_list else "")


def rules(identifiers: Iterable[str]) -> dict[str, Rule]:
    """The rules of the elements named (any status), by identifier, in one statement."""
    wanted = sorted({i for i in identifiers if i})
    if not wanted:
        return {}
    rows = DataElement.objects.filter(identifier__in=wanted).values_list(*_RULE_COLUMNS)
    return {row[0]: _rule(row) for row in rows}


@lru_cache(maxsize=256)
def code_values(code_list_id: int, version: int, stamp: str = "") -> dict[str, str]:
    """A code list's values and labels as of ``version`` (kept per process; an import or edit of
    the list bumps its version, so a changed list is read again)."""
    return dict(CodeEntry.objects.filter(code_list_id=code_list_id)
                .order_by("position", "value").values_list("value", "label"))


def _typed(rule: Rule, text: str, label: Any) -> tuple[Any, Any]:
    kind = rule.data_type
    if kind == DataType.INTEGER:
        if not re.fullmatch(r"[+-]?\d{1,18}", text):
            return None, _("“%(label)s”应为整数") % {"label": label}
        return int(text), None
    if kind == DataType.DECIMAL:
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None, _("“%(label)s”应为数字") % {"label": label}
        if not number.is_finite():
            return None, _("“%(label)s”应为数字") % {"label": label}
        return str(number), None
    if kind == DataType.DATE:
        for pattern in ("%Y-%m-%d", "%Y%m%d"):
            try:
                return dt.datetime.strptime(text, pattern).date().isoformat(), None
            except ValueError:
                continue
        return None, _("“%(label)s”应为有效日期，格式为YYYY-MM-DD（如2026-03-01）") % {"label": label}
    if kind == DataType.DATETIME:
        try:
            return dt.datetime.fromisoformat(text).isoformat(), None
        except ValueError:
            return None, _("“%(label)s”应为有效的日期时间（如2026-03-01T09:30:00+08:00）") % {
                "label": label}
    if kind == DataType.BOOLEAN:
        word = text.lower()
        if word in TRUE_WORDS:
            return True, None
        if word in FALSE_WORDS:
            return False, None
        return None, _("“%(label)s”应为“是”或“否”") % {"label": label}
    return text, None


def check_identifier(checker: str, text: str, label: Any) -> tuple[Any, Any]:
    """``(compacted identifier, None)`` or ``(None, message)`` for a 公民身份号码, USCC or phone
    number (a ``Checker`` value): the one check, for bound elements and form field types alike."""
    from stdnum.cn import uscc

    if checker == Checker.ID_NUMBER:
        number = id_number_compact(text)
        message = id_number_problem(number, label=f"“{label}”")
        return (None, message) if message is not None else (number, None)
    if checker == Checker.USCC:
        number = uscc.compact(text).upper()
        if not uscc.is_valid(number):
            return None, _("“%(label)s”不是有效的统一社会信用代码（18位，末位校验码须正确）") % {
                "label": label}
        return number, None
    number = text.replace(" ", "")
    if checker == Checker.MOBILE:
        if not MOBILE_RE.fullmatch(number):
            return None, _("“%(label)s”应为11位手机号码") % {"label": label}
        return number, None
    if checker == Checker.PHONE:
        if not (MOBILE_RE.fullmatch(number) or LANDLINE_RE.fullmatch(number)):
            return None, _("“%(label)s”应为11位手机号码或带区号的固定电话（如0931-8123456）") % {
                "label": label}
        return number, None
    raise AssertionError(f"unknown checker {checker}")


def clean(rule: Rule, value: Any, *, label: Any = None) -> tuple[Any, Any]:
    """``(cleaned value, None)`` or ``(None, message)`` for one non-empty value of an element.

    ``label`` names the value in the message (a form field's label); by default the element's
    name. Cleaned values are what is stored: integers as ``int``, decimals and dates as
    strings, identifiers compacted and upper-cased, code values as the code.
    """
    label = label if label is not None else rule.name
    if isinstance(value, bool) and rule.data_type == DataType.BOOLEAN:
        return value, None
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        return None, _("“%(label)s”应为文字或数字") % {"label": label}
    if not text:
        return None, _("“%(label)s”不能为空") % {"label": label}
    if rule.max_length and len(text) > rule.max_length:
        return None, _("“%(label)s”不能超过%(n)s个字符（现有%(have)s个）") % {
            "label": label, "n": rule.max_length, "have": len(text)}
    if rule.domain_kind == DomainKind.CHECKED and rule.checker:
        return check_identifier(rule.checker, text, label)
    cleaned, message = _typed(rule, text, label)
    if message is not None:
        return None, message
    if (rule.domain_kind == DomainKind.PATTERN and rule.pattern
            and not re.fullmatch(rule.pattern, text)):
        return None, _("“%(label)s”的格式不符合数据元%(id)s的规定") % {
            "label": label, "id": rule.identifier}
    if rule.domain_kind == DomainKind.CODE_LIST and rule.code_list_id:
        values = code_values(rule.code_list_id, rule.code_list_version, rule.code_list_stamp)
        if text not in values:
            # Also accept what the code reads as (性别 "男" for "1"), stored as the code.
            by_label = {v: k for k, v in values.items()}
            if text in by_label:
                return by_label[text], None
            shown = pgettext("list separator", "、").join(
                f"{k} {v}" for k, v in list(values.items())[:8])
            more = "…" if len(values) > 8 else ""
            return None, _("“%(label)s”须为代码集中的代码：%(codes)s%(more)s") % {
                "label": label, "codes": shown, "more": more}
        return text, None
    return cleaned, None


# --- what an element's own definition must satisfy ------------------------------------------------

IDENTIFIER_RE = re.compile(r"DE\d{5,8}")


@dataclass
class ElementData:
    """An element's fields as a door gives them (page, API, workbook row): checked by
    :func:`element_check` before any service writes them."""

    identifier: str
    name: str
    definition: str
    data_type: str
    name_en: str = ""
    object_class: str = ""
    property_term: str = ""
    representation: str = ""
    format: str = ""
    max_length: int | None = None
    domain_kind: str = DomainKind.FREE
    pattern: str = ""
    code_list: str = ""  # the code list's code (``GB/T 2261.1``)
    checker: str = ""
    unit: str = ""
    synonyms: list[str] | None = None
    personal: bool = False


def element_check(data: ElementData) -> list[Any]:
    """Every problem of an element's definition, each naming its field; [] when it may be saved.

    The one rule for pages, the API and the resource workbook's 数据元 sheet (whose rows map
    these fields to cells).
    """
    from tongban.core.errors import Problem

    from .models import CodeList

    problems: list[Problem] = []
    if not IDENTIFIER_RE.fullmatch(data.identifier or ""):
        problems.append(Problem("identifier", _("内部标识符应为 DE 加5至8位数字，如 DE00001")))
    for key, label, limit in (("name", _("中文名称"), 100), ("definition", _("说明"), 2000)):
        value = getattr(data, key) or ""
        if not value.strip():
            problems.append(Problem(key, _("须填写%(label)s") % {"label": label}))
        elif len(value) > limit:
            problems.append(Problem(key, _("%(label)s不能超过%(n)s个字") % {
                "label": label, "n": limit}))
    if data.data_type not in DataType.values:
        problems.append(Problem("data_type", _("未知的数据类型“%(value)s”；可用：%(values)s") % {
            "value": data.data_type, "values": "、".join(
                f"{v}（{label}）" for v, label in DataType.choices)}))
    if data.max_length is not None and not 1 <= data.max_length <= 10000:
        problems.append(Problem("max_length", _("最大长度须为1至10000之间的整数")))
    if data.domain_kind not in DomainKind.values:
        problems.append(Problem("domain_kind", _("未知的值域类型“%(value)s”；可用：%(values)s") % {
            "value": data.domain_kind, "values": "、".join(DomainKind.values)}))
    elif data.domain_kind == DomainKind.PATTERN:
        try:
            re.compile(data.pattern)
        except re.error:
            problems.append(Problem("pattern", _("格式规则不是有效的正则表达式")))
        if not data.pattern:
            problems.append(Problem("pattern", _("值域为格式规则时须填写正则表达式")))
    elif data.domain_kind == DomainKind.CODE_LIST:
        if not data.code_list:
            problems.append(Problem("code_list", _("值域为代码集时须指明代码集")))
        elif not CodeList.objects.filter(code=data.code_list).exists():
            problems.append(Problem("code_list", _("代码集“%(code)s”不存在，请先导入该代码集") % {
                "code": data.code_list}))
    elif data.domain_kind == DomainKind.CHECKED and data.checker not in Checker.values:
        problems.append(Problem("checker", _("值域为校验规则时须选择校验规则：%(values)s") % {
            "values": "、".join(Checker.values)}))
    if data.synonyms is not None and not all(isinstance(s, str) for s in data.synonyms):
        problems.append(Problem("synonyms", _("同义名称须为文字列表")))
    return problems
