"""The directories workbook (名录工作簿): reading and checking it, before anything is written.

Four sheets, each optional (a file holds at least one): 市场主体, 检查人员, 回避关系, 检查事项.
Row 1 holds the column names (found by name); values are written as people read them
(有限责任公司, 高, 是/否). :func:`plan_import` checks every row against the rules and the
database and raises :class:`WorkbookRejected` listing every fault by sheet, Excel row and
column; ``services.directory_import`` then upserts a clean plan in one transaction.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import openpyxl
from django.db import models
from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import ValidationError as StdnumError

from tongban.accounts.models import User
from tongban.catalog.workbook.problems import MAX_LISTED_PROBLEMS, WorkbookRejected
from tongban.catalog.workbook.xlsx import sheet_rows
from tongban.core.errors import Problem
from tongban.organizations.models import Department, Division

from . import policies
from .models import Conflict, EntityType, InspectionItem, Inspector, MarketEntity, RiskLevel

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

Source = str | Path | IO[bytes]

SHEET_ENTITIES, SHEET_INSPECTORS = "市场主体", "检查人员"
SHEET_CONFLICTS, SHEET_ITEMS = "回避关系", "检查事项"
SHEETS = (SHEET_ENTITIES, SHEET_INSPECTORS, SHEET_CONFLICTS, SHEET_ITEMS)
YES, NO = "是", "否"


@dataclass(frozen=True)
class Column:
    header: str
    attr: str
    required: bool = True
    model: type[models.Model] | None = None  # whose field's max_length limits the text


COLUMNS: dict[str, tuple[Column, ...]] = {
    SHEET_ENTITIES: (
        Column("统一社会信用代码", "uscc"), Column("名称", "name", model=MarketEntity),
        Column("主体类型", "entity_type"), Column("行业", "industry", model=MarketEntity),
        Column("区划代码", "division_code"),
        Column("住所", "address", required=False, model=MarketEntity),
        Column("风险等级", "risk_level"), Column("监管部门", "department"),
    ),
    SHEET_INSPECTORS: (
        Column("执法证号", "certificate_number", model=Inspector),
        Column("姓名", "name", model=Inspector), Column("所属部门", "department"),
        Column("在岗", "active", required=False), Column("平台账户", "username", required=False),
    ),
    SHEET_CONFLICTS: (
        Column("执法证号", "certificate_number"), Column("统一社会信用代码", "uscc"),
        Column("回避事由", "reason", model=Conflict),
    ),
    SHEET_ITEMS: (
        Column("事项编码", "code", model=InspectionItem), Column("事项名称", "name", model=InspectionItem),
        Column("部门", "department"), Column("检查依据", "basis"),
        Column("检查方式", "method", model=InspectionItem),
    ),
}

@dataclass
class Sheet:
    name: str
    rows: list[tuple[int, list[Any]]]
    index: dict[str, int]


@dataclass
class EntityRow:
    uscc: str
    name: str
    entity_type: str
    industry: str
    division_id: int
    address: str
    risk_level: str
    department_id: int


@dataclass
class InspectorRow:
    certificate_number: str
    name: str
    department_id: int
    active: bool
    user_id: int | None


@dataclass
class ConflictRow:
    certificate_number: str
    uscc: str
    reason: str


@dataclass
class ItemRow:
    code: str
    name: str
    department_id: int
    basis: str
    method: str


@dataclass
class Plan:
    entities: list[EntityRow] = field(default_factory=list)
    inspectors: list[InspectorRow] = field(default_factory=list)
    conflicts: list[ConflictRow] = field(default_factory=list)
    items: list[ItemRow] = field(default_factory=list)


class Problems:
    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, message: Any, *, sheet: str | None = None, row: int | None = None,
            column: str | None = None, field_name: str = "") -> None:
        self.items.append(Problem(field=field_name, message=message, sheet=sheet, row=row,
                                  column=column))

    def reject(self) -> WorkbookRejected:
        def order(p: Problem) -> tuple[int, int, int]:
            sheet = SHEETS.index(p.sheet) if p.sheet in SHEETS else -1
            headers = [c.header for c in COLUMNS.get(p.sheet or "", ())]
            return sheet, p.row or 0, headers.index(p.column) if p.column in headers else -1

        ordered = sorted(self.items, key=order)
        return WorkbookRejected(problems=ordered[:MAX_LISTED_PROBLEMS], total=len(self.items))


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_sheets(source: Source) -> dict[str, Sheet]:
    """The known sheets present in the workbook (at least one), or :class:`WorkbookRejected`."""
    problems = Problems()
    sheets: dict[str, Sheet] = {}
    try:
        book = openpyxl.load_workbook(source, read_only=True, data_only=True)
        try:
            for name in SHEETS:
                if name not in book.sheetnames:
                    continue
                rows = list(sheet_rows(book[name]))
                header = rows[0][1] if rows and rows[0][0] == 1 else []
                index: dict[str, int] = {}
                for position, value in enumerate(header):
                    if not _blank(value):
                        index.setdefault(str(value).strip(), position)
                for column in COLUMNS[name]:
                    if column.header not in index and column.required:
                        problems.add(_("缺少列“%(column)s”") % {"column": column.header},
                                     sheet=name, row=1, column=column.header, field_name="column")
                body = rows[1:] if header else rows
                sheets[name] = Sheet(name=name, index=index, rows=[
                    (n, v) for n, v in body if not all(_blank(x) for x in v)])
        finally:
            book.close()
    except Exception as exc:  # any failure of the zip or XML layer means "not a workbook"
        raise WorkbookRejected(problems=[Problem(field="file", message=_(
            "无法读取文件：不是有效的 Excel 工作簿（.xlsx）"))], total=1) from exc
    if not sheets:
        problems.add(_("工作簿中没有可导入的工作表（市场主体、检查人员、回避关系、检查事项）"),
                     field_name="sheet")
    if problems.items:
        raise problems.reject()
    return sheets


class Row:
    def __init__(self, sheet: Sheet, number: int, values: list[Any], problems: Problems):
        self.sheet, self.number, self.values, self.problems = sheet, number, values, problems
        self.faulty = False

    def fault(self, column: Column, message: Any) -> None:
        self.faulty = True
        self.problems.add(message, sheet=self.sheet.name, row=self.number, column=column.header,
                          field_name=column.attr)

    def text(self, column: Column) -> str:
        position = self.sheet.index.get(column.header)
        value = self.values[position] if position is not None and position < len(self.values) else None
        if value is None:
            text = ""
        elif isinstance(value, float) and value.is_integer():
            text = str(int(value))  # a code typed as a number
        else:
            text = str(value).strip()
        if column.required and not text:
            self.fault(column, _("%(column)s不能为空") % {"column": column.header})
        if column.model is not None and text:
            limit = getattr(column.model._meta.get_field(column.attr), "max_length", None)
            if limit is not None and len(text) > limit:
                self.fault(column, _("%(column)s不能超过%(max)s个字符（现有%(n)s个）") % {
                    "column": column.header, "max": limit, "n": len(text)})
        return text

    def choice(self, column: Column, choices: type[models.TextChoices]) -> str:
        text = self.text(column)
        labels = {str(label): value for value, label in choices.choices}
        if text and text not in labels and text not in choices.values:
            self.fault(column, _("“%(value)s”不是有效的%(column)s，可选：%(options)s") % {
                "value": text, "column": column.header, "options": "、".join(labels)})
            return ""
        return labels.get(text, text)


class _Context:
    """What the rows are checked against: the database, and the rows read so far."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self.departments = {d.name: d.pk for d in Department.objects.all()}
        self.divisions = dict(Division.objects.values_list("code", "pk"))
        self.entity_usccs = set(MarketEntity.objects.values_list("uscc", flat=True))
        self.inspector_departments = dict(Inspector.objects.values_list("certificate_number",
                                                                        "department_id"))

    def department(self, row: Row, column: Column, name: str) -> int | None:
        if not name:
            return None
        pk = self.departments.get(name)
        if pk is None:
            row.fault(column, _("部门“%(value)s”不存在") % {"value": name})
        elif not policies.can_import_directory(self.actor, pk):
            row.fault(column, _("您无权导入“%(value)s”的名录") % {"value": name})
            return None
        return pk


