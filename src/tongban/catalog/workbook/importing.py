"""Importing a workbook: every row checked against the rules and the database, then upserted.

Nothing is written unless the whole file is clean; then departments and items are written in
one transaction through the catalog services.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc as stdnum_uscc

from tongban.accounts import permissions
from tongban.core.errors import AccessDenied
from tongban.organizations.models import Department, Division, Level

from .. import segmentation
from ..models import ItemVersion, Material
from ..rules import ItemData, MaterialData, check_item, uscc_problem
from ..services import (
    ApplyResult,
    DepartmentData,
    catalog_apply,
    departments_apply,
    published_unindexed,
)
from .problems import ProblemList
from .reading import Row, Sheet, Source, close_sheets, read_workbook
from .template import (
    DEPARTMENT_COLUMNS,
    ITEM_COLUMN_BY_ATTR,
    MATERIAL_COLUMN_BY_ATTR,
    SHEET_DEPARTMENTS,
    SHEET_ITEMS,
    SHEET_MATERIALS,
    Column,
)

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

# Rows fetched per query: keeps every ``IN (...)`` list under SQLite's parameter limit.
CHUNK = 500


@dataclass
class _ItemEntry:
    data: ItemData
    row: int  # row in sheet 事项
    material_rows: list[int] = field(default_factory=list)


@dataclass
class _Plan:
    departments: list[DepartmentData]
    division_ids: dict[str, int]
    items: list[_ItemEntry]
    material_count: int


def _plan(sheets: dict[str, Sheet]) -> _Plan:
    """Read every row against the database; raise :class:`WorkbookRejected` on any fault."""
    problems = ProblemList()
    division_ids = dict(Division.objects.values_list("code", "pk"))
    db_departments = list(Department.objects.order_by("pk"))
    departments, faulty = _plan_departments(sheets[SHEET_DEPARTMENTS], problems, division_ids,
                                            db_departments)

    # Departments as they will be after the import, by name: the sheet's rows (unsaved copies
    # carrying the new values, enough for the rules) and the database's departments not in it.
    in_sheet = {d.uscc for d in departments}
    by_name: dict[str, Department] = {d.name: d for d in db_departments if d.uscc not in in_sheet}
    for data in departments:
        # A faulty level is already reported and the rules comparing with it are skipped
        # (see DEPARTMENT_RULES); any valid level keeps the rules from tripping over "".
        by_name[data.name] = Department(name=data.name, uscc=data.uscc,
                                        level=data.level or Level.CITY)

    entries = _plan_items(sheets[SHEET_ITEMS], problems, by_name)
    material_count = _plan_materials(sheets[SHEET_MATERIALS], problems, entries)
    _carry_over(entries)
    for entry in entries.values():
        _check(entry, problems, faulty)
    if problems:
        raise problems.reject()
    return _Plan(departments=departments, division_ids=division_ids,
                 items=list(entries.values()), material_count=material_count)


def _plan_departments(sheet: Sheet, problems: ProblemList, division_ids: dict[str, int],
                      db_departments: list[Department]) -> tuple[list[DepartmentData], set[str]]:
    """The sheet's departments, and the names of those whose row has a fault."""
    col = {c.attr: c for c in DEPARTMENT_COLUMNS}
    faulty: set[str] = set()
    result: list[DepartmentData] = []
    rows: dict[str, int] = {}  # uscc → row
    name_rows: dict[str, int] = {}
    for number, values in sheet.rows:
        row = Row(sheet, number, values, problems)
        found = problems.total
        data = DepartmentData(
            name=row.text(col["name"]), uscc=stdnum_uscc.compact(row.text(col["uscc"])),
            division_code=row.text(col["division_code"]), level=row.choice(col["level"]),
            parent_name=row.text(col["parent_name"]),
            consultation_phone=row.text(col["consultation_phone"]),
            complaint_phone=row.text(col["complaint_phone"]), address=row.text(col["address"]),
        )
        if data.uscc and not problems.reported(sheet.name, number, col["uscc"].header):
            message = uscc_problem(data.uscc)
            if message is not None:
                row.fault(col["uscc"], message)
            elif data.uscc in rows:
                row.fault(col["uscc"], _("统一社会信用代码“%(value)s”与第%(row)s行重复") % {
                    "value": data.uscc, "row": rows[data.uscc]})
            else:
                rows[data.uscc] = number
        if data.name:
            if data.name in name_rows:
                row.fault(col["name"], _("部门名称“%(value)s”与第%(row)s行重复") % {
                    "value": data.name, "row": name_rows[data.name]})
            else:
                name_rows[data.name] = number
        if data.division_code and data.division_code not in division_ids:
            row.fault(col["division_code"], _("行政区划代码“%(value)s”不存在") % {
                "value": data.division_code})
        if problems.total > found:
            faulty.add(data.name)
        result.append(data)

    # Names and parents are checked against the departments as they will be after the import.
    in_sheet = {d.uscc for d in result}
    db_by_name = {d.name: d for d in db_departments if d.uscc not in in_sheet}
    parents = {d.name: d.parent_name for d in result if d.name}
    for (number, values), data in zip(sheet.rows, result, strict=True):
        row = Row(sheet, number, values, problems)
        found = problems.total
        taken = db_by_name.get(data.name)
        # Only a row with a valid code of its own is known to be another department.
        if taken is not None and rows.get(data.uscc) == number:
            row.fault(col["name"], _("部门名称“%(value)s”已被统一社会信用代码为%(uscc)s的部门使用") % {
                "value": data.name, "uscc": taken.uscc})
        known = data.parent_name in parents or data.parent_name in db_by_name
        if data.parent_name and not known:
            row.fault(col["parent_name"], _("上级部门“%(value)s”不在“部门”表中，也不是已有部门") % {
                "value": data.parent_name})
        elif data.parent_name:
            # Walk up the chain within the sheet: a department may not end up above itself.
            # (A loop higher up that does not pass through this row is reported on its rows.)
            seen, name = set(), data.parent_name
            while name in parents and name not in seen:
                if name == data.name:
                    row.fault(col["parent_name"], _("上级部门不能是本部门或其下级部门"))
                    break
                seen.add(name)
                name = parents[name]
        if problems.total > found:
            faulty.add(data.name)
    return result, faulty


