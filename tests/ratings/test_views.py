"""The rating pages: the citizen's form, the window's QR page and tablet form, the tickets,
the appeal queue and the public monthly report."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.ratings.conftest import completed_case
from tongban.accounts.models import User
from tongban.cases.models import Case
from tongban.ratings import services
from tongban.ratings.models import Rating, RectificationTicket

pytestmark = pytest.mark.django_db

ONLINE_POST = {"level": "2", "ind_efficiency": "2", "ind_guide_accuracy": "1",
               "ind_convenience": "2", "ind_usability": "3",
               "tags": ["materials_beyond_guide"], "text": "要求额外提供房产证明"}
ON_SITE_POST = {"level": "1", "ind_service_efficiency": "1", "ind_service_level": "2",
                "ind_service_attitude": "1", "tags": ["poor_attitude"], "text": ""}


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_citizen_rates_from_the_case_page(people: dict[str, User], done: Case) -> None:
    client = client_for(people["citizen"])
    response = client.get(f"/ratings/case/{done.number}/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("总体评价", "办事效率", "办事指南精确度", "办事便捷度", "平台操作性",
                 "需提供办事指南之外的申报材料", "<legend>"):
        assert text in html
    # Missing indicator: 422 naming it, nothing saved.
    response = client.post(f"/ratings/case/{done.number}/",
                           {**ONLINE_POST, "ind_usability": ""})
    assert response.status_code == 422 and "平台操作性" in response.content.decode()
    assert not Rating.objects.exists()
    response = client.post(f"/ratings/case/{done.number}/", ONLINE_POST)
    assert response.status_code == 302
    rating = Rating.objects.get()
    assert rating.level == 2 and rating.indicators["guide_accuracy"] == 1
    assert [t.code for t in rating.tags.all()] == ["materials_beyond_guide"]
    page = client.get(f"/ratings/case/{done.number}/").content.decode()
    assert "您的评价" in page and "不满意" in page and "差评整改情况" in page


def test_others_and_staff_cannot_use_the_case_page(people: dict[str, User], done: Case) -> None:
    assert client_for(people["other"]).get(f"/ratings/case/{done.number}/").status_code == 404
    assert client_for(people["officer"]).post(f"/ratings/case/{done.number}/",
                                              ONLINE_POST).status_code == 404
    assert not Rating.objects.exists()


def test_window_page_shows_qr_and_the_tablet_form_rates(people: dict[str, User], done: Case) -> None:
    clerk = client_for(people["clerk"])
    page = clerk.get("/ratings/window/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "data:image/svg+xml" in html and "服务效率" in html and "服务态度" in html
    token = services.visit_token(done.visit_records.get())
    visit_url = f"/ratings/visit/{token}/"
    # The person served rates on the clerk's tablet: the rating is theirs, marked as made on
    # the window's device.
    response = clerk.post(visit_url, ON_SITE_POST)
    assert response.status_code == 200 and "感谢您的评价" in response.content.decode()
    rating = Rating.objects.get()
    assert rating.channel == "on_site" and rating.rater == people["citizen"]
    assert rating.on_staff_device and rating.ticket is not None
    assert "这次服务已经评价过" in Client().get(visit_url).content.decode()
    assert "暂无待评价" in clerk.get("/ratings/window/").content.decode()


def test_visit_page_by_qr_code_without_login(people: dict[str, User], done: Case) -> None:
    token = services.visit_token(done.visit_records.get())
    response = Client().post(f"/ratings/visit/{token}/", {**ON_SITE_POST, "level": "5",
                                                          "tags": []})
    assert response.status_code == 200
    rating = Rating.objects.get()
    assert rating.level == 5 and not rating.on_staff_device
    assert Client().get("/ratings/visit/1:forged:token/").status_code == 410


def test_ticket_pages_and_masking(overseers: dict[str, User], done: Case) -> None:
    rating = services.rating_submit(actor=overseers["citizen"], case=done, level=1,
                                    indicators={"efficiency": 1, "guide_accuracy": 1,
                                                "convenience": 1, "usability": 1},
                                    tags=["overdue_without_reason"])
    ticket = rating.ticket
    officer = client_for(overseers["officer"])
    listing = officer.get("/ratings/tickets/").content.decode()
    assert done.number is not None
    assert f"#{ticket.pk}" in listing and done.number in listing
    page = officer.get(f"/ratings/tickets/{ticket.pk}/").content.decode()
    assert "张三" in page and "13893100001" in page and "整改或说明" in page
    # Bad input names the field; nothing changes.
    response = officer.post(f"/ratings/tickets/{ticket.pk}/", {
        "action": "respond", "version": ticket.version, "respond-response": "ledger",
        "respond-text": "建立台账"})
    assert response.status_code == 422 and "建立台账须填写整改期限" in response.content.decode()
    assert RectificationTicket.objects.get().state == "open"
    response = officer.post(f"/ratings/tickets/{ticket.pk}/", {
        "action": "respond", "version": ticket.version, "respond-response": "fix_now",
        "respond-text": "已整改"})
    assert response.status_code == 302
    assert RectificationTicket.objects.get().state == "responded"
    # Another department: 404. The clerk who handled it sees it, with the rater masked?
    # No: the handler acts on the ticket, so the clerk sees the rater in full.
    assert client_for(overseers["hr_officer"]).get(f"/ratings/tickets/{ticket.pk}/").status_code == 404
    assert "张三" in client_for(overseers["clerk"]).get(f"/ratings/tickets/{ticket.pk}/").content.decode()


def test_supervisor_appeal_queue(overseers: dict[str, User], done: Case) -> None:
    rating = services.rating_submit(actor=overseers["citizen"], case=done, level=1,
                                    indicators={"efficiency": 1, "guide_accuracy": 1,
                                                "convenience": 1, "usability": 1},
                                    text="乱评")
    services.ticket_appeal(actor=overseers["officer"], ticket=rating.ticket, reason="恶意评价")
    supervisor = client_for(overseers["supervisor"])
    queue = supervisor.get("/ratings/appeals/").content.decode()
    assert "恶意评价" in queue
    ticket = RectificationTicket.objects.get()
    response = supervisor.post(f"/ratings/tickets/{ticket.pk}/", {
        "action": "decide", "version": ticket.version, "decide-accept": "accept",
        "decide-note": "查实"})
    assert response.status_code == 302
    assert Rating.objects.get().excluded
    assert client_for(overseers["officer"]).get("/ratings/appeals/").status_code == 403


def _month() -> tuple[int, int]:
    today = timezone.localdate()
    return today.year, today.month


def test_public_report_has_no_rater_data(people: dict[str, User], done: Case) -> None:
    services.rating_submit(actor=people["citizen"], case=done, level=2,
                           indicators={"efficiency": 2, "guide_accuracy": 2,
                                       "convenience": 2, "usability": 2},
                           tags=["materials_beyond_guide"], text="需要额外材料")
    other = completed_case(people, "other")
    services.rating_submit(actor=people["other"], case=other, level=5,
                           indicators={"efficiency": 5, "guide_accuracy": 5,
                                       "convenience": 5, "usability": 5})
    year, month = _month()
    anonymous = Client()
    page = anonymous.get(f"/ratings/report/{year}-{month:02d}/")
    csv_text = anonymous.get(f"/ratings/report/{year}-{month:02d}.csv").content.decode("utf-8-sig")
    data = anonymous.get(f"/ratings/report/{year}-{month:02d}.json").json()
    html = page.content.decode()
    assert page.status_code == 200 and "平均得分（10分制）" in html and "× 2" in html
    assert data["ratings"]["total"] == 2 and data["ratings"]["avg_score_10"] == 7.0
    assert data["ratings"]["by_channel_and_level"]["online"] == {
        "5": 1, "4": 0, "3": 0, "2": 1, "1": 0}
    assert data["cases"]["total"] == 2 and data["rectification"]["bad_reviews"] == 1
    assert data["top_tags"] == [{"tag": "需提供办事指南之外的申报材料", "count": 1}]
    assert data["departments"][0]["ratings"] == 2
    everything = html + csv_text + json.dumps(data, ensure_ascii=False)
    for secret in ("张三", "李四", "620102199003077770", "620102199003070018", "13893100001",
                   "需要额外材料", "zhangsan", "lisi", "张*"):
        assert secret not in everything
    index = anonymous.get("/ratings/report/").content.decode()
    assert f"/ratings/report/{year}-{month}/" in index or f"/ratings/report/{year}-{month:02d}/" in index


def test_report_api_is_public(people: dict[str, User], done: Case) -> None:
    year, month = _month()
    response = Client().get(f"/api/v1/ratings/reports/{year}-{month}")
    assert response.status_code == 200 and response.json()["month"] == f"{year}-{month:02d}"
    assert Client().get("/api/v1/ratings/reports/2026-13").status_code == 404


def test_rating_link_in_case_page_absent_for_staff(people: dict[str, User], done: Case,
                                                   settings: Any) -> None:
    assert client_for(people["clerk"]).get("/ratings/window/?window=").status_code == 200
    assert client_for(people["citizen"]).get("/ratings/window/").status_code == 403


def test_case_page_links_to_the_rating(people: dict[str, User], done: Case) -> None:
    client = client_for(people["citizen"])
    html = client.get(reverse("cases:my_case", args=[done.number])).content.decode()
    assert "评价本次办事" in html and f"/ratings/case/{done.number}/" in html
    client.post(f"/ratings/case/{done.number}/", {**ONLINE_POST, "level": "5", "tags": []})
    html = client.get(reverse("cases:my_case", args=[done.number])).content.decode()
    assert "您已评价：非常满意" in html
