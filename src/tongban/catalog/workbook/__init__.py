"""The catalog workbook: the exchange format with bureaus (sheets 部门, 事项, 材料).

The template is fixed (``shared/data/catalog/README.md``): one sheet per kind of row, the first
row holds the column names, columns are found by name, values are written in Chinese as people
read them (行政许可, 即收即办, Ⅳ, 是/否 …) and multi-valued cells separate values with ``;``.

:func:`catalog_import_workbook` checks a workbook whole before anything is written: a file with
a single faulty row is rejected with every fault listed by sheet, Excel row and column, and the
database is left as it was. A clean file is upserted in one transaction through the catalog
services (departments by 统一社会信用代码, items by 实施编码). :func:`catalog_export_workbook`
writes the same template back from the published catalog, byte for byte the same for the same
catalog.

Modules: ``template`` (sheets and columns), ``reading`` and ``xlsx`` (getting rows out of a
file), ``problems`` (where a fault is), ``importing`` and ``exporting``.
"""

from .exporting import ExportSummary, catalog_export_workbook
from .importing import ImportReport, catalog_import_workbook, report_lines
from .problems import MAX_LISTED_PROBLEMS, WorkbookRejected, problem_line, problem_location
from .reading import read_workbook
from .template import COLUMNS, SHEETS, Column

__all__ = [
    "COLUMNS", "MAX_LISTED_PROBLEMS", "SHEETS", "Column", "ExportSummary", "ImportReport",
    "WorkbookRejected", "catalog_export_workbook", "catalog_import_workbook", "problem_line",
    "problem_location", "read_workbook", "report_lines",
]
