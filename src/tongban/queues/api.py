"""Queue API: a hall's waiting-time figures (staff) and its public board."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from tongban.core.errors import Problem, RuleViolation
from tongban.core.schemas import BoundedDate
from tongban.organizations.models import Hall

from . import selectors
from .schemas import CallOut, CategoryFiguresOut, CategoryQueueOut, HallBoardOut, HallFiguresOut

router = Router(tags=["queues"])


class PeriodIn(Schema):
    start: BoundedDate | None = Field(None, alias="from")
    end: BoundedDate | None = Field(None, alias="to")


def _row(f: selectors.Figures) -> CategoryFiguresOut:
    def r(v: float | None) -> float | None:
        return None if v is None else round(v, 2)

    return CategoryFiguresOut(
        code=f.category.code if f.category else None, name=str(f.label),
        waiting_now=f.waiting_now, taken=f.taken, served=f.served, no_show=f.no_show,
        cancelled=f.cancelled, average_wait_minutes=r(f.average_wait), p90_wait_minutes=r(f.p90_wait),
        average_service_minutes=r(f.average_service))


@router.get("/halls/{int:hall_id}/figures", response=HallFiguresOut, url_name="queue_figures",
            summary="Waiting-time figures of a hall")
def hall_figures(request: HttpRequest, hall_id: int, period: Query[PeriodIn]) -> HallFiguresOut:
    """Per category and for the whole hall, over the days ``from``–``to`` (Beijing time,
    inclusive; default today): waiting now, taken, served, no-show, average and 90th-percentile
    (nearest rank) wait = first call − taken, average service = finished − first call, in
    minutes. Hall staff see their own hall; heads, supervisors and the bureau every hall."""
    hall = get_object_or_404(Hall, pk=hall_id)
    today = timezone.localdate()
    start, end = period.start or today, period.end or today
    if end < start:
        raise RuleViolation([Problem("to", _("结束日期不能早于开始日期"))])
    if (end - start).days > 366:
        raise RuleViolation([Problem("to", _("统计期间不能超过 366 天"))])
    rows = selectors.hall_figures(request.user, hall, start=start, end=end)
    return HallFiguresOut(hall_id=hall.pk, hall=hall.name, start=start, end=end,
                          categories=[_row(f) for f in rows[:-1]], total=_row(rows[-1]))


@router.get("/halls/{int:hall_id}/board", response=HallBoardOut, auth=None,
            summary="A hall's queue board (public)")
def hall_board(request: HttpRequest, hall_id: int) -> HallBoardOut:
    """What the hall screen shows: waiting per category with the estimated wait, latest calls."""
    hall = get_object_or_404(Hall, pk=hall_id)
    return HallBoardOut(
        hall_id=hall.pk, hall=hall.name,
        categories=[CategoryQueueOut(code=q.category.code, name=q.category.name, waiting=q.waiting,
                                     estimated_wait_minutes=q.estimated_minutes)
                    for q in selectors.hall_queues(hall)],
        latest_calls=[CallOut(number=t.number, window=t.window.number if t.window else "",
                              called_at=t.last_called_at or t.taken_at)
                      for t in selectors.latest_calls(hall)])
