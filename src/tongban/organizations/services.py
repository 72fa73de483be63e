"""Writes to departments, service halls, their office periods and windows.

Each save function validates first (the ``*_check`` functions return every problem at once, so a
form can point at each faulty field), then writes and audits in one transaction. Saving values
that equal what is stored writes nothing and records nothing, so repeated loads are no-ops.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, time
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import ValidationError as StdnumError

from tongban.accounts import permissions
from tongban.audit.services import audit_record
from tongban.core.errors import AccessDenied, Problem, RuleViolation

from .models import Department, Division, Hall, Level, OfficePeriod, Window, office_hours_changed

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

# A department's level given the level of its division. Street/town centres are often
# registered under their district's code, so a county division may hold township bodies.
ALLOWED_LEVELS: dict[str, set[str]] = {
    Level.NATIONAL: {Level.NATIONAL},
    Level.PROVINCE: {Level.PROVINCE},
    Level.CITY: {Level.CITY},
    Level.COUNTY: {Level.COUNTY, Level.TOWNSHIP},
    Level.TOWNSHIP: {Level.TOWNSHIP},
}
# Office phones: digits with optional hyphens, e.g. 0931-8619275 or 12345.
PHONE_RE = re.compile(r"^\d[\d-]{1,38}\d$")


def _require_manager(actor: Actor) -> None:
    if not permissions.can_manage_organizations(actor):
        raise AccessDenied(_("只有政务服务管理局管理员可以维护部门、大厅和窗口"))


def _raise(problems: list[Problem]) -> None:
    if problems:
        raise RuleViolation(problems)


def _apply(instance: Any, values: dict[str, Any]) -> list[str]:
    """Set changed attributes on ``instance``; returns the names of the fields that changed."""
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    for name in changed:
        setattr(instance, name, values[name])
    return changed


# --- departments -----------------------------------------------------------------------------

@dataclass
class DepartmentFields:
    """What a department form, the API or a loader supplies for one department."""

    name: str
    uscc: str
    division: Division | None
    level: str
    parent: Department | None = None
    consultation_phone: str = ""
    complaint_phone: str = ""
    address: str = ""
    is_services_bureau: bool = False

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name.strip(), "uscc": self.uscc.strip().upper(), "division": self.division,
            "level": self.level, "parent": self.parent,
            "consultation_phone": self.consultation_phone.strip(),
            "complaint_phone": self.complaint_phone.strip(), "address": self.address.strip(),
            "is_services_bureau": self.is_services_bureau,
        }


def department_check(fields: DepartmentFields, *, department: Department | None = None) -> list[Problem]:
    """Every rule a department must satisfy; ``department`` is the stored one when editing."""
    problems: list[Problem] = []
    values = fields.values()
    others = Department.objects.exclude(pk=department.pk) if department else Department.objects.all()

    if not values["name"]:
        problems.append(Problem("name", _("部门名称不能为空")))
    elif others.filter(name=values["name"]).exists():
        problems.append(Problem("name", _("已有名为“%(name)s”的部门") % {"name": values["name"]}))

    try:
        stdnum_uscc.validate(values["uscc"])
    except StdnumError:
        problems.append(Problem("uscc", _("统一社会信用代码“%(value)s”无效（须为18位且校验码正确）")
                                % {"value": values["uscc"]}))
    else:
        if others.filter(uscc=values["uscc"]).exists():
            problems.append(Problem("uscc", _("统一社会信用代码“%(value)s”已被其他部门使用")
                                    % {"value": values["uscc"]}))

    if fields.level not in Level.values:
        problems.append(Problem("level", _("行使层级无效")))
    if fields.division is None:
        problems.append(Problem("division", _("请选择行政区划")))
    elif fields.level in Level.values and fields.level not in ALLOWED_LEVELS[fields.division.level]:
        problems.append(Problem("level", _(
            "行使层级“%(level)s”与行政区划“%(division)s”（%(dlevel)s）不一致") % {
            "level": Level(fields.level).label, "division": fields.division.name,
            "dlevel": Level(fields.division.level).label,
        }))

    if fields.parent is not None and department is not None and department.pk is not None:
        seen: set[int] = set()
        ancestor: Department | None = fields.parent
        while ancestor is not None and ancestor.pk not in seen:
            if ancestor.pk == department.pk:
                problems.append(Problem("parent", _("上级部门不能是本部门或其下级部门")))
                break
            seen.add(ancestor.pk)
            ancestor = ancestor.parent

    for name, label in (("consultation_phone", _("咨询电话")), ("complaint_phone", _("监督投诉电话"))):
        if values[name] and not PHONE_RE.match(values[name]):
            problems.append(Problem(name, _("%(label)s只能由数字和连字符组成，例如 0931-8619275")
                                    % {"label": label}))
    if values["consultation_phone"] and values["consultation_phone"] == values["complaint_phone"]:
        problems.append(Problem("complaint_phone", _("监督投诉电话不能与咨询电话相同")))
    return problems


@transaction.atomic
def department_save(*, actor: Actor, fields: DepartmentFields,
                    department: Department | None = None) -> Department:
    """Create a department, or update ``department``; validated and audited."""
    _require_manager(actor)
    _raise(department_check(fields, department=department))
    values = fields.values()
    if department is None:
        department = Department.objects.create(**values)
        audit_record(actor=actor, action="department.created", object_type="department",
                     object_id=department.uscc, detail={"name": department.name})
        return department
    changed = _apply(department, values)
    if changed:
        department.save(update_fields=changed)
        audit_record(actor=actor, action="department.updated", object_type="department",
                     object_id=department.uscc, detail={"fields": sorted(changed)})
    return department


# --- halls and office periods ----------------------------------------------------------------

@dataclass
class PeriodFields:
    """One office period; ``season_from``/``season_to`` as MMDD, both empty for all year."""

    starts: time
    ends: time
    season_from: str = ""
    season_to: str = ""

    def key(self) -> tuple[time, time, str, str]:
        return (self.starts, self.ends, self.season_from, self.season_to)


@dataclass
class HallFields:
    name: str
    division: Division | None
    department: Department | None = None
    address: str = ""
    phone: str = ""
    # None keeps the stored periods; a list replaces them.
    office_periods: list[PeriodFields] | None = None

    def values(self) -> dict[str, Any]:
        return {"name": self.name.strip(), "division": self.division, "department": self.department,
                "address": self.address.strip(), "phone": self.phone.strip()}


def _valid_month_day(value: str) -> bool:
    if len(value) != 4 or not value.isdigit():
        return False
    try:
        date(2024, int(value[:2]), int(value[2:]))  # a leap year, so 0229 is allowed
    except ValueError:
        return False
    return True


def _season_spans(period: PeriodFields) -> list[tuple[str, str]]:
    """The season as spans within one calendar year; a season like 1001–0430 wraps round."""
    if not period.season_from:
        return [("0101", "1231")]
    if period.season_from <= period.season_to:
        return [(period.season_from, period.season_to)]
    return [(period.season_from, "1231"), ("0101", period.season_to)]


def _overlap(a: PeriodFields, b: PeriodFields) -> bool:
    seasons_meet = any(s1 <= e2 and s2 <= e1
                       for s1, e1 in _season_spans(a) for s2, e2 in _season_spans(b))
    return seasons_meet and a.starts < b.ends and b.starts < a.ends


def office_periods_check(periods: list[PeriodFields]) -> list[Problem]:
    """Each period starts before it ends, has a valid season, and none overlaps another."""
    problems: list[Problem] = []
    valid: list[tuple[int, PeriodFields]] = []
    for index, period in enumerate(periods, start=1):
        where = f"office_periods[{index}]"
        ok = True
        if period.starts >= period.ends:
            problems.append(Problem(where, _("第%(n)s个办公时段的开始时间须早于结束时间") % {"n": index}))
            ok = False
        if bool(period.season_from) != bool(period.season_to):
            problems.append(Problem(where, _("第%(n)s个办公时段的适用起止日期须同时填写或同时留空")
                                    % {"n": index}))
            ok = False
        elif period.season_from and not (_valid_month_day(period.season_from)
                                         and _valid_month_day(period.season_to)):
            problems.append(Problem(where, _("第%(n)s个办公时段的适用起止日期须为四位月日，例如 0501")
                                    % {"n": index}))
            ok = False
        if ok:
            valid.append((index, period))
    for i, (n1, p1) in enumerate(valid):
        for n2, p2 in valid[i + 1:]:
            if _overlap(p1, p2):
                problems.append(Problem(f"office_periods[{n2}]", _(
                    "第%(n2)s个办公时段（%(s2)s–%(e2)s）与第%(n1)s个（%(s1)s–%(e1)s）重叠") % {
                    "n1": n1, "n2": n2, "s1": f"{p1.starts:%H:%M}", "e1": f"{p1.ends:%H:%M}",
                    "s2": f"{p2.starts:%H:%M}", "e2": f"{p2.ends:%H:%M}"}))
    return problems


def hall_check(fields: HallFields, *, hall: Hall | None = None) -> list[Problem]:
    problems: list[Problem] = []
    values = fields.values()
    others = Hall.objects.exclude(pk=hall.pk) if hall else Hall.objects.all()
    if not values["name"]:
        problems.append(Problem("name", _("大厅名称不能为空")))
    elif others.filter(name=values["name"]).exists():
        problems.append(Problem("name", _("已有名为“%(name)s”的大厅") % {"name": values["name"]}))
    if fields.division is None:
        problems.append(Problem("division", _("请选择行政区划")))
    if values["phone"] and not PHONE_RE.match(values["phone"]):
        problems.append(Problem("phone", _("电话只能由数字和连字符组成，例如 0931-8619275")))
    if fields.office_periods is not None:
        problems.extend(office_periods_check(fields.office_periods))
    return problems


def _stored_periods(hall: Hall) -> list[PeriodFields]:
    return [PeriodFields(p.starts, p.ends, p.season_from, p.season_to)
            for p in hall.office_periods.all()]


@transaction.atomic
def hall_save(*, actor: Actor, fields: HallFields, hall: Hall | None = None) -> Hall:
    """Create a hall, or update ``hall``, with its office periods; validated and audited."""
    _require_manager(actor)
    _raise(hall_check(fields, hall=hall))
    values = fields.values()
    created = hall is None
    if hall is None:
        hall = Hall.objects.create(**values)
        changed: list[str] = []
    else:
        changed = _apply(hall, values)
        if changed:
            hall.save(update_fields=changed)
    if fields.office_periods is not None:
        wanted = sorted(p.key() for p in fields.office_periods)
        if sorted(p.key() for p in _stored_periods(hall)) != wanted:
            hall.office_periods.all().delete()
            OfficePeriod.objects.bulk_create([
                OfficePeriod(hall=hall, starts=s, ends=e, season_from=f, season_to=t)
                for s, e, f, t in wanted])
            office_hours_changed()
            changed.append("office_periods")
    if created:
        audit_record(actor=actor, action="hall.created", object_type="hall", object_id=hall.pk,
                     detail={"name": hall.name, "office_periods": [
                         f"{p.starts:%H:%M}-{p.ends:%H:%M}" for p in _stored_periods(hall)]})
    elif changed:
        audit_record(actor=actor, action="hall.updated", object_type="hall", object_id=hall.pk,
                     detail={"fields": sorted(changed)})
    return hall


# --- windows ---------------------------------------------------------------------------------

@dataclass
class WindowFields:
    hall: Hall | None
    number: str
    name: str
    is_comprehensive: bool = False
    departments: list[Department] = field(default_factory=list)


def window_check(fields: WindowFields, *, window: Window | None = None) -> list[Problem]:
    problems: list[Problem] = []
    number = fields.number.strip()
    if fields.hall is None:
        problems.append(Problem("hall", _("请选择窗口所在的大厅")))
    if not number:
        problems.append(Problem("number", _("窗口号不能为空")))
    elif fields.hall is not None:
        others = Window.objects.filter(hall=fields.hall, number=number)
        if window is not None:
            others = others.exclude(pk=window.pk)
        if others.exists():
            problems.append(Problem("number", _("“%(hall)s”已有%(number)s号窗口") % {
                "hall": fields.hall.name, "number": number}))
    if not fields.name.strip():
        problems.append(Problem("name", _("窗口名称不能为空")))
    if not fields.is_comprehensive and not fields.departments:
        # A comprehensive window accepts any department's items; any other window must say whose.
        problems.append(Problem("departments", _("非综合窗口须至少选择一个受理部门")))
    return problems


@transaction.atomic
def window_save(*, actor: Actor, fields: WindowFields, window: Window | None = None) -> Window:
    """Create a window, or update ``window``; validated and audited."""
    _require_manager(actor)
    _raise(window_check(fields, window=window))
    values = {"hall": fields.hall, "number": fields.number.strip(), "name": fields.name.strip(),
              "is_comprehensive": fields.is_comprehensive}
    wanted = sorted(d.pk for d in fields.departments)
    if window is None:
        window = Window.objects.create(**values)
        window.departments.set(wanted)
        assert fields.hall is not None  # checked above
        audit_record(actor=actor, action="window.created", object_type="window", object_id=window.pk,
                     detail={"hall": fields.hall.name, "number": window.number,
                             "comprehensive": window.is_comprehensive, "departments": wanted})
        return window
    changed = _apply(window, values)
    if changed:
        window.save(update_fields=changed)
    if sorted(window.departments.values_list("pk", flat=True)) != wanted:
        window.departments.set(wanted)
        changed.append("departments")
    if changed:
        audit_record(actor=actor, action="window.updated", object_type="window", object_id=window.pk,
                     detail={"fields": sorted(changed)})
    return window
