"""Reading a workbook into rows, and reading one row's cells by column kind."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO, Any

import openpyxl
from django.utils.translation import gettext_lazy as _

from tongban.core.errors import Problem

from ..models import OnlineDepth
from .problems import ProblemList, WorkbookRejected
from .template import (
    ASCII_ROMAN,
    COLUMNS,
    INTEGER_TEXT,
    MULTI_SEPARATOR,
    NO,
    ROMAN,
    SHEETS,
    TEXT,
    YES,
    Column,
    label_map,
    max_length,
)
from .xlsx import sheet_rows

Source = str | Path | IO[bytes]


Rows = list[tuple[int, list[Any]]]  # (Excel row number, cell values) of non-blank rows

# A sheet whose XML is at least this large is parsed in a forked process, when the caller
# allows processes (about 7,000 material rows; a smaller sheet takes well under a second).
PROCESS_SHEET_BYTES = 4 << 20


class Sheet:
    """One sheet's column positions and non-blank rows (``rows`` may still be on their way
    from the process parsing them: the first use waits for them)."""

    def __init__(self, *, name: str, index: dict[str, int], rows: Rows | None = None,
                 pending: _ParsedElsewhere | None = None) -> None:
        self.name, self.index = name, index  # index: column name → position in a row
        self._rows, self._pending = rows, pending

    @property
    def rows(self) -> Rows:
        if self._rows is None:
            assert self._pending is not None
            try:
                self._rows = self._pending.result()
            except Exception as exc:  # the other process met a broken zip or XML
                raise _unreadable() from exc
            finally:
                self._pending = None
        return self._rows

    def close(self) -> None:
        """Stop the process parsing this sheet, if it still runs (the import failed first)."""
        if self._pending is not None:
            self._pending.close()
            self._pending = None


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _non_blank(rows: Iterable[tuple[int, list[Any]]]) -> Rows:
    return [(number, values) for number, values in rows if not all(blank(v) for v in values)]


def _unreadable() -> WorkbookRejected:
    return WorkbookRejected(problems=[Problem(field="file", message=_(
        "无法读取文件：不是有效的 Excel 工作簿（.xlsx）"))], total=1)


class _ParsedElsewhere:
    """The non-blank rows of one sheet, parsed in a forked process while this one reads the
    other sheets and checks their rows (two cores: the two big sheets at once).

    The child reads the sheet through its own handle on the file (``path``) and sends its rows
    back pickled; it touches nothing else it inherited (no database, no logging) and ends
    without running the parent's exit handlers.
    """

    def __init__(self, path: str | Path, sheet: Any) -> None:
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_parse_in_child, args=(path, sheet, send),
                                        daemon=True)
        self._process.start()
        send.close()  # the child holds the sending end: a child that dies shows as EOF here

    def result(self) -> Rows:
        try:
            outcome, value = self._receive.recv()
        finally:
            self.close()
        if outcome != "rows":
            raise ValueError(value)
        rows: Rows = value
        return rows

    def close(self) -> None:
        self._receive.close()
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()


def _parse_in_child(path: str | Path, sheet: Any, send: Connection) -> None:
    try:
        stream = sheet_rows(sheet, path=path)
        first = next(stream, None)  # the header (row 1), read by the parent already
        body = [] if first is None or first[0] == 1 else [first]
        body.extend(stream)
        rows = _non_blank(body)
    except Exception as exc:
        send.send(("error", f"{type(exc).__name__}: {exc}"))
    else:
        send.send(("rows", rows))
    finally:
        send.close()


def _elsewhere(book: Any, source: Source, names: tuple[str, ...] = SHEETS) -> str | None:
    """The sheet to parse in another process: the largest, if it is large enough and the
    workbook is a file the child can open itself."""
    if not isinstance(source, str | Path):
        return None
    sizes = {name: book._archive.getinfo(book[name]._worksheet_path).file_size
             for name in names if name in book.sheetnames}
    largest = max(sizes, key=lambda name: sizes[name], default=None)
    return largest if largest is not None and sizes[largest] >= PROCESS_SHEET_BYTES else None


def read_workbook(source: Source, *, processes: bool = False, names: tuple[str, ...] = SHEETS,
                  columns: dict[str, tuple[Column, ...]] | None = None) -> dict[str, Sheet]:
    """The three sheets of a workbook, or :class:`WorkbookRejected` if it cannot be used.

    openpyxl opens the file in read-only mode (``defusedxml`` guards its XML parsing); rows are
    streamed by :func:`.xlsx.sheet_rows`. Row 1 holds the column names. A missing sheet or
    column is reported for all sheets at once; rows are not looked at then.

    With ``processes`` (a command's own process, never a threaded web worker: see
    ``catalog_import_workbook``) the largest sheet of a large file is parsed in a forked
    process while this one parses the others; its rows arrive when first used, and a fault of
    its XML is then reported as here. The caller closes the sheets (:meth:`Sheet.close`).

    ``names`` and ``columns``: another workbook's sheets and columns (the data resource
    workbook reuses this reader); the catalog's by default.
    """
    columns = COLUMNS if columns is None else columns
    problems = ProblemList(sheets=names, columns=columns)
    sheets: dict[str, Sheet] = {}
    try:
        book = openpyxl.load_workbook(source, read_only=True, data_only=True)
        try:
            other = _elsewhere(book, source, names) if processes else None
            for name in names:
                if name not in book.sheetnames:
                    problems.add(_("缺少工作表“%(sheet)s”") % {"sheet": name}, sheet=name,
                                 field_name="sheet")
                    continue
                rows = sheet_rows(book[name])
                first = next(rows, None)
                header = first[1] if first is not None and first[0] == 1 else []
                body = [] if first is None or first[0] == 1 else [first]
                index: dict[str, int] = {}
                for position, value in enumerate(header):
                    if blank(value):
                        continue
                    title = str(value).strip()
                    if title in index:
                        problems.add(_("列名“%(column)s”重复") % {"column": title}, sheet=name,
                                     row=1, column=title, field_name="column")
                    index.setdefault(title, position)
                for column in columns[name]:
                    if column.header not in index:
                        problems.add(_("缺少列“%(column)s”") % {"column": column.header},
                                     sheet=name, row=1, column=column.header, field_name="column")
                if name == other and not problems:
                    rows.close()  # the header was enough here; the child reads it all
                    assert isinstance(source, str | Path)
                    sheets[name] = Sheet(name=name, index=index,
                                         pending=_ParsedElsewhere(source, book[name]))
                    continue
                body.extend(rows)
                sheets[name] = Sheet(name=name, index=index, rows=_non_blank(body))
        finally:
            book.close()
    except Exception as exc:  # any failure of the zip or XML layer means "not a workbook"
        close_sheets(sheets)
        raise _unreadable() from exc
    if problems:
        close_sheets(sheets)
        raise problems.reject()
    return sheets


def close_sheets(sheets: dict[str, Sheet]) -> None:
    for sheet in sheets.values():
        sheet.close()


class Row:
    """Cells of one row, read by column with the conversion its kind needs."""

    def __init__(self, sheet: Sheet, number: int, values: list[Any], problems: ProblemList):
        self.sheet, self.number, self.values, self.problems = sheet, number, values, problems

    def raw(self, column: Column) -> Any:
        position = self.sheet.index[column.header]
        return self.values[position] if position < len(self.values) else None

    def fault(self, column: Column, message: Any) -> None:
        self.problems.add(message, sheet=self.sheet.name, row=self.number, column=column.header,
                          field_name=column.attr)

    def text(self, column: Column) -> str:
        value = self.raw(column)
        if value is None:
            text = ""
        elif isinstance(value, float) and value.is_integer():
            text = str(int(value))  # a code or phone typed as a number
        else:
            text = str(value).strip()
        if column.required and not text:
            self.fault(column, _("%(column)s不能为空") % {"column": column.header})
        # Only free text is stored as typed; other kinds are converted (and checked) first.
        limit = max_length(self.sheet.name, column.attr) if column.kind == TEXT else None
        if limit is not None and len(text) > limit:
            self.fault(column, _("%(column)s不能超过%(max)s个字符（现有%(n)s个）") % {
                "column": column.header, "max": limit, "n": len(text)})
        return text

    def parts(self, column: Column) -> list[str]:
        return [p.strip() for p in MULTI_SEPARATOR.split(self.text(column)) if p.strip()]

    def integer(self, column: Column) -> int:
        """The cell as an int; -1 when it is faulty, which also silences rules built on it."""
        value = self.raw(column)
        if blank(value):
            if column.required:
                self.fault(column, _("%(column)s不能为空") % {"column": column.header})
            return -1
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and INTEGER_TEXT.fullmatch(value.strip()):
            return int(value.strip())
        self.fault(column, _("%(column)s须为整数，当前为“%(value)s”") % {
            "column": column.header, "value": value})
        return -1

    def choice(self, column: Column) -> Any:
        text = self.text(column)
        if not text:
            return ""
        labels = label_map(column.choices)
        if text not in labels:
            self.fault(column, _("“%(value)s”不是有效的%(column)s，可选：%(options)s") % {
                "value": text, "column": column.header, "options": "、".join(labels)})
            return ""
        return labels[text]

    def choices(self, column: Column) -> list[Any]:
        labels = label_map(column.choices)
        chosen: list[Any] = []
        for part in self.parts(column):
            if part not in labels:
                self.fault(column, _("“%(value)s”不是有效的%(column)s，可选：%(options)s") % {
                    "value": part, "column": column.header, "options": "、".join(labels)})
            elif labels[part] in chosen:
                self.fault(column, _("%(column)s中“%(value)s”重复") % {
                    "column": column.header, "value": part})
            else:
                chosen.append(labels[part])
        return chosen

    def yes_no(self, column: Column) -> bool:
        text = self.text(column)
        if text and text not in (YES, NO):
            self.fault(column, _("%(column)s须为“是”或“否”，当前为“%(value)s”") % {
                "column": column.header, "value": text})
        return text == YES

    def depth(self, column: Column) -> int:
        text = self.text(column)
        if not text:
            return -1
        # "Ⅳ" as the template writes it; the full label "Ⅳ 全程网办" and ASCII "IV" also do.
        value = (ROMAN.get(text) or ASCII_ROMAN.get(text.upper())
                 or label_map(OnlineDepth).get(text))
        if value is None:
            self.fault(column, _("“%(value)s”不是有效的%(column)s，可选：Ⅰ、Ⅱ、Ⅲ、Ⅳ") % {
                "value": text, "column": column.header})
            return -1
        return value