def _plan_items(sheet: Sheet, problems: ProblemList,
                by_name: dict[str, Department]) -> dict[str, _ItemEntry]:
    col = ITEM_COLUMN_BY_ATTR
    entries: dict[str, _ItemEntry] = {}
    for number, values in sheet.rows:
        row = Row(sheet, number, values, problems)

        def department(column: Column, row: Row = row) -> Department | None:
            name = row.text(column)
            if not name:
                return None
            found = by_name.get(name)
            if found is None:
                row.fault(column, _("%(column)s“%(value)s”不在“部门”表中，也不是已有部门") % {
                    "column": column.header, "value": name})
            return found

        data = ItemData(
            implementation_code=row.text(col["implementation_code"]).upper(),
            basic_code=row.text(col["basic_code"]),
            name=row.text(col["name"]),
            item_type=row.choice(col["item_type"]),
            department=department(col["department"]),
            level=row.choice(col["level"]),
            commitment=row.choice(col["commitment"]),
            legal_limit=row.integer(col["legal_limit"]),
            legal_limit_unit=row.choice(col["legal_limit_unit"]),
            committed_limit=row.integer(col["committed_limit"]),
            committed_limit_unit=row.choice(col["committed_limit_unit"]),
            required_visits=row.integer(col["required_visits"]),
            visit_reason=row.text(col["visit_reason"]),
            online_depth=row.depth(col["online_depth"]),
            handling_forms=row.choices(col["handling_forms"]),
            charges_fee=row.yes_no(col["charges_fee"]),
            fee_standard=row.text(col["fee_standard"]),
            fee_basis=row.text(col["fee_basis"]),
            conditions=row.text(col["conditions"]),
            legal_basis=row.text(col["legal_basis"]),
            service_objects=row.choices(col["service_objects"]),
            topics=row.parts(col["topics"]),
            location=row.text(col["location"]),
            office_hours=row.text(col["office_hours"]),
            consultation_phone=row.text(col["consultation_phone"]),
            complaint_phone=row.text(col["complaint_phone"]),
            result_type=row.choice(col["result_type"]),
            result_name=row.text(col["result_name"]),
            receiving_unit=department(col["receiving_unit"]),
            special_procedures=row.text(col["special_procedures"]),
        )
        code = data.implementation_code
        if code in entries:
            first = entries[code].row
            row.fault(col["implementation_code"], _("实施编码“%(value)s”与第%(row)s行重复") % {
                "value": code, "row": first})
        elif code:
            entries[code] = _ItemEntry(data=data, row=number)
    return entries


