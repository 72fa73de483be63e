"""Supervision API (router ``/supervision``): metrics, the dashboard's figures, records, and
the public per-item figures. The same selectors and services as the pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from tongban.core.errors import AccessDenied, Problem, RuleViolation
from tongban.core.schemas import BoundedDate, Offset

from . import metrics, policies, selectors, services
from .models import Kind, State, SupervisionRecord
from .schemas import (
    SupervisionBoardOut,
    SupervisionBoardRowOut,
    SupervisionCloseIn,
    SupervisionExplainIn,
    SupervisionFigureOut,
    SupervisionItemPerformanceOut,
    SupervisionMetricRowOut,
    SupervisionMetricsOut,
    SupervisionRecordOut,
    SupervisionTrendOut,
)

router = Router(tags=["supervision"])


class SupervisionPeriodIn(Schema):
    group: str = "department"
    start: BoundedDate | None = Field(None, alias="from")
    end: BoundedDate | None = Field(None, alias="to")


def _period(query: SupervisionPeriodIn) -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    start = query.start or today.replace(day=1)
    end = query.end or today
    problems = []
    if query.group not in metrics.GROUPS:
        problems.append(Problem("group", _("统计维度须为department、division或item")))
    if start > end:
        problems.append(Problem("to", _("结束日期不能早于开始日期")))
    if problems:
        raise RuleViolation(problems)
    return start, end


def _dashboard(request: HttpRequest) -> Any:
    if not policies.can_view_dashboard(request.user):
        raise AccessDenied(_("只有监察人员、政务服务管理局和部门负责人可以查看"))
    return request.user


def _row(row: metrics.MetricRow) -> SupervisionMetricRowOut:
    return SupervisionMetricRowOut(group=row.group, key=row.key, name=row.name, completed=row.completed,
                        figures=[SupervisionFigureOut(key=f.key, label=str(f.label), formula=str(f.formula),
                                           numerator=f.numerator, denominator=f.denominator,
                                           value=f.value) for f in row.figures])


@router.get("/metrics", response=SupervisionMetricsOut, url_name="supervision_metrics",
            summary="Efficiency metrics per department, division or item for a period")
def metrics_api(request: HttpRequest, query: Query[SupervisionPeriodIn]) -> SupervisionMetricsOut:
    user = _dashboard(request)
    start, end = _period(query)
    rows, total = metrics.metrics_table(group=query.group, start=start, end=end,
                                        department_id=policies.dashboard_department(user))
    return SupervisionMetricsOut(group=query.group, start=start, end=end, rows=[_row(r) for r in rows],
                      total=_row(total))


class SupervisionTrendIn(Schema):
    weeks: int = Field(12, ge=1, le=104)


@router.get("/trend", response=SupervisionTrendOut, url_name="supervision_trend",
            summary="Weekly cases accepted, completed, completed late, and records opened")
def trend_api(request: HttpRequest, query: Query[SupervisionTrendIn]) -> dict[str, Any]:
    user = _dashboard(request)
    return selectors.trend_chart(selectors.trend(user, now=timezone.now(), weeks=query.weeks))


def _board_row(row: selectors.BoardRow) -> SupervisionBoardRowOut:
    return SupervisionBoardRowOut(department_id=row.department_id, name=row.name, statuses=row.statuses,
                       states=row.states)


@router.get("/board", response=SupervisionBoardOut, url_name="supervision_board",
            summary="Live case counts per department by status group and deadline state")
def board_api(request: HttpRequest) -> SupervisionBoardOut:
    user = _dashboard(request)
    rows, total = selectors.board(user, now=timezone.now())
    return SupervisionBoardOut(rows=[_board_row(r) for r in rows], total=_board_row(total))


def _record(record: SupervisionRecord) -> SupervisionRecordOut:
    return SupervisionRecordOut(id=record.pk, kind=record.kind, kind_label=str(record.get_kind_display()),
                     case=record.case.number or str(record.case_id), step=record.step_id,
                     department=record.department.name,
                     person=str(record.person) if record.person else None, detail=record.detail,
                     state=record.state, opened_at=record.opened_at,
                     escalated_at=record.escalated_at, explanation=record.explanation,
                     close_note=record.close_note)


class SupervisionRecordsIn(Schema):
    kind: str = ""
    state: str = ""
    department: int | None = None
    limit: int = Field(100, ge=1, le=500)
    offset: Offset = 0


@router.get("/records", response=list[SupervisionRecordOut], url_name="supervision_records",
            summary="Supervision records the caller may see, newest first")
def records_api(request: HttpRequest, query: Query[SupervisionRecordsIn]) -> list[SupervisionRecordOut]:
    problems = []
    if query.kind and query.kind not in Kind.values:
        problems.append(Problem("kind", _("未知的监察类型")))
    if query.state and query.state not in State.values:
        problems.append(Problem("state", _("未知的状态")))
    if problems:
        raise RuleViolation(problems)
    found = selectors.records(request.user, kind=query.kind, state=query.state,
                              department=query.department)
    return [_record(r) for r in found[query.offset:query.offset + query.limit]]


def _find(request: HttpRequest, record_id: int) -> SupervisionRecord:
    record = selectors.record_find(request.user, record_id)
    if record is None:
        raise Http404
    return record


@router.post("/records/{int:record_id}/acknowledge", response=SupervisionRecordOut,
             url_name="supervision_record_acknowledge", summary="Acknowledge a record (签收)")
def acknowledge_api(request: HttpRequest, record_id: int) -> SupervisionRecordOut:
    record = services.supervision_record_acknowledge(actor=request.user,
                                                     record=_find(request, record_id))
    return _record(_find(request, record.pk))


@router.post("/records/{int:record_id}/explain", response=SupervisionRecordOut,
             url_name="supervision_record_explain", summary="Explain a record (说明情况)")
def explain_api(request: HttpRequest, record_id: int, payload: SupervisionExplainIn) -> SupervisionRecordOut:
    record = services.supervision_record_explain(actor=request.user,
                                                 record=_find(request, record_id),
                                                 explanation=payload.explanation)
    return _record(_find(request, record.pk))


@router.post("/records/{int:record_id}/close", response=SupervisionRecordOut,
             url_name="supervision_record_close", summary="Close a record (supervisors)")
def close_api(request: HttpRequest, record_id: int, payload: SupervisionCloseIn) -> SupervisionRecordOut:
    record = services.supervision_record_close(actor=request.user,
                                               record=_find(request, record_id), note=payload.note)
    return _record(_find(request, record.pk))


class SupervisionPublicPeriodIn(Schema):
    start: BoundedDate | None = Field(None, alias="from")
    end: BoundedDate | None = Field(None, alias="to")


@router.get("/public/items", response=list[SupervisionItemPerformanceOut], auth=None,
            url_name="supervision_public_items",
            summary="Per published item: volume, average actual time against the committed "
                    "limit, satisfaction (public)")
def public_items_api(request: HttpRequest, query: Query[SupervisionPublicPeriodIn],
                     ) -> list[SupervisionItemPerformanceOut]:
    start, end = _period(SupervisionPeriodIn(group="item", **{"from": query.start, "to": query.end}))
    from .views import item_rows

    return [SupervisionItemPerformanceOut(
        implementation_code=item.implementation_code,
        name=item.current.name if item.current else "", department=item.department.name,
        volume=perf.volume, avg_actual_working_days=perf.avg_actual_working_days,
        committed_limit=perf.committed_limit, committed_limit_unit=perf.committed_limit_unit,
        committed_working_days=perf.committed_working_days, legal_limit=perf.legal_limit,
        legal_limit_unit=perf.legal_limit_unit, satisfaction=perf.satisfaction,
        ratings=perf.ratings) for item, perf in item_rows(start, end)]
