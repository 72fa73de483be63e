from __future__ import annotations

import datetime as dt

from ninja import Schema


class CategoryFiguresOut(Schema):
    code: str | None  # None: the whole hall
    name: str
    waiting_now: int
    taken: int
    served: int
    no_show: int
    cancelled: int
    average_wait_minutes: float | None
    p90_wait_minutes: float | None
    average_service_minutes: float | None


class HallFiguresOut(Schema):
    hall_id: int
    hall: str
    start: dt.date
    end: dt.date
    categories: list[CategoryFiguresOut]
    total: CategoryFiguresOut


class CategoryQueueOut(Schema):
    code: str
    name: str
    waiting: int
    estimated_wait_minutes: int


class CallOut(Schema):
    number: str
    window: str
    called_at: dt.datetime


class HallBoardOut(Schema):
    hall_id: int
    hall: str
    categories: list[CategoryQueueOut]
    latest_calls: list[CallOut]
