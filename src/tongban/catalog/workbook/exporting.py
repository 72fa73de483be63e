"""Exporting the published catalog in the import template."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import openpyxl
from django.db.models import Max
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

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
    VersionStatus,
)
from .template import (
    COLUMNS,
    ENUM,
    ITEM_COLUMNS,
    MATERIAL_COLUMNS,
    NO,
    SHEET_DEPARTMENTS,
    SHEET_ITEMS,
    SHEET_MATERIALS,
    SHEETS,
    YES,
    Column,
    depth_label,
    label_of,
)
from .xlsx import normalise_package

# Rows fetched per query: keeps every ``IN (...)`` list under SQLite's parameter limit.
CHUNK = 500

# When the catalog has nothing published yet, the file still needs fixed dates.
EPOCH = dt.datetime(2025, 1, 1)


@dataclass
class ExportSummary:
    departments: int
    items: int
    materials: int


def catalog_export_workbook(target: str | Path | IO[bytes]) -> ExportSummary:
    """Write the published catalog in the import template.

    Departments and items come in the order they entered the catalog (so importing the demo
    workbook and exporting gives it back). The output is deterministic: the document's dates and
    the zip entries' times are those of the latest publication, so the same catalog always gives
    the same bytes.
    """
    book = openpyxl.Workbook(write_only=True)  # streams rows: a large catalog fits in memory
    counts: dict[str, int] = {}
    header_font, header_fill = Font(b=True), PatternFill("solid", fgColor="DDEBF7")
    latest = ItemVersion.objects.filter(status=VersionStatus.PUBLISHED).aggregate(
        at=Max("published_at"))["at"]
    stamp = latest.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0) if latest else EPOCH

    for name, rows in ((SHEET_DEPARTMENTS, _department_rows()), (SHEET_ITEMS, _item_rows()),
                       (SHEET_MATERIALS, _material_rows())):
        sheet = book.create_sheet(name)
        columns = COLUMNS[name]
        for position, column in enumerate(columns, start=1):
            sheet.column_dimensions[get_column_letter(position)].width = column.width
        sheet.freeze_panes = "A2"
        header = []
        for column in columns:
            cell = WriteOnlyCell(sheet, value=column.header)
            cell.font, cell.fill = header_font, header_fill
            header.append(cell)
        sheet.append(header)
        count = 0
        for row in rows:
            sheet.append(row)
            count += 1
        counts[name] = count

    buffer = io.BytesIO()
    book.save(buffer)
    data = normalise_package(buffer.getvalue(), stamp=stamp, sizes=[
        (len(COLUMNS[name]), counts[name] + 1) for name in SHEETS])
    if isinstance(target, str | Path):
        Path(target).write_bytes(data)
    else:
        target.write(data)
    return ExportSummary(departments=counts[SHEET_DEPARTMENTS], items=counts[SHEET_ITEMS],
                         materials=counts[SHEET_MATERIALS])


def _cell(value: str) -> str | None:
    # Empty text is an empty cell, as in the template, never an empty string.
    return value or None


def _department_rows() -> Iterator[list[Any]]:
    departments = Department.objects.order_by("pk").select_related("division", "parent")
    for d in departments.iterator(chunk_size=CHUNK):
        yield [d.name, d.uscc, d.division.code, label_of(Level)[d.level],
               _cell(d.parent.name if d.parent else ""), _cell(d.consultation_phone),
               _cell(d.complaint_phone), _cell(d.address)]


def _published_versions() -> Iterator[ItemVersion]:
    versions = (ItemVersion.objects.filter(status=VersionStatus.PUBLISHED)
                .select_related("item__department", "receiving_unit").order_by("item_id"))
    yield from versions.iterator(chunk_size=CHUNK)


def _item_rows() -> Iterator[list[Any]]:
    join = ";".join
    for v in _published_versions():
        row: dict[str, Any] = {
            "implementation_code": v.item.implementation_code, "basic_code": v.item.basic_code,
            "name": v.name, "item_type": label_of(ItemType)[v.item_type],
            "department": v.item.department.name, "level": label_of(Level)[v.level],
            "commitment": label_of(Commitment)[v.commitment], "legal_limit": v.legal_limit,
            "legal_limit_unit": label_of(LimitUnit)[v.legal_limit_unit],
            "committed_limit": v.committed_limit,
            "committed_limit_unit": label_of(LimitUnit)[v.committed_limit_unit],
            "required_visits": v.required_visits, "visit_reason": v.visit_reason,
            "online_depth": depth_label(v.online_depth),
            "handling_forms": join(label_of(HandlingForm)[f] for f in v.handling_forms),
            "charges_fee": YES if v.charges_fee else NO,
            "service_objects": join(label_of(ServiceObject)[s] for s in v.service_objects),
            "topics": join(v.topics), "result_type": label_of(ResultType)[v.result_type],
            "receiving_unit": v.receiving_unit.name if v.receiving_unit else "",
        }
        yield [_export_value(row[c.attr] if c.attr in row else getattr(v, c.attr))
               for c in ITEM_COLUMNS]


def _material_cell(material: Material, column: Column) -> Any:
    value = getattr(material, column.attr)
    return label_of(column.choices)[value] if column.kind == ENUM else _export_value(value)


def _material_rows() -> Iterator[list[Any]]:
    versions = (ItemVersion.objects.filter(status=VersionStatus.PUBLISHED).order_by("item_id")
                .values_list("pk", "item__implementation_code"))
    batch: list[tuple[int, str]] = []

    def flush() -> Iterator[list[Any]]:
        materials = Material.objects.filter(version_id__in=[pk for pk, _code in batch])
        by_version: dict[int, list[Material]] = {}
        for m in materials.order_by("position"):
            by_version.setdefault(m.version_id, []).append(m)
        for pk, code in batch:
            for m in by_version.get(pk, []):
                yield [code, *(_material_cell(m, c) for c in MATERIAL_COLUMNS[1:])]

    for version in versions.iterator(chunk_size=CHUNK):
        batch.append(version)
        if len(batch) == CHUNK:
            yield from flush()
            batch = []
    yield from flush()


def _export_value(value: Any) -> Any:
    return _cell(value) if isinstance(value, str) else value