def _duplicate(row: Row, column: Column, seen: dict[str, int], key: str) -> bool:
    if key in seen:
        row.fault(column, _("“%(value)s”与第%(row)s行重复") % {"value": key, "row": seen[key]})
        return True
    seen[key] = row.number
    return False


def _plan_entities(sheet: Sheet, problems: Problems, ctx: _Context, plan: Plan) -> None:
    col = {c.attr: c for c in COLUMNS[SHEET_ENTITIES]}
    seen: dict[str, int] = {}
    for number, values in sheet.rows:
        row = Row(sheet, number, values, problems)
        uscc = stdnum_uscc.compact(row.text(col["uscc"]))
        if uscc:
            try:
                stdnum_uscc.validate(uscc)
            except StdnumError:
                row.fault(col["uscc"], _("统一社会信用代码“%(value)s”无效（须为18位且校验码正确）") % {
                    "value": uscc})
            else:
                _duplicate(row, col["uscc"], seen, uscc)
        name, industry = row.text(col["name"]), row.text(col["industry"])
        entity_type = row.choice(col["entity_type"], EntityType)
        risk = row.choice(col["risk_level"], RiskLevel)
        code = row.text(col["division_code"])
        if code and code not in ctx.divisions:
            row.fault(col["division_code"], _("行政区划代码“%(value)s”不存在") % {"value": code})
        address = row.text(col["address"])
        department = ctx.department(row, col["department"], row.text(col["department"]))
        if not row.faulty and department is not None:
            plan.entities.append(EntityRow(uscc=uscc, name=name, entity_type=entity_type,
                                           industry=industry, division_id=ctx.divisions[code],
                                           address=address, risk_level=risk,
                                           department_id=department))


