"""The admin edits a hall's categories through ``category_save``; tickets are read-only."""

from __future__ import annotations

from django.test import Client

from tests.conftest import make_user
from tests.queues.conftest import QueueHall
from tongban.accounts.models import Role
from tongban.audit.models import AuditRecord
from tongban.queues import services
from tongban.queues.models import ServiceCategory


def test_admin_adds_a_category_and_sees_problems_by_field(qh: QueueHall, client: Client) -> None:
    client.force_login(make_user("bureau-admin", Role.ADMIN, is_staff=True))
    url = "/admin/queues/servicecategory/add/"
    bad = client.post(url, {"hall": qh.hall.pk, "code": "A", "name": "重复", "position": 0})
    assert bad.status_code == 200
    assert "本大厅已有字母代码为 A 的类别" in bad.content.decode()
    response = client.post(url, {"hall": qh.hall.pk, "code": "C", "name": "社保医保", "position": 2,
                                 "departments": [qh.market_bureau.pk], "commitments": ["same_day"],
                                 "active": "on"})
    assert response.status_code == 302
    c = ServiceCategory.objects.get(hall=qh.hall, code="C")
    assert (c.name, c.commitments) == ("社保医保", ["same_day"])
    assert list(c.departments.all()) == [qh.market_bureau]
    assert AuditRecord.objects.filter(action="queue_category.created", object_id=str(c.pk)).count() == 1


def test_ticket_admin_is_read_only_and_masks_the_phone(qh: QueueHall, client: Client) -> None:
    services.ticket_take(hall=qh.hall, category=qh.general, phone="13812345678")
    client.force_login(make_user("bureau-admin", Role.ADMIN, is_staff=True))
    html = client.get("/admin/queues/ticket/").content.decode()
    assert "138****5678" in html and "13812345678" not in html
    assert client.get("/admin/queues/ticket/add/").status_code == 403
