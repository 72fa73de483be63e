"""API shapes of 双随机一公开."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Schema
from pydantic import Field


class InspectorOut(Schema):
    name: str
    certificate_number: str


class DrawnEntityOut(Schema):
    position: int
    uscc: str
    name: str
    inspectors: list[InspectorOut]
    recused_count: int
    result: str | None = Field(None, description="result code, e.g. no_problem; null until recorded")
    result_label: str | None = None
    findings: str = ""
    inspected_on: dt.date | None = None


class DrawTaskSummaryOut(Schema):
    id: int
    name: str
    department: str
    status: str
    ratio_percent: Decimal | None
    count: int | None
    drawn_count: int
    recorded_count: int
    published_at: dt.datetime | None


class DrawTaskOut(DrawTaskSummaryOut):
    items: list[str]
    filters: dict[str, list[str]]
    inspectors_per_entity: int
    algorithm: str
    seed: str
    entity_pool_size: int
    inspector_pool_size: int
    entity_pool_hash: str
    inspector_pool_hash: str
    drawn_at: dt.datetime | None
    drawn: list[DrawnEntityOut]


class CheckOut(Schema):
    label: str
    ok: bool
    details: list[str]


class DrawVerificationOut(Schema):
    task: int
    ok: bool
    checks: list[CheckOut]
    directories_unchanged: bool | None


class TaskIn(Schema):
    name: str
    items: list[str] = Field(description="codes of the department's inspection items")
    industries: list[str] = []
    division_codes: list[str] = []
    risk_levels: list[str] = Field([], description="low, medium, high")
    entity_types: list[str] = []
    ratio_percent: Decimal | None = None
    count: int | None = None
    inspectors_per_entity: int = 2
    seed: str = ""


class ResultIn(Schema):
    result: str = Field(description="no_problem, rectification, follow_up, not_found, unreachable, "
                                    "no_activity, not_cooperative, deregistered")
    findings: str = ""
    inspected_on: dt.date