def _plan_inspectors(sheet: Sheet, problems: Problems, ctx: _Context, plan: Plan) -> None:
    col = {c.attr: c for c in COLUMNS[SHEET_INSPECTORS]}
    seen: dict[str, int] = {}
    seen_users: dict[str, int] = {}
    users = {u.username: u for u in User.objects.all().select_related("inspector")
             .only("pk", "username", "department_id", "inspector__certificate_number")}
    for number, values in sheet.rows:
        row = Row(sheet, number, values, problems)
        certificate = row.text(col["certificate_number"])
        if certificate:
            _duplicate(row, col["certificate_number"], seen, certificate)
        name = row.text(col["name"])
        department = ctx.department(row, col["department"], row.text(col["department"]))
        active_text = row.text(col["active"]) or YES
        if active_text not in (YES, NO):
            row.fault(col["active"], _("%(column)s须为“是”或“否”，当前为“%(value)s”") % {
                "column": col["active"].header, "value": active_text})
        username = row.text(col["username"])
        user_id = None
        if username:
            user = users.get(username)
            if user is None:
                row.fault(col["username"], _("平台账户“%(value)s”不存在") % {"value": username})
            elif department is not None and user.department_id != department:
                row.fault(col["username"], _("平台账户“%(value)s”不属于该检查人员的所属部门") % {
                    "value": username})
            elif (getattr(user, "inspector", None) is not None
                  and user.inspector.certificate_number != certificate):
                row.fault(col["username"], _("平台账户“%(value)s”已对应执法证号“%(other)s”") % {
                    "value": username, "other": user.inspector.certificate_number})
            elif not _duplicate(row, col["username"], seen_users, username):
                user_id = user.pk
        if not row.faulty and department is not None:
            plan.inspectors.append(InspectorRow(certificate_number=certificate, name=name,
                                                department_id=department,
                                                active=active_text == YES, user_id=user_id))
            ctx.inspector_departments[certificate] = department


def _plan_conflicts(sheet: Sheet, problems: Problems, ctx: _Context, plan: Plan) -> None:
    col = {c.attr: c for c in COLUMNS[SHEET_CONFLICTS]}
    seen: dict[str, int] = {}
    for number, values in sheet.rows:
        row = Row(sheet, number, values, problems)
        certificate = row.text(col["certificate_number"])
        uscc = stdnum_uscc.compact(row.text(col["uscc"]))
        reason = row.text(col["reason"])
        department = ctx.inspector_departments.get(certificate)
        if certificate and department is None:
            row.fault(col["certificate_number"], _("执法证号“%(value)s”不在检查人员名录中") % {
                "value": certificate})
        elif department is not None and not policies.can_import_directory(ctx.actor, department):
            row.fault(col["certificate_number"], _("您无权导入执法证号“%(value)s”的回避关系") % {
                "value": certificate})
        if uscc and uscc not in ctx.entity_usccs:
            row.fault(col["uscc"], _("统一社会信用代码“%(value)s”不在市场主体名录中") % {"value": uscc})
        if certificate and uscc:
            _duplicate(row, col["uscc"], seen, f"{certificate} / {uscc}")
        if not row.faulty:
            plan.conflicts.append(ConflictRow(certificate_number=certificate, uscc=uscc, reason=reason))


def _plan_items(sheet: Sheet, problems: Problems, ctx: _Context, plan: Plan) -> None:
    col = {c.attr: c for c in COLUMNS[SHEET_ITEMS]}
    seen: dict[str, int] = {}
    for number, values in sheet.rows:
        row = Row(sheet, number, values, problems)
        code = row.text(col["code"])
        if code:
            _duplicate(row, col["code"], seen, code)
        name, basis, method = row.text(col["name"]), row.text(col["basis"]), row.text(col["method"])
        department = ctx.department(row, col["department"], row.text(col["department"]))
        if not row.faulty and department is not None:
            plan.items.append(ItemRow(code=code, name=name, department_id=department, basis=basis,
                                      method=method))


def plan_import(*, actor: Actor, source: Source) -> Plan:
    """Every row of the workbook checked; :class:`WorkbookRejected` on any fault."""
    sheets = read_sheets(source)
    problems = Problems()
    ctx = _Context(actor)
    plan = Plan()
    if SHEET_ENTITIES in sheets:
        _plan_entities(sheets[SHEET_ENTITIES], problems, ctx, plan)
        ctx.entity_usccs.update(e.uscc for e in plan.entities)
    if SHEET_INSPECTORS in sheets:
        _plan_inspectors(sheets[SHEET_INSPECTORS], problems, ctx, plan)
    if SHEET_CONFLICTS in sheets:
        _plan_conflicts(sheets[SHEET_CONFLICTS], problems, ctx, plan)
    if SHEET_ITEMS in sheets:
        _plan_items(sheets[SHEET_ITEMS], problems, ctx, plan)
    if problems.items:
        raise problems.reject()
    return plan


def template_workbook() -> bytes:
    """An empty workbook with the four sheets and their column names."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name in SHEETS:
        sheet = book.create_sheet(name)
        sheet.append([c.header for c in COLUMNS[name]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
