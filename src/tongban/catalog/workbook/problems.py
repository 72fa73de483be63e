"""Faults of a workbook: where they are (sheet, Excel row, column) and how they are listed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from tongban.core.errors import Problem, RuleViolation

from .template import COLUMNS, SHEETS, Column

# A file with more faults than this is hopeless to read through; the rest are counted.
MAX_LISTED_PROBLEMS = 1000
# Stop gathering after this many (sorting and keeping millions of faults helps nobody).
MAX_COLLECTED_PROBLEMS = 20_000
# Rows fetched per query: keeps every ``IN (...)`` list under SQLite's parameter limit.

@dataclass
class WorkbookRejected(RuleViolation):
    """A workbook with faults: ``problems`` point at cells; ``total`` counts every fault found.

    At most :data:`MAX_LISTED_PROBLEMS` problems are listed; ``total`` may be larger.
    """

    total: int = 0

    @property
    def unlisted(self) -> int:
        return self.total - len(self.problems)


def problem_location(problem: Problem) -> str:
    """Where a workbook problem is, e.g. ``事项 第12行 承诺办结时限`` (empty for the whole file)."""
    if problem.sheet is None:
        return ""
    if problem.row is None:
        return problem.sheet
    return str(_("%(sheet)s 第%(row)s行 %(column)s") % {
        "sheet": problem.sheet, "row": problem.row, "column": problem.column or ""})


def problem_line(problem: Problem) -> str:
    """One problem as a line of text: ``[事项 第12行 承诺办结时限] 承诺办结时限（30）不得超过…``."""
    where = problem_location(problem)
    return f"[{where}] {problem.message}" if where else str(problem.message)


class ProblemList:
    """Collects problems in any order; :meth:`reject` raises them sorted by sheet, row, column."""

    def __init__(self, *, sheets: tuple[str, ...] = SHEETS,
                 columns: dict[str, tuple[Column, ...]] | None = None) -> None:
        # Another workbook (the data resource workbook) passes its own sheets and columns.
        self.sheets, self.columns = sheets, COLUMNS if columns is None else columns
        self.items: list[Problem] = []
        self.total = 0
        self.cells: set[tuple[str | None, int | None, str | None]] = set()

    def add(self, message: Any, *, sheet: str | None = None, row: int | None = None,
            column: str | None = None, field_name: str = "") -> None:
        self.total += 1
        self.cells.add((sheet, row, column))
        if len(self.items) < MAX_COLLECTED_PROBLEMS:
            self.items.append(Problem(field=field_name, message=message, sheet=sheet, row=row,
                                      column=column))

    def reported(self, sheet: str, row: int, column: str) -> bool:
        return (sheet, row, column) in self.cells

    def __bool__(self) -> bool:
        return self.total > 0

    def reject(self) -> WorkbookRejected:
        def order(p: Problem) -> tuple[int, int, int]:
            sheet = self.sheets.index(p.sheet) if p.sheet in self.sheets else -1
            headers = [c.header for c in self.columns.get(p.sheet or "", ())]
            column = headers.index(p.column) if p.column in headers else -1
            return sheet, p.row or 0, column

        ordered = sorted(self.items, key=order)
        return WorkbookRejected(problems=ordered[:MAX_LISTED_PROBLEMS], total=self.total)
