"""The data resource workbook (sheets 数据元, 资源目录, 信息项): import and export.

The same rules as the service catalog's workbook (``tongban.catalog.workbook``, whose reader,
cell conversions and problem list this module reuses): row 1 holds the column names, columns
are found by name, values are written in Chinese as people read them (无条件共享, 库表, 是/否),
lists separate values with ``;``. A workbook is checked whole before anything is written; any
fault rejects it whole, every fault listed by sheet, Excel row and column.

- 数据元 rows are checked by :func:`tongban.exchange.elements.element_check`. A row identical to
  the stored element changes nothing; a new element is created published; a changed element is
  updated in place and its ``version`` bumped (audited).
- 资源目录 rows (with their 信息项 rows, bound by 资源代码) are checked by
  :func:`tongban.exchange.services.resources.resource_check`. Imported by the data bureau (or
  the ``import_resources`` command, which acts as the system) a changed or new entry is
  published at once as the resource's next version; imported by a department's data officer it
  becomes a draft of that department's resource. An entry identical to the published version
  changes nothing.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import openpyxl
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from tongban.catalog.models import Item
from tongban.catalog.workbook.problems import ProblemList, WorkbookRejected, problem_line
from tongban.catalog.workbook.reading import Row, Source, close_sheets, read_workbook
from tongban.catalog.workbook.template import (
    BOOL,
    ENUM,
    INT,
    LIST,
    NO,
    YES,
    Column,
    label_of,
)
from tongban.catalog.workbook.xlsx import normalise_package
from tongban.core.errors import AccessDenied, Problem, RuleViolation
from tongban.organizations.models import Department

from . import policies
from .elements import ElementData, element_check
from .models import (
    Checker,
    Classification,
    DataElement,
    DataType,
    DomainKind,
    ElementStatus,
    Network,
    OpenType,
    Resource,
    ResourceField,
    ResourceVersion,
    ShareMethod,
    ShareType,
    UpdateCycle,
)
from .services.elements import element_publish, element_save
from .services.resources import (
    CLAIMING,
    ItemData,
    ResourceData,
    data_content,
    resource_check,
    resource_publish_direct,
    resource_save_draft,
    version_to_data,
)

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

SHEET_ELEMENTS, SHEET_RESOURCES, SHEET_ITEMS = "数据元", "资源目录", "信息项"
SHEETS = (SHEET_ELEMENTS, SHEET_RESOURCES, SHEET_ITEMS)

ELEMENT_COLUMNS: tuple[Column, ...] = (
    Column("内部标识符", "identifier", required=True),
    Column("中文名称", "name", required=True),
    Column("英文名称", "name_en"),
    Column("说明", "definition", required=True),
    Column("对象类词", "object_class"),
    Column("特性词", "property_term"),
    Column("表示词", "representation"),
    Column("数据类型", "data_type", ENUM, required=True, choices=DataType),
    Column("表示格式", "format"),
    Column("最大长度", "max_length", INT),
    Column("值域类型", "domain_kind", ENUM, required=True, choices=DomainKind),
    Column("格式规则", "pattern"),
    Column("代码集", "code_list"),
    Column("校验规则", "checker", ENUM, choices=Checker),
    Column("计量单位", "unit"),
    Column("同义名称", "synonyms", LIST),
    Column("个人信息", "personal", BOOL, required=True),
)
RESOURCE_COLUMNS: tuple[Column, ...] = (
    Column("资源代码", "code", required=True),
    Column("资源名称", "name", required=True),
    Column("资源提供方", "provider", required=True),
    Column("资源分类", "classification", ENUM, required=True, choices=Classification),
    Column("类目编码", "category_code", required=True),
    Column("资源摘要", "summary", required=True),
    Column("资源格式", "format", required=True),
    Column("共享类型", "share_type", ENUM, required=True, choices=ShareType),
    Column("共享条件", "share_condition"),
    Column("不予共享依据", "share_basis"),
    Column("共享方式", "share_method", ENUM, required=True, choices=ShareMethod),
    Column("接口地址", "endpoint_url"),
    Column("开放属性", "open_type", ENUM, required=True, choices=OpenType),
    Column("开放条件", "open_condition"),
    Column("更新周期", "update_cycle", ENUM, required=True, choices=UpdateCycle),
    Column("所在网络", "network", ENUM, required=True, choices=Network),
    Column("关联服务事项", "related_items", LIST),
    Column("关联资源", "related_resources", LIST),
)
ITEM_COLUMNS: tuple[Column, ...] = (
    Column("资源代码", "resource", required=True),
    Column("字段名", "key", required=True),
    Column("信息项名称", "name", required=True),
    Column("数据元", "element", required=True),
    Column("主体标识", "is_subject", BOOL),
    Column("数源", "is_source", BOOL),
)
COLUMNS: dict[str, tuple[Column, ...]] = {
    SHEET_ELEMENTS: ELEMENT_COLUMNS, SHEET_RESOURCES: RESOURCE_COLUMNS, SHEET_ITEMS: ITEM_COLUMNS}
_MODELS: dict[str, type[models.Model]] = {
    SHEET_ELEMENTS: DataElement, SHEET_RESOURCES: ResourceVersion, SHEET_ITEMS: ResourceField}
EPOCH = dt.datetime(2025, 1, 1)


@dataclass
class ImportReport:
    source: str
    dry_run: bool
    elements_created: int = 0
    elements_updated: int = 0
    elements_unchanged: int = 0
    resources_created: int = 0
    resources_updated: int = 0
    resources_unchanged: int = 0
    item_rows: int = 0
    published: bool = False


@dataclass
class _ResourceEntry:
    row: int
    data: ResourceData
    item_rows: list[int] = field(default_factory=list)


def _column(sheet: str, attr: str) -> Column | None:
    return next((c for c in COLUMNS[sheet] if c.attr == attr), None)


def _text(row: Row, column: Column) -> str:
    text = row.text(column)
    model_field = None
    try:
        model_field = _MODELS[row.sheet.name]._meta.get_field(column.attr)
    except FieldDoesNotExist:  # a column not stored as such
        model_field = None
    limit = getattr(model_field, "max_length", None) if isinstance(
        model_field, models.CharField) else None
    if limit is not None and len(text) > limit:
        row.fault(column, _("%(column)s不能超过%(max)s个字符（现有%(n)s个）") % {
            "column": column.header, "max": limit, "n": len(text)})
    return text


def _cell(row: Row, column: Column) -> Any:
    if column.kind == ENUM:
        return row.choice(column)
    if column.kind == BOOL:
        return row.yes_no(column)
    if column.kind == INT:
        return None if row.text(column) == "" else row.integer(column)
    if column.kind == LIST:
        return row.parts(column)
    return _text(row, column)


def _fault(problems: ProblemList, sheet: str, number: int, problem: Problem,
           default: str) -> None:
    column = _column(sheet, problem.field) or _column(sheet, default)
    if column is not None and problems.reported(sheet, number, column.header):
        return  # the cell's own fault is listed already (an unreadable value, say): once is enough
    problems.add(problem.message, sheet=sheet, row=number,
                 column=column.header if column else None, field_name=problem.field)


def _element_values(element: DataElement) -> dict[str, Any]:
    return {"identifier": element.identifier, "name": element.name,
            "name_en": element.name_en, "definition": element.definition,
            "object_class": element.object_class, "property_term": element.property_term,
            "representation": element.representation, "data_type": element.data_type,
            "format": element.format, "max_length": element.max_length,
            "domain_kind": element.domain_kind, "pattern": element.pattern,
            "code_list": element.code_list.code if element.code_list else "",
            "checker": element.checker, "unit": element.unit,
            "synonyms": list(element.synonyms or []), "personal": element.personal}


def _plan_elements(rows: list[tuple[int, list[Any]]], sheet: Any,
                   problems: ProblemList) -> list[tuple[int, ElementData]]:
    planned: list[tuple[int, ElementData]] = []
    seen: dict[str, int] = {}
    for number, values in rows:
        row = Row(sheet, number, values, problems)
        cells = {c.attr: _cell(row, c) for c in ELEMENT_COLUMNS}
        data = ElementData(**{**cells, "synonyms": cells["synonyms"]})
        if data.identifier in seen:
            row.fault(ELEMENT_COLUMNS[0], _("内部标识符“%(id)s”与第%(row)s行重复") % {
                "id": data.identifier, "row": seen[data.identifier]})
        seen.setdefault(data.identifier, number)
        for problem in element_check(data):
            _fault(problems, SHEET_ELEMENTS, number, problem, "identifier")
        planned.append((number, data))
    return planned


def _plan_resources(resource_sheet: Any, item_sheet: Any, problems: ProblemList,
                    departments: dict[str, Department]) -> list[_ResourceEntry]:
    entries: dict[str, _ResourceEntry] = {}
    for number, values in resource_sheet.rows:
        row = Row(resource_sheet, number, values, problems)
        cells = {c.attr: _cell(row, c) for c in RESOURCE_COLUMNS}
        provider = departments.get(cells["provider"])
        if provider is None and cells["provider"]:
            row.fault(RESOURCE_COLUMNS[2], _("资源提供方“%(name)s”不存在") % {
                "name": cells["provider"]})
        if cells["code"] in entries:
            row.fault(RESOURCE_COLUMNS[0], _("资源代码“%(code)s”与第%(row)s行重复") % {
                "code": cells["code"], "row": entries[cells["code"]].row})
            continue
        cells["provider"] = provider or Department()
        entries[cells["code"]] = _ResourceEntry(row=number, data=ResourceData(**cells))
    for number, values in item_sheet.rows:
        row = Row(item_sheet, number, values, problems)
        cells = {c.attr: _cell(row, c) for c in ITEM_COLUMNS}
        entry = entries.get(cells.pop("resource"))
        if entry is None:
            row.fault(ITEM_COLUMNS[0], _("资源代码“%(code)s”不在“资源目录”工作表中") % {
                "code": row.text(ITEM_COLUMNS[0])})
            continue
        entry.data.items.append(ItemData(**cells))
        entry.item_rows.append(number)
    return list(entries.values())


def _check_resource(entry: _ResourceEntry, problems: ProblemList,
                    elements: dict[str, DataElement], known_items: set[str],
                    known_resources: set[str]) -> None:
    if entry.data.provider.pk is None:
        return
    for problem in resource_check(entry.data, elements=elements, known_items=known_items,
                                  known_resources=known_resources):
        parts = problem.field.split(".")
        if parts[0] == "items" and len(parts) >= 3 and parts[1].isdigit():
            number = entry.item_rows[int(parts[1])]
            column = _column(SHEET_ITEMS, parts[2]) or ITEM_COLUMNS[1]
            problems.add(problem.message, sheet=SHEET_ITEMS, row=number, column=column.header,
                         field_name=problem.field)
        else:
            _fault(problems, SHEET_RESOURCES, entry.row, problem, "code")


def _check_sources(entries: list[_ResourceEntry], problems: ProblemList,
                   elements: dict[str, DataElement]) -> None:
    """数源 claims the publication would refuse, pointed at their cells."""
    in_book = {e.data.code for e in entries}
    claims: dict[str, set[int]] = defaultdict(set)
    for element_id, provider_id in ResourceField.objects.filter(
            is_source=True, version__status__in=CLAIMING).exclude(
            version__resource__code__in=in_book).values_list(
            "element__identifier", "version__resource__provider_id"):
        claims[element_id].add(provider_id)
    for entry in entries:
        for item in entry.data.items:
            if item.is_source:
                claims[item.element].add(entry.data.provider.pk)
    names = dict(Department.objects.values_list("pk", "name"))
    for entry in entries:
        for n, item in enumerate(entry.data.items):
            element = elements.get(item.element)
            if not item.is_source or element is None:
                continue
            confirmed = element.source_department_id
            others = claims[item.element] - {entry.data.provider.pk}
            if confirmed is not None and confirmed != entry.data.provider.pk:
                message = _("数据元“%(id)s”已确认的数源部门为%(dept)s，本资源不能申报为数源") % {
                    "id": item.element, "dept": names.get(confirmed, "")}
            elif confirmed is None and others:
                message = _("数据元“%(id)s”的数源也由%(others)s申报，数源尚未确认，"
                            "请先由数据管理部门确认数源") % {
                    "id": item.element,
                    "others": "、".join(sorted(names.get(o, "") for o in others))}
            else:
                continue
            problems.add(message, sheet=SHEET_ITEMS, row=entry.item_rows[n], column="数源",
                         field_name="is_source")


def resources_import_workbook(*, actor: Actor, source: Source, name: str,
                              dry_run: bool = False) -> ImportReport:
    """Check a resource workbook whole and, if it has no fault, apply it in one transaction.

    Raises :class:`WorkbookRejected` (nothing written) or :class:`AccessDenied`."""
    bureau = policies.is_data_bureau(actor)
    if not (bureau or policies.is_data_officer(actor)):
        raise AccessDenied(_("您无权执行此操作"))
    sheets = read_workbook(source, names=SHEETS, columns=COLUMNS)
    problems = ProblemList(sheets=SHEETS, columns=COLUMNS)
    report = ImportReport(source=name, dry_run=dry_run, published=bureau)
    try:
        with transaction.atomic():
            planned_elements = _plan_elements(sheets[SHEET_ELEMENTS].rows,
                                              sheets[SHEET_ELEMENTS], problems)
            departments = {d.name: d for d in Department.objects.all()}
            entries = _plan_resources(sheets[SHEET_RESOURCES], sheets[SHEET_ITEMS], problems,
                                      departments)
            stored = {e.identifier: e for e in DataElement.objects.select_related("code_list")}
            if not problems:
                _apply_elements(actor, planned_elements, stored, report, bureau, problems)
            elements = {e.identifier: e for e in DataElement.objects.all()}
            wanted_items = {c for e in entries for c in e.data.related_items}
            known_items = set(Item.objects.filter(implementation_code__in=wanted_items)
                              .values_list("implementation_code", flat=True))
            known_resources = set(Resource.objects.values_list("code", flat=True)) | {
                e.data.code for e in entries}
            for entry in entries:
                _check_resource(entry, problems, elements, known_items, known_resources)
                if not bureau and entry.data.provider.pk is not None and not \
                        policies.can_act_for_department(actor, entry.data.provider.pk):
                    problems.add(_("只能导入本部门的资源"), sheet=SHEET_RESOURCES, row=entry.row,
                                 column="资源提供方", field_name="provider")
            if bureau:
                _check_sources(entries, problems, elements)
            if problems:
                raise problems.reject()
            _apply_resources(actor, entries, elements, report, bureau, problems)
            if problems:
                raise problems.reject()
            report.item_rows = sum(len(e.item_rows) for e in entries)
            if dry_run:
                transaction.set_rollback(True)
    finally:
        close_sheets(sheets)
    return report


def _apply_elements(actor: Actor, planned: list[tuple[int, ElementData]],
                    stored: dict[str, DataElement], report: ImportReport, bureau: bool,
                    problems: ProblemList) -> None:
    for number, data in planned:
        values = {k: getattr(data, k) for k in _element_values(DataElement())}
        values["synonyms"] = list(data.synonyms or [])
        values["max_length"] = data.max_length
        element = stored.get(data.identifier)
        if element is not None and _element_values(element) == values:
            report.elements_unchanged += 1
            continue
        if not bureau:
            problems.add(_("只有数据管理部门可以新增或修改数据元"), sheet=SHEET_ELEMENTS,
                         row=number, column="内部标识符", field_name="identifier")
            continue
        # Through the element services: the published-element rule (an edit is the next
        # version, audited with its before and after) is the same as on the pages and the API.
        created = element is None
        saved = element_save(actor=actor, data=data)
        if saved.status == ElementStatus.DRAFT:
            element_publish(actor=actor, identifier=data.identifier)
        if created:
            report.elements_created += 1
        else:
            report.elements_updated += 1


def _apply_resources(actor: Actor, entries: list[_ResourceEntry],
                     elements: dict[str, DataElement], report: ImportReport, bureau: bool,
                     problems: ProblemList) -> None:
    current = {r.code: r.current for r in Resource.objects.select_related(
        "current", "current__resource", "current__resource__provider")}
    for entry in entries:
        version = current.get(entry.data.code)
        exists = entry.data.code in current
        if version is not None and data_content(version_to_data(version)) == data_content(
                entry.data):
            report.resources_unchanged += 1
            continue
        try:
            if bureau:
                resource_publish_direct(actor=actor, data=entry.data, elements=elements,
                                        checked=True)
            else:
                resource_save_draft(actor=actor, data=entry.data, elements=elements,
                                    checked=True)
        except RuleViolation as refused:
            for problem in refused.problems:
                _fault(problems, SHEET_RESOURCES, entry.row, problem, "code")
            continue
        if exists:
            report.resources_updated += 1
        else:
            report.resources_created += 1


def report_lines(report: ImportReport) -> list[str]:
    head = (_("试运行：已校验“%(name)s”，以下为将会发生的变化（未保存）") if report.dry_run
            else _("已导入“%(name)s”"))
    how = _("（直接发布）") if report.published else _("（保存为草稿，待提交审核）")
    return [
        str(head % {"name": report.source}),
        str(_("数据元：新增 %(c)s，更新 %(u)s，未变 %(n)s") % {
            "c": report.elements_created, "u": report.elements_updated,
            "n": report.elements_unchanged}),
        str(_("资源：新增 %(c)s，更新 %(u)s，未变 %(n)s%(how)s") % {
            "c": report.resources_created, "u": report.resources_updated,
            "n": report.resources_unchanged, "how": how}),
        str(_("信息项：%(n)s 行") % {"n": report.item_rows}),
    ]


# --- export --------------------------------------------------------------------------------------

def _out(column: Column, value: Any) -> Any:
    if column.kind == ENUM:
        return label_of(column.choices).get(value) if value else None
    if column.kind == BOOL:
        return YES if value else NO
    if column.kind == LIST:
        return ";".join(value) if value else None
    if value == "" or value is None:
        return None
    return value


def _element_rows() -> list[list[Any]]:
    rows = []
    for element in DataElement.objects.filter(status=ElementStatus.PUBLISHED).select_related(
            "code_list").order_by("identifier"):
        values = _element_values(element)
        rows.append([_out(c, values[c.attr]) for c in ELEMENT_COLUMNS])
    return rows


def _resource_rows() -> tuple[list[list[Any]], list[list[Any]]]:
    resources, items = [], []
    for resource in Resource.objects.filter(current__isnull=False).select_related(
            "current", "provider").order_by("code"):
        data = version_to_data(resource.current)  # type: ignore[arg-type]
        values = dict(data.version_values(), code=data.code, provider=resource.provider.name)
        resources.append([_out(c, values[c.attr]) for c in RESOURCE_COLUMNS])
        for item in data.items:
            row = dict(vars(item), resource=data.code)
            items.append([_out(c, row[c.attr]) for c in ITEM_COLUMNS])
    return resources, items


def empty_template(target: str | Path | IO[bytes]) -> None:
    """The workbook with its column names only (the data bureau's page offers it)."""
    _write(target, {name: [] for name in SHEETS})


def resources_export_workbook(target: str | Path | IO[bytes]) -> dict[str, int]:
    """Write the published elements and catalog in the import template (same bytes for the
    same catalog: the package's dates are fixed)."""
    resources, items = _resource_rows()
    rows = {SHEET_ELEMENTS: _element_rows(), SHEET_RESOURCES: resources, SHEET_ITEMS: items}
    _write(target, rows)
    return {name: len(r) for name, r in rows.items()}


def _write(target: str | Path | IO[bytes], rows: dict[str, list[list[Any]]]) -> None:
    book = openpyxl.Workbook(write_only=True)
    font, fill = Font(b=True), PatternFill("solid", fgColor="DDEBF7")
    for name in SHEETS:
        sheet = book.create_sheet(name)
        header = []
        for position, column in enumerate(COLUMNS[name], start=1):
            sheet.column_dimensions[get_column_letter(position)].width = column.width
            cell = WriteOnlyCell(sheet, value=column.header)
            cell.font, cell.fill = font, fill
            header.append(cell)
        sheet.freeze_panes = "A2"
        sheet.append(header)
        for values in rows[name]:
            sheet.append(values)
    buffer = io.BytesIO()
    book.save(buffer)
    data = normalise_package(buffer.getvalue(), stamp=EPOCH, sizes=[
        (len(COLUMNS[name]), len(rows[name]) + 1) for name in SHEETS])
    if isinstance(target, str | Path):
        Path(target).write_bytes(data)
    else:
        target.write(data)


__all__ = ["COLUMNS", "SHEETS", "ImportReport", "WorkbookRejected", "empty_template",
           "problem_line",
           "report_lines", "resources_export_workbook", "resources_import_workbook"]
