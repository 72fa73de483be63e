"""Queue pages: taking a ticket, following it, the window page, the hall screen."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import make_user
from tests.queues.conftest import QueueHall
from tongban.accounts.models import Role
from tongban.queues import services
from tongban.queues.models import Ticket, TicketStatus


def test_take_page_lists_categories_with_waiting_and_estimate(qh: QueueHall, client: Client) -> None:
    services.ticket_take(hall=qh.hall, category=qh.general)
    html = client.get(f"/queue/{qh.hall.pk}/take/").content.decode()
    assert "综合受理" in html and "企业开办" in html
    # One waiting in A, served by two comprehensive windows, 5 minutes each: ⌈1 × 5 ÷ 2⌉ = 3.
    assert "等候 1 人 · 预计等候约 3 分钟" in html
    assert "等候 0 人 · 预计等候约 0 分钟" in html


def test_taking_a_ticket_leads_to_its_page(qh: QueueHall, client: Client) -> None:
    services.ticket_take(hall=qh.hall, category=qh.business)
    response = client.post(f"/queue/{qh.hall.pk}/take/", {"category": qh.business.pk, "phone": "13812345678"})
    ticket = Ticket.objects.get(number="B002")
    assert response.status_code == 302
    assert response["Location"] == f"/queue/ticket/{ticket.token}/"
    html = client.get(response["Location"]).content.decode()
    assert "B002" in html and "138****5678" in html and "13812345678" not in html
    assert 'hx-trigger="every 5s"' in html
    fragment = client.get(f"/queue/ticket/{ticket.token}/status/").content.decode()
    assert "<dt>前面还有</dt><dd>1 人</dd>" in fragment
    services.ticket_call_next(actor=qh.clerk, window=qh.market)
    services.ticket_call_next(actor=qh.clerk2, window=qh.comprehensive)
    fragment = client.get(f"/queue/ticket/{ticket.token}/status/").content.decode()
    assert "已叫号" in fragment and "1 号窗口" in fragment


def test_taking_with_a_bad_phone_names_the_field(qh: QueueHall, client: Client) -> None:
    response = client.post(f"/queue/{qh.hall.pk}/take/", {"category": qh.general.pk, "phone": "123"})
    assert response.status_code == 422
    assert "手机号码：手机号码应为 11 位数字，以 1 开头" in response.content.decode()
    response = client.post(f"/queue/{qh.hall.pk}/take/", {"phone": ""})
    assert "请选择业务类别" in response.content.decode()
    assert Ticket.objects.count() == 0


def test_an_unknown_ticket_is_404(client: Client, db: None) -> None:
    assert client.get("/queue/ticket/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_cancel_from_the_ticket_page(qh: QueueHall, client: Client) -> None:
    t = services.ticket_take(hall=qh.hall, category=qh.general)
    client.post(f"/queue/ticket/{t.token}/cancel/")
    assert Ticket.objects.get(pk=t.pk).status == TicketStatus.CANCELLED


def test_window_page_flow(qh: QueueHall, client: Client) -> None:
    t = services.ticket_take(hall=qh.hall, category=qh.general)
    client.force_login(qh.clerk)
    page = client.get("/queue/window/").content.decode()
    assert "叫号：选择您所在的窗口" in page
    client.post("/queue/window/", {"action": "choose", "window": qh.comprehensive.pk})
    page = client.get("/queue/window/").content.decode()
    assert "叫号 · 1 号窗口（综合受理窗口）" in page and "叫下一位" in page
    client.post("/queue/window/", {"action": "call_next"})
    t.refresh_from_db()
    assert (t.status, t.window, t.clerk) == (TicketStatus.CALLED, qh.comprehensive, qh.clerk)
    page = client.get("/queue/window/").content.decode()
    assert "A001" in page and "重呼" in page and "开始办理" in page and "未到" in page
    for action, status in (("recall", TicketStatus.CALLED), ("start", TicketStatus.SERVING),
                           ("finish", TicketStatus.DONE)):
        client.post("/queue/window/", {"action": action, "ticket": t.pk})
        t.refresh_from_db()
        assert t.status == status
    assert t.call_count == 2
    response = client.post("/queue/window/", {"action": "call_next"}, follow=True)
    assert "当前没有等候的号码" in response.content.decode()


def test_window_page_refusals_show_a_message_and_change_nothing(qh: QueueHall, client: Client) -> None:
    t = services.ticket_take(hall=qh.hall, category=qh.general)
    client.force_login(qh.clerk)
    # A window of another hall cannot be chosen.
    client.post("/queue/window/", {"action": "choose", "window": qh.other_window.pk})
    assert "queues_window_id" not in client.session
    client.post("/queue/window/", {"action": "choose", "window": qh.market.pk})
    response = client.post("/queue/window/", {"action": "start", "ticket": t.pk}, follow=True)
    assert "本窗口没有这个号码" in response.content.decode()
    assert Ticket.objects.get(pk=t.pk).status == TicketStatus.WAITING


@pytest.mark.parametrize("role", [Role.CITIZEN, Role.OFFICER, Role.SUPERVISOR])
def test_window_page_is_for_hall_staff(qh: QueueHall, client: Client, role: str) -> None:
    client.force_login(make_user("someone", role))
    assert client.get("/queue/window/").status_code == 403


def test_window_page_needs_a_login(client: Client, db: None) -> None:
    assert client.get("/queue/window/")["Location"].startswith("/accounts/login/")


def test_display_and_its_fragment(qh: QueueHall, client: Client) -> None:
    services.ticket_take(hall=qh.hall, category=qh.general)
    services.ticket_take(hall=qh.hall, category=qh.business)
    services.ticket_call_next(actor=qh.clerk, window=qh.market)
    page = client.get(f"/queue/{qh.hall.pk}/display/").content.decode()
    assert f'hx-get="/queue/{qh.hall.pk}/display/board/"' in page and 'hx-trigger="every 3s"' in page
    board = client.get(f"/queue/{qh.hall.pk}/display/board/").content.decode()
    assert "请 B001 号到 3 号窗口" in board
    assert "<html" not in board  # a fragment
    assert "<th scope=\"row\">A 综合受理</th><td>1</td>" in board
    assert client.get("/queue/999999/display/board/").status_code == 404


def test_hall_index_and_board_api(qh: QueueHall, client: Client) -> None:
    html = client.get("/queue/").content.decode()
    assert "测试政务服务中心" in html and f"/queue/{qh.hall.pk}/take/" in html
    services.ticket_take(hall=qh.hall, category=qh.general)
    services.ticket_call_next(actor=qh.clerk, window=qh.comprehensive2)
    body = client.get(f"/api/v1/queues/halls/{qh.hall.pk}/board").json()
    assert body["latest_calls"][0]["number"] == "A001" and body["latest_calls"][0]["window"] == "2"
    assert [c["code"] for c in body["categories"]] == ["A", "B"]
