"""The streaming sheet reader gives exactly what openpyxl gives, and refuses unsafe XML."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.conftest import DEMO_WORKBOOK
from tongban.catalog.workbook import WorkbookRejected, read_workbook
from tongban.catalog.workbook.xlsx import UnsafeXml, _RowCollector, sheet_rows

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"


def openpyxl_rows(path: Path, title: str) -> dict[int, list[Any]]:
    """openpyxl's own reading, the reference: row number → values without trailing blanks."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book[title]
        sheet.reset_dimensions()
        rows = {}
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            trimmed = list(values)
            while trimmed and trimmed[-1] is None:
                trimmed.pop()
            if trimmed:
                rows[number] = trimmed
        return rows
    finally:
        book.close()


def fast_rows(path: Path, title: str) -> dict[int, list[Any]]:
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = {}
        for number, values in sheet_rows(book[title]):
            trimmed = list(values)
            while trimmed and trimmed[-1] is None:
                trimmed.pop()
            if trimmed:
                rows[number] = trimmed
        return rows
    finally:
        book.close()


def test_the_demo_workbook_reads_as_openpyxl_reads_it() -> None:
    for title in ("部门", "事项", "材料"):
        assert fast_rows(DEMO_WORKBOOK, title) == openpyxl_rows(DEMO_WORKBOOK, title)


SHEET = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="{MAIN}"><dimension ref="A1:E9"/><sheetData>
<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>
  <c r="C1" t="inlineStr"><is><t>编码</t></is></c></row>
<row r="2"><c r="A2"><v>20</v></c><c r="B2"><v>2.5</v></c><c r="C2"><v>1E3</v></c>
  <c r="D2" t="b"><v>1</v></c><c r="E2" t="b"><v>0</v></c></row>
<row r="4"><c r="A4" s="1"><v>45658</v></c>
  <c r="D4" t="str"><f>A1&amp;B1</f><v>实施编码事项名称</v></c></row>
<row r="5"><c r="B5" t="e"><v>#N/A</v></c><c r="C5"><f>1/0</f></c>
  <c r="E5" t="inlineStr"><is><r><t>窗口</t></r><r><t xml:space="preserve"> 办理 </t></r>
    <rPh sb="0" eb="1"><t>チ</t></rPh></is></c></row>
<row><c t="inlineStr"><is><t>无行号</t></is></c><c><v>7</v></c></row>
<row r="9"><c r="A9" t="s"><v>2</v></c><c r="C9" t="inlineStr"><is><t/></is></c></row>
</sheetData></worksheet>"""

SHARED = f"""<?xml version="1.0" encoding="UTF-8"?>
<sst xmlns="{MAIN}" count="3" uniqueCount="3"><si><t>实施编码</t></si><si><t>事项名称</t></si>
<si><r><t>行政</t></r><r><t>许可</t></r></si></sst>"""

STYLES = f"""<?xml version="1.0" encoding="UTF-8"?>
<styleSheet xmlns="{MAIN}"><fonts count="1"><font/></fonts>
<fills count="1"><fill><patternFill patternType="none"/></fill></fills>
<borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>
<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"""


def handmade_workbook(path: Path, sheet: str = SHEET) -> Path:
    """A workbook as spreadsheet programs write them: shared strings, styles, formulas."""
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sharedStrings+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.styles+xml"/></Types>'),
        "_rels/.rels": (
            f'<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" Target="xl/workbook.xml" '
            f'Type="{REL}/officeDocument"/></Relationships>'),
        "xl/workbook.xml": (
            f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
            '<sheet name="事项" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{PKG_REL}">'
            f'<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="{REL}/worksheet"/>'
            f'<Relationship Id="rId2" Target="sharedStrings.xml" Type="{REL}/sharedStrings"/>'
            f'<Relationship Id="rId3" Target="styles.xml" Type="{REL}/styles"/></Relationships>'),
        "xl/worksheets/sheet1.xml": sheet,
        "xl/sharedStrings.xml": SHARED,
        "xl/styles.xml": STYLES,
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return path


def test_every_kind_of_cell_reads_as_openpyxl_reads_it(tmp_path: Path) -> None:
    path = handmade_workbook(tmp_path / "handmade.xlsx")

    rows = fast_rows(path, "事项")

    assert rows == openpyxl_rows(path, "事项")
    # And what that is, spelled out.
    assert rows == {
        1: ["实施编码", "事项名称", "编码"],
        2: [20, 2.5, 1000.0, True, False],
        4: [dt.datetime(2025, 1, 1), None, None, "实施编码事项名称"],
        5: [None, "#N/A", None, None, "窗口 办理 "],
        6: ["无行号", 7],
        9: ["行政许可", None, ""],
    }


def test_a_sheet_declaring_entities_is_refused() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
            b'<worksheet xmlns="' + MAIN.encode() + b'"><sheetData><row r="1"><c t="inlineStr">'
            b"<is><t>&lol2;</t></is></c></row></sheetData></worksheet>")
    collector = _RowCollector([], set(), set(), dt.datetime(1899, 12, 30))
    with pytest.raises(UnsafeXml):
        collector.parser.Parse(bomb, True)


@pytest.mark.parametrize("entity", [
    '<!DOCTYPE w [<!ENTITY e "x">]>',
    '<!DOCTYPE w [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
])
def test_a_workbook_with_entities_is_not_readable(tmp_path: Path, entity: str) -> None:
    sheet = SHEET.replace("<worksheet", entity + "<worksheet", 1).replace("<t>编码</t>", "<t>&e;</t>")
    path = handmade_workbook(tmp_path / "entity.xlsx", sheet)
    with pytest.raises(WorkbookRejected) as failure:
        read_workbook(path)
    assert [str(p.message) for p in failure.value.problems] == [
        "无法读取文件：不是有效的 Excel 工作簿（.xlsx）"]
