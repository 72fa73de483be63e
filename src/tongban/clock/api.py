"""Public clock endpoints: compute a deadline exactly as cases do."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.errors import ValidationError
from pydantic import Field, field_validator, model_validator

from tongban.core.schemas import BoundedDateTime

from . import selectors
from .calendar import LAST_YEAR, OutsideCalendar
from .deadline import SHANGHAI, Stop, compute_deadline

router = Router(tags=["calendar"])


class StopIn(Schema):
    start: BoundedDateTime
    end: BoundedDateTime

    @model_validator(mode="after")
    def _ordered(self) -> StopIn:
        if self.end <= self.start:
            raise ValueError(_("暂停计时的结束时间必须晚于开始时间"))
        return self


def _aware(value: dt.datetime) -> dt.datetime:
    # An instant without offset is read as Beijing time, the platform's time zone.
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


class DeadlineIn(Schema):
    start: BoundedDateTime = Field(description="受理时刻 (ISO 8601; without offset = Asia/Shanghai; "
                                               "1901–2099)")
    category: Literal["on_the_spot", "same_day", "time_limited", "proxy"]
    limit: int = Field(0, ge=0, le=3650)
    unit: Literal["working_days", "natural_days"] = "working_days"
    stops: list[StopIn] = Field(default_factory=list, max_length=200)
    extension_working_days: int = Field(0, ge=0, le=365)
    hall: int | None = None

    @field_validator("start")
    @classmethod
    def _start_aware(cls, value: dt.datetime) -> dt.datetime:
        return _aware(value)

    @model_validator(mode="after")
    def _limit_needed(self) -> DeadlineIn:
        if self.category in ("time_limited", "proxy") and self.limit < 1:
            raise ValueError(_("限时办结和代办服务须给出至少为1的办理时限（limit）"))
        return self


class DeadlineOut(Schema):
    due: str = Field(description="到期时刻，ISO 8601，+08:00")
    provisional: bool


@router.post("/deadline", response=DeadlineOut, auth=None, summary="Compute a due instant")
def deadline(request: HttpRequest, payload: DeadlineIn) -> DeadlineOut:
    """The due instant of a case accepted at ``start`` under the official working-day calendar
    (domain rules §3). ``provisional`` is true when a year without an official schedule was used."""
    if payload.hall is not None and not selectors.hall_exists(payload.hall):
        raise ValidationError([{"loc": ["body", "payload", "hall"], "type": "value_error",
                                "msg": _("服务大厅不存在")}])
    try:
        result = compute_deadline(
            start=payload.start, category=payload.category, limit=payload.limit, unit=payload.unit,
            stops=[Stop(_aware(s.start), _aware(s.end)) for s in payload.stops],
            extension_working_days=payload.extension_working_days,
            calendar=selectors.work_calendar(), hours=selectors.office_hours(payload.hall),
            same_day_cutoff=selectors.same_day_cutoff(),
        )
    except OutsideCalendar:
        # The working days run past the last year the calendar knows.
        raise ValidationError([{"loc": ["body", "payload", "limit"], "type": "date_out_of_range",
                                "msg": _("到期时刻超出工作日历的范围（%(year)s年以后）")
                                % {"year": LAST_YEAR}}]) from None
    return DeadlineOut(due=result.due.astimezone(SHANGHAI).isoformat(), provisional=result.provisional)
