"""Code list files: import and export of a code list as CSV or XLSX (part ``elements``).

Both formats have the columns of ``codelists.CSV_HEADER`` — 代码, 名称, 英文名称, 上级代码 — in
the first row (a workbook's first sheet). An import is all or nothing: any faulty row and the
list stays as it was, every fault named by its row (``第N项`` is the N-th entry, the file's row
N+1). A dry run checks and reports without saving.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from tongban.core.errors import AccessDenied, Problem, RuleViolation

from . import policies
from .codelists import CSV_HEADER, Entry, code_list_save, entries_check
from .models import CodeList

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

FORMATS = (".csv", ".xlsx")
MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class ImportReport:
    code: str
    entries: int
    added: int
    removed: int
    changed: int
    version: int
    dry_run: bool


def _rows_csv(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RuleViolation([Problem("file", _("CSV文件须为UTF-8编码"))]) from None
    return [list(row) for row in csv.reader(io.StringIO(text, newline=""))]


def _rows_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # any unreadable file is the same fault for the user
        raise RuleViolation([Problem("file", _("无法读取该电子表格，请上传 .xlsx 文件"))]) from None
    sheet = workbook.worksheets[0]
    rows = [["" if cell is None else (str(int(cell)) if isinstance(cell, float)
                                      and cell.is_integer() else str(cell)) for cell in row]
            for row in sheet.iter_rows(values_only=True)]
    workbook.close()
    return rows


def entries_from_bytes(data: bytes, filename: str) -> list[Entry]:
    """The entries of a code list file (CSV or XLSX by its name), header checked."""
    suffix = Path(filename).suffix.lower()
    if suffix not in FORMATS:
        raise RuleViolation([Problem("file", _("代码集文件须为 .csv 或 .xlsx 文件"))])
    if len(data) > MAX_BYTES:
        raise RuleViolation([Problem("file", _("文件不能超过10MB"))])
    rows = _rows_csv(data) if suffix == ".csv" else _rows_xlsx(data)
    header = [h.strip() for h in (rows[0] if rows else [])]
    if header[:2] != CSV_HEADER[:2]:
        raise RuleViolation([Problem("file", _("代码集文件第一行应为：%(header)s") % {
            "header": ",".join(CSV_HEADER)})])
    return [Entry(*(cell.strip() for cell in [*row, "", "", "", ""][:4]))
            for row in rows[1:] if any(cell.strip() for cell in row)]


def entries_from_file(source: Path | BinaryIO, filename: str | None = None) -> list[Entry]:
    if isinstance(source, Path):
        return entries_from_bytes(source.read_bytes(), filename or source.name)
    return entries_from_bytes(source.read(), filename or "")


@transaction.atomic
def code_list_import(*, actor: Actor, code: str, entries: list[Entry], name: str = "",
                     name_en: str | None = None, standard: str | None = None,
                     dry_run: bool = False) -> ImportReport:
    """Replace (or create) a code list with a file's entries, whole; nothing saved on any fault
    or on a dry run. Without a name, an existing list keeps its name (and so on)."""
    if not policies.can_manage_elements(actor):
        raise AccessDenied(_("只有数据管理部门可以维护代码集"))
    existing = CodeList.objects.filter(code=code).first()
    name = name or (existing.name if existing else "")
    name_en = name_en if name_en is not None else (existing.name_en if existing else "")
    standard = standard if standard is not None else (existing.standard if existing else "")
    problems = entries_check(entries)
    if not name.strip():
        problems.insert(0, Problem("name", _("新代码集须填写名称")))
    if problems:
        raise RuleViolation(problems)
    had = ({v: (label, en, parent) for v, label, en, parent in existing.entries.values_list(
        "value", "label", "label_en", "parent_value")} if existing else {})
    wanted = {e.value: (e.label, e.label_en, e.parent_value) for e in entries}
    added = len(set(wanted) - set(had))
    removed = len(set(had) - set(wanted))
    changed = sum(1 for v in set(wanted) & set(had) if wanted[v] != had[v])
    if dry_run:
        return ImportReport(code=code, entries=len(entries), added=added, removed=removed,
                            changed=changed, version=existing.version if existing else 0,
                            dry_run=True)
    saved = code_list_save(actor=actor, code=code, name=name, name_en=name_en,
                           standard=standard, entries=entries)
    return ImportReport(code=code, entries=len(entries), added=added, removed=removed,
                        changed=changed, version=saved.version, dry_run=False)


def _rows(code_list: CodeList) -> list[list[str]]:
    return [list(CSV_HEADER), *([e.value, e.label, e.label_en, e.parent_value]
                                for e in code_list.entries.order_by("position", "value"))]


def code_list_csv(code_list: CodeList) -> str:
    """The list as a code list file (UTF-8 CSV, the same columns an import reads)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(_rows(code_list))
    return out.getvalue()


def code_list_xlsx(code_list: CodeList) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "代码集"
    for row in _rows(code_list):
        sheet.append(row)
    for column, width in zip("ABCD", (14, 40, 40, 14), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def code_list_export(code_list: CodeList, path: Path) -> None:
    """Write the list to ``path``: XLSX for a .xlsx name, otherwise CSV."""
    if path.suffix.lower() == ".xlsx":
        path.write_bytes(code_list_xlsx(code_list))
    else:
        path.write_text(code_list_csv(code_list), encoding="utf-8")