def _plan_materials(sheet: Sheet, problems: ProblemList, entries: dict[str, _ItemEntry]) -> int:
    """Attach material rows to their items in sheet 事项.

    A material row of an item not in sheet 事项 is a fault, whether or not the item is already
    published: an item's materials are replaced as a whole by those of the file, so importing a
    few of them alone would publish a version that has lost all the others.
    """
    col = MATERIAL_COLUMN_BY_ATTR
    pending: dict[str, list[tuple[int, MaterialData]]] = {}
    for number, values in sheet.rows:
        row = Row(sheet, number, values, problems)
        code = row.text(col["implementation_code"]).upper()
        material = MaterialData(
            name=row.text(col["name"]), material_type=row.choice(col["material_type"]),
            form=row.choice(col["form"]), necessity=row.choice(col["necessity"]),
            source=row.choice(col["source"]), licence_type=row.text(col["licence_type"]),
            original_copies=row.integer(col["original_copies"]),
            copy_copies=row.integer(col["copy_copies"]), notes=row.text(col["notes"]),
        )
        if not code:
            continue
        if code not in entries:
            row.fault(col["implementation_code"], _(
                "实施编码“%(value)s”不在“事项”表中：材料须与其事项一同导入（事项的材料按文件整体替换）") % {
                "value": code})
            continue
        pending.setdefault(code, []).append((number, material))

    for code, rows in pending.items():
        entry = entries[code]
        entry.data.materials = [m for _number, m in rows]
        entry.material_rows = [number for number, _m in rows]
    return sum(len(rows) for rows in pending.values())


def _carry_over(entries: dict[str, _ItemEntry]) -> None:
    """Keep what the template has no column for: an import must not wipe it.

    办理流程 and 行政复议/诉讼途径 are edited on the catalog pages; a material's 设定依据 too
    (matched by material name). Without this a re-import would publish versions losing them.
    """
    for chunk in _chunks(list(entries)):
        versions = ItemVersion.objects.filter(
            published_unindexed(), item__implementation_code__in=chunk,
        ).values_list("pk", "item__implementation_code", "process", "review_route")
        by_version: dict[int, str] = {}
        for pk, code, process, review_route in versions:
            data = entries[code].data
            data.process, data.review_route = process, review_route
            by_version[pk] = code
        bases = Material.objects.filter(version_id__in=list(by_version)).exclude(
            legal_basis="").values_list("version_id", "name", "legal_basis")
        for version_id, name, legal_basis in bases:
            for material in entries[by_version[version_id]].data.materials:
                if material.name == name:
                    material.legal_basis = legal_basis


# Rules that compare an item with its department's code and level: when that department's own
# row is faulty, the item is not blamed for it (the department's row is reported instead).
DEPARTMENT_RULES = {"implementation_code", "level"}
# Rules about one cell that depend on another: an unknown 承诺类别 says nothing about whether a
# 代办受理单位 belongs there. (Other rules already skip placeholders of faulty cells themselves.)
DEPENDENT_RULES = {"commitment": {"receiving_unit"}}


def _check(entry: _ItemEntry, problems: ProblemList, faulty_departments: set[str]) -> None:
    """Run the catalog rules and point each problem at its cell."""
    code_column = ITEM_COLUMN_BY_ATTR["implementation_code"].header
    data = entry.data
    skip: set[str] = set()
    if data.department is not None and data.department.name in faulty_departments:
        skip |= DEPARTMENT_RULES
    if data.receiving_unit is not None and data.receiving_unit.name in faulty_departments:
        skip.add("receiving_unit")
    # Rules that read a cell already reported as faulty would only repeat the fault.
    for cell, dependants in DEPENDENT_RULES.items():
        if problems.reported(SHEET_ITEMS, entry.row, ITEM_COLUMN_BY_ATTR[cell].header):
            skip |= dependants
    for problem in check_item(data):
        name = problem.field
        if name in skip:
            continue
        if name.startswith("materials["):
            index_text, _dot, attr = name[len("materials["):].partition("].")
            sheet, row = SHEET_MATERIALS, entry.material_rows[int(index_text) - 1]
            column = MATERIAL_COLUMN_BY_ATTR.get(attr)
            header = column.header if column else code_column
        else:
            sheet, row = SHEET_ITEMS, entry.row
            item_column = ITEM_COLUMN_BY_ATTR.get(name)
            header = item_column.header if item_column else code_column
        # A cell already reported while reading (blank, unknown value) needs no second message.
        if problems.reported(sheet, row, header):
            continue
        problems.add(problem.message, sheet=sheet, row=row, column=header, field_name=name)


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


# --- importing ------------------------------------------------------------------------------

