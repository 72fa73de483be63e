"""Waiting-time figures against an independent calculation, on the page and in the API."""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

import pytest
from django.test import Client

from tests.conftest import make_user
from tests.queues.conftest import QueueHall
from tongban.accounts.models import Role
from tongban.core.errors import AccessDenied
from tongban.queues import selectors
from tongban.queues.models import ServiceCategory, Ticket, TicketStatus

SH = dt.timezone(dt.timedelta(hours=8))
DAY = dt.date(2026, 3, 2)
# (category, taken minute, called minute or None, finished minute or None, status); minutes
# after 09:00 Beijing time on DAY.
ROWS = [
    ("A", 0, 4, 10, "done"),
    ("A", 1, 12, 20, "done"),
    ("A", 2, 30, None, "no_show"),
    ("A", 3, 31, 50, "done"),
    ("A", 5, None, None, "waiting"),
    ("A", 6, None, 7, "cancelled"),
    ("B", 0, 2, 3, "done"),
    ("B", 10, 11, None, "serving"),
]


def _at(minute: int, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 9, 0, tzinfo=SH) + dt.timedelta(minutes=minute)


def _make(qh: QueueHall, rows: list[Any], day: dt.date = DAY) -> None:
    cats = {"A": qh.general, "B": qh.business}
    for seq, (code, taken, called, finished, status) in enumerate(rows, start=1):
        Ticket.objects.create(
            hall=qh.hall, category=cats[code], day=day, seq=seq, number=f"{code}{seq:03d}",
            status=status, taken_at=_at(taken, day),
            called_at=_at(called, day) if called is not None else None,
            last_called_at=_at(called, day) if called is not None else None,
            finished_at=_at(finished, day) if finished is not None else None,
            window=qh.comprehensive if called is not None else None)


def expected(code: str | None) -> dict[str, Any]:
    rows = [r for r in ROWS if code is None or r[0] == code]
    waits = [c - t for _c, t, c, _f, _s in rows if c is not None]
    services = [f - c for _c, _t, c, f, s in rows
                if s == "done" and c is not None and f is not None]
    p90 = sorted(waits)[-(-len(waits) * 9 // 10) - 1] if waits else None
    return {"taken": len(rows), "served": sum(r[4] == "done" for r in rows),
            "no_show": sum(r[4] == "no_show" for r in rows),
            "cancelled": sum(r[4] == "cancelled" for r in rows),
            "waiting_now": sum(r[4] == "waiting" for r in rows),
            "average_wait": statistics.fmean(waits) if waits else None, "p90_wait": p90,
            "average_service": statistics.fmean(services) if services else None}


def _as_dict(f: selectors.Figures) -> dict[str, Any]:
    return {k: getattr(f, k) for k in ("taken", "served", "no_show", "cancelled", "waiting_now",
                                       "average_wait", "p90_wait", "average_service")}


def test_figures_match_an_independent_calculation(qh: QueueHall) -> None:
    _make(qh, ROWS)
    _make(qh, [("A", 0, 100, 200, "done")], day=DAY - dt.timedelta(days=1))  # outside the period
    admin = make_user("bureau", Role.ADMIN)
    rows = selectors.hall_figures(admin, qh.hall, start=DAY, end=DAY)
    assert [r.category for r in rows] == [qh.general, qh.business, None]
    assert _as_dict(rows[0]) == expected("A")
    assert _as_dict(rows[1]) == expected("B")
    assert _as_dict(rows[2]) == expected(None)
    # Spelled out for A: waits 4, 11, 28, 28 → mean 17.75, p90 = 4th of 4 = 28; service 6, 8, 19.
    assert (rows[0].average_wait, rows[0].p90_wait, rows[0].average_service) == (17.75, 28, 11)
    two_days = selectors.hall_figures(admin, qh.hall, start=DAY - dt.timedelta(days=1), end=DAY)
    assert two_days[-1].taken == len(ROWS) + 1


def test_nearest_rank_percentile() -> None:
    assert selectors.percentile_nearest_rank([], 0.9) is None
    assert selectors.percentile_nearest_rank([5], 0.9) == 5
    assert selectors.percentile_nearest_rank(list(range(1, 11)), 0.9) == 9
    assert selectors.percentile_nearest_rank(list(range(1, 12)), 0.9) == 10


def test_who_sees_the_figures(qh: QueueHall) -> None:
    for user in (qh.clerk, make_user("h", Role.HEAD, department=qh.market_bureau),
                 make_user("s", Role.SUPERVISOR), make_user("a", Role.ADMIN)):
        selectors.hall_figures(user, qh.hall, start=DAY, end=DAY)
    for user in (qh.other_clerk, make_user("c", Role.CITIZEN),
                 make_user("o", Role.OFFICER, department=qh.market_bureau)):
        with pytest.raises(AccessDenied):
            selectors.hall_figures(user, qh.hall, start=DAY, end=DAY)


def test_figures_page_shows_the_numbers_and_formulas(qh: QueueHall, client: Client) -> None:
    _make(qh, ROWS)
    client.force_login(qh.clerk)
    response = client.get(f"/queue/{qh.hall.pk}/figures/?start=2026-03-02&end=2026-03-02")
    assert response.status_code == 200
    html = response.content.decode()
    assert "90% 等候（最近秩法）= 将等候时长从小到大排列，取第 ⌈0.9 × n⌉ 个。" in html
    assert "<td>17.8</td>" in html and "<td>28.0</td>" in html  # A: average and p90 wait
    bad = client.get(f"/queue/{qh.hall.pk}/figures/?start=2026-03-05&end=2026-03-02")
    assert bad.status_code == 422
    assert "结束日期：结束日期不能早于开始日期" in bad.content.decode()
    client.force_login(qh.other_clerk)
    assert client.get(f"/queue/{qh.hall.pk}/figures/").status_code == 403
    client.force_login(make_user("c", Role.CITIZEN))
    assert client.get(f"/queue/{qh.hall.pk}/figures/").status_code == 403


def test_figures_api(qh: QueueHall, client: Client, issue_token: Any) -> None:
    _make(qh, ROWS)
    url = f"/api/v1/queues/halls/{qh.hall.pk}/figures?from=2026-03-02&to=2026-03-02"
    assert client.get(url).status_code == 401
    supervisor = make_user("s", Role.SUPERVISOR)
    response = client.get(url, headers={"Authorization": f"Bearer {issue_token(supervisor)}"})
    assert response.status_code == 200
    body = response.json()
    a = body["categories"][0]
    assert (a["code"], a["taken"], a["served"], a["no_show"], a["waiting_now"]) == ("A", 6, 3, 1, 1)
    assert (a["average_wait_minutes"], a["p90_wait_minutes"],
            a["average_service_minutes"]) == (17.75, 28.0, 11.0)
    assert body["total"]["taken"] == len(ROWS)
    assert body["start"] == body["end"] == "2026-03-02"
    token = issue_token(qh.other_clerk)
    assert client.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 403
    reversed_ = f"/api/v1/queues/halls/{qh.hall.pk}/figures?from=2026-03-05&to=2026-03-02"
    bad = client.get(reversed_, headers={"Authorization": f"Bearer {issue_token(supervisor)}"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["field"] == "to"


def test_inactive_category_without_tickets_is_left_out(qh: QueueHall) -> None:
    ServiceCategory.objects.filter(pk=qh.business.pk).update(active=False)
    rows = selectors.hall_figures(make_user("a", Role.ADMIN), qh.hall, start=DAY, end=DAY)
    assert [r.category for r in rows] == [qh.general, None]
    assert TicketStatus.WAITING == "waiting"
