"""Application form definitions (申请表): the typed fields of an item's form, as data.

A definition is a list of field specs (JSON), stored as versions of
:class:`tongban.catalog.models.FormDefinition`; each spec has

- ``name``: an identifier (``business_name``), unique in the form;
- ``label``: what the applicant reads (``经营者名称``);
- ``type``: one of :data:`FIELD_TYPES`;
- ``required`` (default false), ``help_text``, ``data_element`` (the identifier of the published
  数据元 the field stands for, e.g. ``DE00002``, or empty: a value of a bound field is also held
  to the element's rule, ``tongban.exchange.elements.clean``);
- ``max_length`` (text, address: an integer 1–10000), ``min``/``max`` (number: finite, within
  ±10^15; amount: 0–9999999999.99, at most two decimal places), ``options`` (choice).
  Values of a number or amount field without a bound of their own are held to the same range.

The bureau's rules for a definition (:func:`form_definition_check`) and its writes
(:func:`form_definition_save`, :func:`form_definition_deactivate`) live here, with the reads of
the fields an item's applications fill in (:func:`item_form_fields`, :func:`definition_fields`).
Items without an active definition use :data:`DEFAULT_FORM`. Form data is checked against these
fields by ``tongban.cases.forms.form_validate``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from tongban.accounts import permissions
from tongban.audit.services import audit_record
from tongban.core import prepared
from tongban.core.errors import AccessDenied, Problem, RuleViolation

from .models import FormDefinition, Item

FIELD_TYPES: dict[str, Any] = {
    "text": _("文本"),
    "number": _("数字"),
    "date": _("日期"),
    "choice": _("单项选择"),
    "id_number": _("公民身份号码"),
    "uscc": _("统一社会信用代码"),
    "phone": _("电话号码"),
    "address": _("地址"),
    "amount": _("金额（元）"),
}
SPEC_KEYS = ("name", "label", "type", "required", "help_text", "data_element", "max_length",
             "min", "max", "options")
LENGTH_TYPES = {"text", "address"}
RANGE_TYPES = {"number", "amount"}
DEFAULT_MAX_LENGTH = {"text": 500, "address": 200}
MAX_FIELDS = 100
# The range of number fields (exact as JSON numbers) and amount fields (a fee's column width),
# for bounds in a definition and for values without a bound of their own.
NUMBER_LIMIT = Decimal(10) ** 15
AMOUNT_LIMIT = Decimal("9999999999.99")

NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")

DEFAULT_FORM: list[dict[str, Any]] = [
    {"name": "contact_phone", "label": _("联系电话"), "type": "phone", "required": True,
     "help_text": _("手机号码或带区号的固定电话，办理进度将通知到该号码")},
    {"name": "purpose", "label": _("申请事由"), "type": "text", "required": True,
     "max_length": 500, "help_text": ""},
    {"name": "address", "label": _("联系地址"), "type": "address", "required": False,
     "help_text": _("邮寄送达办理结果时使用")},
]

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor


# --- definitions ---------------------------------------------------------------------------------

def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _bound(value: int | float) -> Decimal:
    """A bound as written in the JSON (NaN for NaN and infinities, which JSON parsers admit)."""
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return number if number.is_finite() else Decimal("NaN")


def _check_spec(i: int, spec: Any, seen: set[str]) -> tuple[dict[str, Any] | None, list[Problem]]:
    where = f"fields[{i}]"
    if not isinstance(spec, dict):
        return None, [Problem(where, _("第%(n)s个字段应为对象（含name、label、type等属性）") % {"n": i + 1})]
    problems: list[Problem] = []
    for key in spec:
        if key not in SPEC_KEYS:
            problems.append(Problem(f"{where}.{key}", _("未知的属性“%(key)s”；可用的属性：%(keys)s") % {
                "key": key, "keys": pgettext("list separator", "、").join(SPEC_KEYS)}))
    name = spec.get("name")
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        problems.append(Problem(f"{where}.name", _(
            "字段名须以英文字母开头，只含英文字母、数字和下划线，至多40个字符")))
    elif name in seen:
        problems.append(Problem(f"{where}.name", _("字段名“%(name)s”重复") % {"name": name}))
    else:
        seen.add(name)
    label = spec.get("label")
    if not isinstance(label, str) or not label.strip() or len(label) > 100:
        problems.append(Problem(f"{where}.label", _("须填写字段标题（至多100个字）")))
    kind = spec.get("type")
    if kind not in FIELD_TYPES:
        problems.append(Problem(f"{where}.type", _("未知的字段类型“%(type)s”；可用的类型：%(types)s") % {
            "type": kind, "types": "、".join(FIELD_TYPES)}))
    if "required" in spec and not isinstance(spec["required"], bool):
        problems.append(Problem(f"{where}.required", _("required 须为 true 或 false")))
    for key, limit in (("help_text", 500), ("data_element", 20)):
        if key in spec and (not isinstance(spec[key], str) or len(spec[key]) > limit):
            problems.append(Problem(f"{where}.{key}", _("%(key)s 须为文字（至多%(n)s个字）") % {
                "key": key, "n": limit}))
    if "max_length" in spec:
        value = spec["max_length"]
        if kind not in LENGTH_TYPES:
            problems.append(Problem(f"{where}.max_length", _("只有文本和地址字段可以限制长度")))
        elif not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 10000:
            problems.append(Problem(f"{where}.max_length", _("最大长度须为1至10000之间的整数")))
    for key in ("min", "max"):
        if key not in spec:
            continue
        if kind not in RANGE_TYPES:
            problems.append(Problem(f"{where}.{key}", _("只有数字和金额字段可以设置最小值、最大值")))
        elif not is_number(spec[key]) or not _bound(spec[key]).is_finite():
            problems.append(Problem(f"{where}.{key}", _("%(key)s 须为数字") % {"key": key}))
        elif kind == "amount" and spec[key] < 0:
            problems.append(Problem(f"{where}.{key}", _("金额的界限不能为负数")))
        elif kind == "amount" and _bound(spec[key]) > AMOUNT_LIMIT:
            problems.append(Problem(f"{where}.{key}", _("金额的界限不能大于%(limit)s") % {
                "limit": AMOUNT_LIMIT}))
        elif kind == "amount" and _bound(spec[key]) != _bound(spec[key]).quantize(Decimal("0.01")):
            problems.append(Problem(f"{where}.{key}", _("金额的界限最多保留两位小数")))
        elif abs(_bound(spec[key])) > NUMBER_LIMIT:
            problems.append(Problem(f"{where}.{key}", _("%(key)s 须在-%(limit)s至%(limit)s之间") % {
                "key": key, "limit": NUMBER_LIMIT}))
    if (not any(p.field in (f"{where}.min", f"{where}.max") for p in problems)
            and "min" in spec and "max" in spec and spec["min"] > spec["max"]):
        problems.append(Problem(f"{where}.min", _("最小值不能大于最大值")))
    if kind == "choice":
        options = spec.get("options")
        if (not isinstance(options, list) or not options
                or not all(isinstance(o, str) and o.strip() for o in options)):
            problems.append(Problem(f"{where}.options", _("选项字段须列出至少一个选项（文字）")))
        elif len({o.strip() for o in options}) != len(options):
            problems.append(Problem(f"{where}.options", _("选项不能重复")))
    elif "options" in spec:
        problems.append(Problem(f"{where}.options", _("只有单项选择字段可以设置选项")))
    if problems:
        return None, problems
    clean: dict[str, Any] = {
        "name": name, "label": str(label).strip(), "type": kind,
        "required": bool(spec.get("required", False)),
        "help_text": spec.get("help_text", "").strip(),
        "data_element": spec.get("data_element", "").strip(),
    }
    for key in ("max_length", "min", "max"):
        if key in spec:
            clean[key] = spec[key]
    if kind == "choice":
        clean["options"] = [o.strip() for o in spec["options"]]
    return clean, []


def form_definition_check(fields: Any) -> tuple[list[dict[str, Any]], list[Problem]]:
    """The normalised field specs and every problem of a definition (nothing is saved)."""
    if not isinstance(fields, list):
        return [], [Problem("fields", _("申请表定义应为字段列表（JSON数组）"))]
    if not fields:
        return [], [Problem("fields", _("申请表至少须有一个字段"))]
    if len(fields) > MAX_FIELDS:
        return [], [Problem("fields", _("申请表至多%(n)s个字段") % {"n": MAX_FIELDS})]
    clean: list[dict[str, Any]] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, spec in enumerate(fields):
        normalised, found = _check_spec(i, spec, seen)
        problems.extend(found)
        if normalised is not None:
            clean.append(normalised)
    problems.extend(_binding_problems(fields, clean))
    return clean, problems


def _binding_problems(fields: list[Any], clean: list[dict[str, Any]]) -> list[Problem]:
    """A bound field names a published data element (one statement for the whole form)."""
    from tongban.exchange.elements import rules

    bound = [(i, spec) for i, spec in enumerate(fields) if isinstance(spec, dict)
             and isinstance(spec.get("data_element"), str) and spec["data_element"].strip()]
    found = rules(spec["data_element"].strip() for _i, spec in bound)
    problems: list[Problem] = []
    for i, spec in bound:
        identifier = spec["data_element"].strip()
        rule = found.get(identifier)
        label = spec.get("label") or spec.get("name") or i + 1
        if rule is None:
            problems.append(Problem(f"fields[{i}].data_element", _(
                "字段“%(label)s”绑定的数据元“%(id)s”不存在；请填写已发布数据元的内部标识符（如 "
                "DE00002），或留空") % {"label": label, "id": identifier}))
        elif not rule.is_published:
            problems.append(Problem(f"fields[{i}].data_element", _(
                "字段“%(label)s”绑定的数据元%(id)s（%(name)s）尚未发布或已废止，只能绑定已发布的数据元") % {
                    "label": label, "id": identifier, "name": rule.name}))
        elif spec.get("type") in FIELD_TYPES and spec["type"] not in _compatible(rule):
            problems.append(Problem(f"fields[{i}].type", _(
                "字段“%(label)s”的类型“%(type)s”与绑定的数据元%(id)s（%(name)s）不符，"
                "可用的类型：%(types)s") % {
                    "label": label, "type": FIELD_TYPES[spec["type"]], "id": identifier,
                    "name": rule.name, "types": pgettext("list separator", "、").join(
                        str(FIELD_TYPES[t]) for t in FIELD_TYPES if t in _compatible(rule))}))
    return problems


# The field types that can hold a value of an element (by its checker, else its data type).
_BY_CHECKER = {"id_number": {"id_number", "text"}, "uscc": {"uscc", "text"},
               "mobile": {"phone", "text"}, "phone": {"phone", "text"}}
_BY_DATA_TYPE = {"date": {"date", "text"}, "datetime": {"text"},
                 "integer": {"number", "amount", "text", "choice"},
                 "decimal": {"number", "amount", "text", "choice"},
                 "boolean": {"choice", "text"}}


def _compatible(rule: Any) -> set[str]:
    if rule.domain_kind == "checked" and rule.checker in _BY_CHECKER:
        return _BY_CHECKER[rule.checker]
    return _BY_DATA_TYPE.get(rule.data_type, set(FIELD_TYPES))


@transaction.atomic
def form_definition_save(*, actor: Actor, item: Item, fields: Any) -> FormDefinition:
    """Save ``fields`` as the item's next form version and make it the active one.

    The bureau administrator only; the definition is checked first (nothing saved on a problem)
    and the change is audited. Saving the same fields as the active version changes nothing and
    returns that version, so loading a definition twice is harmless.
    """
    if not permissions.is_bureau_admin(actor):
        raise AccessDenied(_("只有政务服务管理局可以编辑申请表"))
    clean, problems = form_definition_check(fields)
    if problems:
        raise RuleViolation(problems)
    # Lock the item so that two editors cannot both take the same next version number.
    item = Item.objects.select_for_update().get(pk=item.pk)
    active = FormDefinition.objects.filter(item=item, is_active=True).first()
    if active is not None and active.fields == clean:
        return active
    number = (FormDefinition.objects.filter(item=item).aggregate(n=Max("version"))["n"] or 0) + 1
    # A queryset update: the frozen rows' save() refuses anything but this flag anyway.
    FormDefinition.objects.filter(item=item, is_active=True).update(is_active=False)
    definition = FormDefinition.objects.create(
        item=item, version=number, fields=clean, is_active=True,
        created_by=permissions.account_of(actor))
    audit_record(actor=actor, action="form_definition.save", object_type="item",
                 object_id=item.implementation_code,
                 detail={"version": number, "fields": [f["name"] for f in clean],
                         "previous": active.version if active else None})
    return definition


@transaction.atomic
def form_definition_deactivate(*, actor: Actor, item: Item) -> None:
    """Stop using the item's own form: new applications fall back to the default form.

    Earlier versions stay (cases refer to them); saving a definition again activates a new one.
    """
    if not permissions.is_bureau_admin(actor):
        raise AccessDenied(_("只有政务服务管理局可以编辑申请表"))
    item = Item.objects.select_for_update().get(pk=item.pk)
    active = FormDefinition.objects.filter(item=item, is_active=True).first()
    if active is None:
        return
    FormDefinition.objects.filter(pk=active.pk).update(is_active=False)
    audit_record(actor=actor, action="form_definition.deactivate", object_type="item",
                 object_id=item.implementation_code, detail={"version": active.version})


# --- reads ---------------------------------------------------------------------------------------

# Read at every application (compiled once, ``core.prepared``); one active row per item.
_ACTIVE = prepared.Lookup(lambda pk: FormDefinition.objects.filter(item_id=pk, is_active=True))


def active_definition(item_id: int) -> FormDefinition | None:
    """The item's active definition, or None when its applications use the default form."""
    found = _ACTIVE.all(item_id)
    return found[0] if found else None


def default_fields() -> list[dict[str, Any]]:
    """:data:`DEFAULT_FORM` as stored specs; labels are translated when asked for, in the language
    of the request."""
    return [{**spec, "label": str(spec["label"]), "help_text": str(spec["help_text"]),
             "data_element": ""} for spec in DEFAULT_FORM]


def item_form_fields(item_id: int | None) -> list[dict[str, Any]]:
    """The field specs new applications for the item fill in: its active definition, or the
    default form."""
    definition = active_definition(item_id) if item_id is not None else None
    return list(definition.fields) if definition is not None else default_fields()


def definition_fields(definition_id: Any) -> list[dict[str, Any]]:
    """The field specs of one saved version (a case's pinned one), or the default form when
    there is no such version."""
    if definition_id:
        definition = FormDefinition.objects.filter(pk=definition_id).first()
        if definition is not None:
            return list(definition.fields)
    return default_fields()
