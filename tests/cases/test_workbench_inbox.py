"""The workbench inbox (``cases:workbench``): tabs, urgency order, filters, claim, assign."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.cases.conftest import PROXY, TIME_LIMITED
from tongban.accounts.models import User
from tongban.audit.models import AuditRecord
from tongban.cases.models import Case
from tongban.cases.services import ApplicantData
from tongban.cases.workflows.models import StepTask

pytestmark = pytest.mark.django_db


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def applicant(user: User) -> ApplicantData:
    return ApplicantData(kind="natural_person", name=user.real_name, id_number=user.id_number,
                         phone=user.phone)


def accepted_case(people: dict[str, User], code: str = TIME_LIMITED) -> Case:
    """A case of ``code`` applied for online by the citizen, complete and accepted."""
    case: Case = factories.accepted_case(people, code, by="proxy" if code == PROXY else "officer")
    return case


def open_task(case: Case) -> StepTask:
    return StepTask.objects.get(case=case, status="open")


def order_of(content: str, *needles: str) -> list[int]:
    return [content.index(n) for n in needles]


def test_an_unclaimed_step_is_in_the_claim_tab_and_claiming_moves_it_to_mine(
        people: dict[str, User]) -> None:
    case = accepted_case(people)
    officer = client_for(people["officer"])
    mine = officer.get(reverse("cases:workbench"))
    assert case.number is not None
    assert mine.status_code == 200 and case.number not in mine.content.decode()
    unclaimed = officer.get(reverse("cases:workbench"), {"tab": "unclaimed"}).content.decode()
    assert case.number in unclaimed and "审查" in unclaimed and "未认领" in unclaimed

    task = open_task(case)
    response = officer.post(reverse("cases:task_claim", args=[task.pk]),
                            {"next": "/workbench/?tab=mine"})
    assert response.status_code == 302 and response["Location"] == "/workbench/?tab=mine"
    task.refresh_from_db()
    assert task.assignee == people["officer"]
    assert AuditRecord.objects.filter(action="task.claimed", object_id=str(task.pk)).count() == 1
    page = officer.get(reverse("cases:workbench")).content.decode()
    assert case.number in page and "已认领" in page
    # A colleague no longer sees it as claimable.
    other = client_for(people["officer2"]).get(reverse("cases:workbench"), {"tab": "unclaimed"})
    assert case.number not in other.content.decode()


def test_rows_are_sorted_red_yellow_green_with_text_labels(people: dict[str, User]) -> None:
    green, yellow, red = (accepted_case(people) for _ in range(3))
    now = timezone.now()
    for case, due in ((green, now + dt.timedelta(days=30)), (yellow, now + dt.timedelta(hours=2)),
                      (red, now - dt.timedelta(hours=1))):
        StepTask.objects.filter(case=case).update(due_at=due)
    page = client_for(people["officer"]).get(reverse("cases:workbench"),
                                             {"tab": "all"}).content.decode()
    positions = order_of(page, red.number or "", yellow.number or "", green.number or "")
    assert positions == sorted(positions)
    assert page.count("红·超期") >= 1 and "黄·预警" in page and "绿·正常" in page
    # The case's own due instant is shown in Beijing time next to the step's.
    local = green.due_at.astimezone(dt.timezone(dt.timedelta(hours=8)))  # type: ignore[union-attr]
    assert local.strftime("%Y-%m-%d %H:%M") in page

    only_red = client_for(people["officer"]).get(reverse("cases:workbench"),
                                                 {"tab": "all", "state": "red"}).content.decode()
    assert red.number is not None and green.number is not None
    assert red.number in only_red and green.number not in only_red


def test_search_by_number_or_applicant_and_the_id_number_is_masked(
        people: dict[str, User]) -> None:
    first, second = accepted_case(people), accepted_case(people)
    officer = client_for(people["officer"])
    assert first.number is not None and second.number is not None
    page = officer.get(reverse("cases:workbench"), {"tab": "all", "q": first.number}).content.decode()
    assert first.number in page and second.number not in page
    page = officer.get(reverse("cases:workbench"), {"tab": "all", "q": "张三"}).content.decode()
    assert first.number in page and second.number in page
    assert "620102199003077770" not in page and "6201**********7770" in page
    nothing = officer.get(reverse("cases:workbench"), {"tab": "all", "q": "王五"}).content.decode()
    assert "没有符合条件的待办环节" in nothing


def test_head_assigns_and_the_holder_transfers(people: dict[str, User]) -> None:
    case = accepted_case(people)
    task = open_task(case)
    head = client_for(people["head"])
    page = head.get(reverse("cases:workbench"), {"tab": "all"}).content.decode()
    assert case.number is not None
    assert case.number in page and "分派" in page
    head.post(reverse("cases:task_assign", args=[task.pk]), {"to": people["officer"].pk})
    task.refresh_from_db()
    assert task.assignee == people["officer"]

    officer = client_for(people["officer"])
    response = officer.post(reverse("cases:task_assign", args=[task.pk]),
                            {"to": people["officer2"].pk, "reason": "本人出差"}, follow=True)
    task.refresh_from_db()
    assert task.assignee == people["officer2"]
    assert "交给officer2" in response.content.decode()
    record = AuditRecord.objects.filter(action="task.assigned").order_by("pk").last()
    assert record is not None and record.detail["reason"] == "本人出差"


def test_another_department_cannot_claim_or_assign(people: dict[str, User]) -> None:
    case = accepted_case(people)
    task = open_task(case)
    hr = client_for(people["hr_officer"])
    assert case.number is not None
    assert case.number not in hr.get(reverse("cases:workbench"), {"tab": "all"}).content.decode()
    assert hr.post(reverse("cases:task_claim", args=[task.pk])).status_code == 404
    assert hr.post(reverse("cases:task_assign", args=[task.pk]),
                   {"to": people["hr_officer"].pk}).status_code == 404
    task.refresh_from_db()
    assert task.assignee is None
    assert not AuditRecord.objects.filter(action__startswith="task.").exists()


def test_the_public_and_clerks_may_not_open_the_workbench(people: dict[str, User]) -> None:
    assert client_for(people["citizen"]).get(reverse("cases:workbench")).status_code == 403
    assert client_for(people["clerk"]).get(reverse("cases:workbench")).status_code == 403
    anonymous = Client().get(reverse("cases:workbench"))
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]


def test_claiming_needs_post(people: dict[str, User], **_: Any) -> None:
    task = open_task(accepted_case(people))
    response = client_for(people["officer"]).get(reverse("cases:task_claim", args=[task.pk]))
    assert response.status_code == 405
