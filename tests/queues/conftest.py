"""A hall with categories and windows for the queue tests, and its staff."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.conftest import make_department, make_user
from tests.factories import HallFactory, WindowFactory
from tongban.accounts.models import Role, User
from tongban.organizations.models import Department, Hall, Window
from tongban.queues.models import ServiceCategory


@dataclass
class QueueHall:
    hall: Hall
    other_hall: Hall
    general: ServiceCategory  # A 综合受理 — comprehensive windows only
    business: ServiceCategory  # B 企业开办 — the market bureau's window too
    comprehensive: Window  # 1 号
    comprehensive2: Window  # 2 号
    market: Window  # 3 号 (market bureau)
    other_window: Window  # 1 号 of the other hall
    market_bureau: Department
    clerk: User
    clerk2: User
    other_clerk: User  # works in the other hall


@pytest.fixture
def qh(db: None) -> QueueHall:
    hall = HallFactory.create(name="测试政务服务中心")
    other = HallFactory.create(name="另一个便民服务中心")
    market = make_department("兰州市市场监督管理局", serial=1)
    general = ServiceCategory.objects.create(hall=hall, code="A", name="综合受理", position=0)
    business = ServiceCategory.objects.create(hall=hall, code="B", name="企业开办", position=1)
    business.departments.set([market])
    ServiceCategory.objects.create(hall=other, code="A", name="综合受理")
    w1 = WindowFactory.create(hall=hall, number="1", is_comprehensive=True)
    w2 = WindowFactory.create(hall=hall, number="2", is_comprehensive=True)
    w3 = WindowFactory.create(hall=hall, number="3", name="市场监管窗口")
    w3.departments.set([market])
    ow = WindowFactory.create(hall=other, number="1", is_comprehensive=True)
    return QueueHall(
        hall=hall, other_hall=other, general=general, business=business, comprehensive=w1,
        comprehensive2=w2, market=w3, other_window=ow, market_bureau=market,
        clerk=make_user("clerk1", Role.CLERK, hall=hall),
        clerk2=make_user("clerk2", Role.CLERK, hall=hall),
        other_clerk=make_user("clerk-other", Role.CLERK, hall=other))