@dataclass
class ImportReport:
    """What an import did (or, for a dry run, would have done).

    The counts add up: every department row is created, updated or unchanged; every item row
    created, updated or unchanged; every material row written (its item's new version) or
    unchanged (its item unchanged).
    """

    source: str
    dry_run: bool
    result: ApplyResult
    department_rows: int
    item_rows: int
    material_rows: int


def catalog_import_workbook(*, actor: Actor, source: Source, name: str,
                            dry_run: bool = False, standalone: bool = False) -> ImportReport:
    """Check a catalog workbook whole and, if it has no fault, upsert it in one transaction.

    ``name`` is how the file is called in the audit log and in change notes. Raises
    :class:`WorkbookRejected` listing every fault (nothing written), or :class:`AccessDenied`.
    Importing the same file twice changes nothing the second time. With ``dry_run`` everything
    is checked and written, the counts are taken, and the transaction is rolled back.

    ``standalone``: the import is the only work of this process (the ``import_catalog``
    command, a task runner's job). A large file then uses every core — the biggest sheet parsed
    in a forked process, the search entries segmented in forked workers — and Python's cycle
    collector is paused while it runs. Both act on the whole process: forking while another
    thread holds a lock can leave the child waiting forever, and the pause would hold back the
    other threads' garbage. So the upload page, served by threads, leaves it off: the same
    import in this one thread, with the collector running.
    """
    if not permissions.can_import_catalog(actor):
        raise AccessDenied(_("您无权执行此操作"))
    if not standalone:
        return _import(actor=actor, source=source, name=name, dry_run=dry_run, processes=False)
    with _no_cycle_collection(), segmentation.worker_processes():
        return _import(actor=actor, source=source, name=name, dry_run=dry_run, processes=True)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused while a workbook is read and written.

    An import allocates millions of objects that live until it ends (cells, rows, the plan's
    items and materials); every so often the collector walks all of them, and on 50,000 items
    that was a quarter of the import's CPU time (docs/benchmarks.md). The import makes next to
    no reference cycles, and reference counting still frees everything else at once; the
    collector runs again as soon as the import returns or fails.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _import(*, actor: Actor, source: Source, name: str, dry_run: bool,
            processes: bool) -> ImportReport:
    sheets = read_workbook(source, processes=processes)
    with transaction.atomic():
        try:
            plan = _plan(sheets)
        finally:
            close_sheets(sheets)
        del sheets  # everything needed is in the plan; free the raw cells before writing
        result = ApplyResult()
        saved = departments_apply(actor=actor, departments=plan.departments,
                                  division_ids=plan.division_ids, result=result)
        by_uscc = {d.uscc: d for d in saved.values()}
        for entry in plan.items:
            data = entry.data
            if data.department is not None:
                data.department = by_uscc.get(data.department.uscc, data.department)
            if data.receiving_unit is not None:
                data.receiving_unit = by_uscc.get(data.receiving_unit.uscc, data.receiving_unit)
        items = catalog_apply(actor=actor, items=[e.data for e in plan.items], source=name)
        result.items_created = items.items_created
        result.items_updated = items.items_updated
        result.items_unchanged = items.items_unchanged
        result.materials_written = items.materials_written
        result.materials_unchanged = items.materials_unchanged
        if dry_run:
            transaction.set_rollback(True)
    return ImportReport(source=name, dry_run=dry_run, result=result,
                        department_rows=len(plan.departments),
                        item_rows=len(plan.items),
                        material_rows=plan.material_count)


def report_lines(report: ImportReport) -> list[str]:
    """The summary of an import as lines of text (the command prints them; the page shows them)."""
    r = report.result
    head = (_("试运行：已校验“%(name)s”，以下为将会发生的变化（未保存）") if report.dry_run
            else _("已导入“%(name)s”"))
    return [
        str(head % {"name": report.source}),
        str(_("部门：%(rows)s 行，新增 %(created)s，更新 %(updated)s，未变 %(unchanged)s") % {
            "rows": report.department_rows, "created": r.departments_created,
            "updated": r.departments_updated, "unchanged": r.departments_unchanged}),
        str(_("事项：%(rows)s 行，新增 %(created)s，更新 %(updated)s，未变 %(unchanged)s") % {
            "rows": report.item_rows, "created": r.items_created, "updated": r.items_updated,
            "unchanged": r.items_unchanged}),
        str(_("材料：%(rows)s 行，写入 %(written)s 条，未变 %(unchanged)s 条") % {
            "rows": report.material_rows, "written": r.materials_written,
            "unchanged": r.materials_unchanged}),
    ]
