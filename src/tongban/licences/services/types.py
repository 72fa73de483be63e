"""Licence types (证照类型): checked, saved and imported by the data bureau."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django import template as django_template
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from tongban.audit.services import audit_record
from tongban.core.errors import AccessDenied, Problem, RuleViolation
from tongban.exchange.elements import rules as element_rules
from tongban.organizations.models import Department

from .. import identifiers, policies
from ..models import HolderKind, LicenceType, Validity

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

FIELD_KEY_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")
# What a type stores, in the order it is compared and audited.
TYPE_FIELDS = ("name", "name_en", "aliases", "holder_kind", "department", "validity",
               "validity_years", "fields", "template", "active")


@dataclass
class LicenceTypeData:
    code: str
    name: str
    holder_kind: str
    department: Department | None
    validity: str = Validity.PERMANENT
    validity_years: int | None = None
    fields: list[dict[str, Any]] = field(default_factory=list)
    template: str = ""
    name_en: str = ""
    aliases: list[str] = field(default_factory=list)
    active: bool = True

    def values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in TYPE_FIELDS}


def _field_problems(fields: Any) -> list[Problem]:
    problems: list[Problem] = []
    if not isinstance(fields, list) or not fields:
        return [Problem("fields", _("须至少有一个照面信息项"))]
    seen: set[str] = set()
    wanted: dict[str, str] = {}
    for i, spec in enumerate(fields):
        where = f"fields.{i}"
        if not isinstance(spec, dict):
            problems.append(Problem(where, _("照面信息项须为对象（key、name、element）")))
            continue
        key, name = str(spec.get("key", "")), str(spec.get("name", "")).strip()
        if not FIELD_KEY_RE.fullmatch(key):
            problems.append(Problem(f"{where}.key", _(
                "字段名须以小写字母开头，由小写字母、数字和下划线组成，不超过40个字符")))
        elif key in seen:
            problems.append(Problem(f"{where}.key", _("字段名“%(key)s”重复") % {"key": key}))
        seen.add(key)
        if not name:
            problems.append(Problem(f"{where}.name", _("须填写信息项名称")))
        element = str(spec.get("element", "") or "")
        if element:
            wanted[where] = element
        elif "element" in spec and spec["element"] not in ("", None):
            problems.append(Problem(f"{where}.element", _("数据元标识无效")))
        if "required" in spec and not isinstance(spec["required"], bool):
            problems.append(Problem(f"{where}.required", _("“必填”须为 true 或 false")))
    found = element_rules(wanted.values())
    for where, identifier in wanted.items():
        rule = found.get(identifier)
        if rule is None or not rule.is_published:
            problems.append(Problem(f"{where}.element", _(
                "数据元“%(id)s”不存在或未发布") % {"id": identifier}))
    return problems


def licence_type_check(data: LicenceTypeData) -> list[Problem]:
    """Every rule a licence type must satisfy; an empty list means valid."""
    problems: list[Problem] = []
    fault = identifiers.type_code_problem(data.code or "")
    if fault == "format":
        problems.append(Problem("code", _("证照类型代码须为18位统一社会信用代码加3位数字（共21位）")))
    elif fault == "uscc":
        problems.append(Problem("code", _("证照类型代码的前18位不是有效的统一社会信用代码")))
    if not (data.name or "").strip():
        problems.append(Problem("name", _("须填写证照名称")))
    elif len(data.name) > 100:
        problems.append(Problem("name", _("证照名称不能超过100个字符")))
    if len(data.name_en or "") > 200:
        problems.append(Problem("name_en", _("英文名称不能超过200个字符")))
    if not isinstance(data.aliases, list) or not all(
            isinstance(a, str) and a.strip() and len(a) <= 200 for a in data.aliases):
        problems.append(Problem("aliases", _("结果名称别名须为非空文字的列表")))
    if data.holder_kind not in HolderKind.values:
        problems.append(Problem("holder_kind", _("持证主体类型须为自然人或法人及其他组织")))
    if data.department is None:
        problems.append(Problem("department", _("签发部门不存在")))
    if data.validity not in Validity.values:
        problems.append(Problem("validity", _("有效期规则须为长期有效或若干年")))
    elif data.validity == Validity.YEARS:
        if not isinstance(data.validity_years, int) or not 1 <= data.validity_years <= 99:
            problems.append(Problem("validity_years", _("有效年限须为1至99之间的整数")))
    elif data.validity_years is not None:
        problems.append(Problem("validity_years", _("长期有效的证照不填有效年限")))
    problems.extend(_field_problems(data.fields))
    if data.template:
        try:
            django_template.engines["django"].from_string(data.template)
        except django_template.TemplateSyntaxError as exc:
            problems.append(Problem("template", _("打印模板有语法错误：%(error)s") % {
                "error": str(exc)}))
    return problems


def _normalized(data: LicenceTypeData) -> LicenceTypeData:
    data.code = (data.code or "").strip().upper()
    data.name = (data.name or "").strip()
    data.fields = [{"key": s["key"], "name": str(s["name"]).strip(),
                    "element": str(s.get("element") or ""),
                    "required": bool(s.get("required", True))}
                   for s in data.fields] if isinstance(data.fields, list) else data.fields
    return data


def _stored(licence_type: LicenceType) -> dict[str, Any]:
    values = {name: getattr(licence_type, name) for name in TYPE_FIELDS}
    values["department"] = licence_type.department_id
    return values


def _comparable(data: LicenceTypeData) -> dict[str, Any]:
    values = data.values()
    values["department"] = data.department.pk if data.department else None
    return values


def _save(actor: Actor, data: LicenceTypeData) -> tuple[LicenceType, str]:
    """Write one checked type; returns it and "created", "changed" or "unchanged"."""
    existing = LicenceType.objects.select_for_update().filter(code=data.code).first()
    if existing is not None and _stored(existing) == _comparable(data):
        return existing, "unchanged"
    values = data.values()
    if existing is None:
        licence_type = LicenceType.objects.create(code=data.code, **values)
        outcome = "created"
    else:
        for name, value in values.items():
            setattr(existing, name, value)
        existing.save()
        licence_type, outcome = existing, "changed"
    audit_record(actor=actor, action=f"licence_type.{outcome}", object_type="licence_type",
                 object_id=licence_type.code, detail={"name": licence_type.name})
    return licence_type, outcome


@transaction.atomic
def licence_type_save(*, actor: Actor, data: LicenceTypeData) -> LicenceType:
    """Create or update the type ``data.code``; values equal to the stored ones write nothing."""
    if not policies.can_manage_types(actor):
        raise AccessDenied(_("只有数据管理部门可以维护证照类型"))
    data = _normalized(data)
    problems = licence_type_check(data)
    if problems:
        raise RuleViolation(problems)
    return _save(actor, data)[0]


def type_data_from(row: Any) -> LicenceTypeData:
    """A type from one entry of an import file: the department by its USCC or its name."""
    if not isinstance(row, dict):
        raise RuleViolation([Problem("", _("每个证照类型须为一个对象"))])
    department_ref = str(row.get("department", "") or "")
    department = (Department.objects.filter(uscc=department_ref).first()
                  or Department.objects.filter(name=department_ref).first())
    years = row.get("validity_years")
    return LicenceTypeData(
        code=str(row.get("code", "")), name=str(row.get("name", "")),
        name_en=str(row.get("name_en", "") or ""), aliases=row.get("aliases") or [],
        holder_kind=str(row.get("holder_kind", "")), department=department,
        validity=str(row.get("validity", Validity.PERMANENT)),
        validity_years=years if isinstance(years, int) else None,
        fields=row.get("fields") or [], template=str(row.get("template", "") or ""),
        active=bool(row.get("active", True)))


@transaction.atomic
def licence_types_import(*, actor: Actor, rows: Any, dry_run: bool = False) -> dict[str, int]:
    """Load a list of types (the JSON of ``tongban import_licence_types``): all or nothing, each
    problem named by its entry (``3.fields.0.element``). Returns how many were created, changed
    and unchanged."""
    if not policies.can_manage_types(actor):
        raise AccessDenied(_("只有数据管理部门可以维护证照类型"))
    if not isinstance(rows, list):
        raise RuleViolation([Problem("", _("文件须为证照类型的列表"))])
    problems: list[Problem] = []
    checked: list[LicenceTypeData] = []
    codes: set[str] = set()
    for i, row in enumerate(rows):
        try:
            data = _normalized(type_data_from(row))
        except RuleViolation as exc:
            problems.extend(Problem(f"{i}", p.message) for p in exc.problems)
            continue
        found = licence_type_check(data)
        if data.code in codes:
            found.append(Problem("code", _("证照类型代码“%(code)s”在文件中重复") % {"code": data.code}))
        codes.add(data.code)
        problems.extend(Problem(f"{i}.{p.field}", p.message) for p in found)
        checked.append(data)
    if problems:
        raise RuleViolation(problems)
    counts = {"created": 0, "changed": 0, "unchanged": 0}
    for data in checked:
        counts[_save(actor, data)[1]] += 1
    if dry_run:
        transaction.set_rollback(True)
    return counts
