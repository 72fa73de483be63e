"""Shapes of the supervision API."""

from __future__ import annotations

import datetime as dt

from ninja import Schema


class SupervisionFigureOut(Schema):
    key: str
    label: str
    formula: str
    numerator: float | None
    denominator: float | None
    value: float | None


class SupervisionMetricRowOut(Schema):
    group: str
    key: str
    name: str
    completed: int
    figures: list[SupervisionFigureOut]


class SupervisionMetricsOut(Schema):
    group: str
    start: dt.date
    end: dt.date
    rows: list[SupervisionMetricRowOut]
    total: SupervisionMetricRowOut


class SupervisionTrendOut(Schema):
    weeks: list[str]
    accepted: list[int]
    completed: list[int]
    overdue: list[int]
    records: list[int]


class SupervisionBoardRowOut(Schema):
    department_id: int | None
    name: str
    statuses: dict[str, int]
    states: dict[str, int]


class SupervisionBoardOut(Schema):
    rows: list[SupervisionBoardRowOut]
    total: SupervisionBoardRowOut


class SupervisionRecordOut(Schema):
    id: int
    kind: str
    kind_label: str
    case: str
    step: int | None
    department: str
    person: str | None
    detail: str
    state: str
    opened_at: dt.datetime
    escalated_at: dt.datetime | None
    explanation: str
    close_note: str


class SupervisionExplainIn(Schema):
    explanation: str


class SupervisionCloseIn(Schema):
    note: str


class SupervisionItemPerformanceOut(Schema):
    implementation_code: str
    name: str
    department: str
    volume: int
    avg_actual_working_days: float | None
    committed_limit: int
    committed_limit_unit: str
    committed_working_days: float
    legal_limit: int
    legal_limit_unit: str
    satisfaction: float | None
    ratings: int
