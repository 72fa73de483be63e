"""What every API operation shares: the error bodies and bounded input types.

Every error answers ``{"detail": …}``: a sentence for 401, 403, 404, 409 and 503
(:class:`ErrorOut`), a list of problems naming each faulty field for 422 (:class:`ProblemsOut`).
The bounded types keep numbers and dates inside what the database and the calendar can hold, so
absurd input is a 422 naming the field instead of a server error.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, overload

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

# Earliest and latest day a date or instant of the API may name: the working-day calendar (its
# lunar holidays) is defined for 1901–2099, and no case, figure or record lies outside it.
FIRST_DAY = dt.date(1901, 1, 1)
LAST_DAY = dt.date(2099, 12, 31)
# Largest offset of a paginated list (far beyond any list, well inside a 64-bit integer).
MAX_OFFSET = 1_000_000
MAX_PAGE = 100_000


class ErrorOut(Schema):
    """The sentence saying why the request was not carried out (Chinese, or English on request)."""

    detail: str


class ProblemOut(Schema):
    """One faulty field: ``field`` names it, ``message`` says what is wrong.

    Input the API could not read at all also carries ``loc`` (where: body, query or path, then the
    field), ``type`` and ``msg`` (the validator's own words); workbook rows carry ``sheet``,
    ``row`` and ``column``.
    """

    field: str
    message: str
    loc: list[str | int] | None = None
    type: str | None = None
    msg: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None


class ProblemsOut(Schema):
    detail: list[ProblemOut]


def calendar_range_message() -> str:
    """The sentence refusing a day outside the calendar's range (the request's language)."""
    return _("日期须在%(first)s至%(last)s之间") % {"first": FIRST_DAY.isoformat(),
                                               "last": LAST_DAY.isoformat()}


def outside_calendar(value: dt.date | dt.datetime) -> bool:
    """Whether a day or instant lies outside 1901–2099, the calendar's range."""
    day = value.date() if isinstance(value, dt.datetime) else value
    return not FIRST_DAY <= day <= LAST_DAY


def _within_calendar(value: dt.date) -> dt.date:
    if outside_calendar(value):
        raise PydanticCustomError("date_out_of_range", calendar_range_message())
    return value


BoundedDate = Annotated[dt.date, AfterValidator(_within_calendar)]
BoundedDateTime = Annotated[dt.datetime, AfterValidator(_within_calendar)]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET, description=f"0–{MAX_OFFSET}")]
PageNumber = Annotated[int, Field(ge=1, le=MAX_PAGE, description=f"1–{MAX_PAGE}")]


@overload
def local(value: dt.datetime) -> dt.datetime: ...


@overload
def local(value: dt.datetime | None) -> dt.datetime | None: ...


def local(value: dt.datetime | None) -> dt.datetime | None:
    """An aware time in the site's time zone, so that it serialises with +08:00 (every answer of
    the API gives its times so)."""
    return timezone.localtime(value) if value is not None else None
