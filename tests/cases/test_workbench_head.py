"""The department head's overview (``cases:head``) and deciding extensions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.cases.test_workbench_inbox import accepted_case, client_for, open_task
from tongban.accounts.models import User
from tongban.cases.models import Case, Extension, Notice
from tongban.cases.workflows.models import StepTask

pytestmark = pytest.mark.django_db


def request_extension(people: dict[str, User], case: Case, days: int = 3) -> Extension:
    case.refresh_from_db()
    client_for(people["officer"]).post(
        reverse("cases:staff_case_act", args=[case.number]),
        {"op": "extend", "task": open_task(case).pk, "version": case.version,
         "working_days": days, "reason": "需现场核查"})
    return Extension.objects.get(case=case)


def test_head_approves_an_extension_and_the_due_instant_moves(people: dict[str, User]) -> None:
    case = accepted_case(people)
    due_before = case.due_at
    extension = request_extension(people, case)
    head = client_for(people["head"])
    page = head.get(reverse("cases:head")).content.decode()
    assert case.number is not None
    assert "待批准的延期申请" in page and case.number in page and "需现场核查" in page

    case.refresh_from_db()
    response = head.post(reverse("cases:extension_decide", args=[extension.pk]),
                         {"decision": "approve", "note": "同意", "version": case.version},
                         follow=True)
    assert "已批准" in response.content.decode()
    extension.refresh_from_db()
    case.refresh_from_db()
    assert extension.state == Extension.State.APPROVED and extension.decision_note == "同意"
    assert case.extension_working_days == 3 and case.due_at > due_before  # type: ignore[operator]
    assert case.notices.filter(kind=Notice.Kind.EXTENSION).count() == 1
    assert "没有待批准的延期申请" in head.get(reverse("cases:head")).content.decode()


def test_head_refuses_an_extension(people: dict[str, User]) -> None:
    case = accepted_case(people)
    extension = request_extension(people, case)
    client_for(people["head"]).post(reverse("cases:extension_decide", args=[extension.pk]),
                                    {"decision": "reject", "note": "时限充足"})
    extension.refresh_from_db()
    case.refresh_from_db()
    assert extension.state == Extension.State.REJECTED and case.extension_working_days == 0


def test_only_the_department_head_decides(people: dict[str, User]) -> None:
    case = accepted_case(people)
    extension = request_extension(people, case)
    url = reverse("cases:extension_decide", args=[extension.pk])
    assert client_for(people["officer"]).post(url, {"decision": "approve"}).status_code == 403
    assert client_for(people["hr_head"]).post(url, {"decision": "approve"}).status_code == 404
    assert client_for(people["officer"]).get(reverse("cases:head")).status_code == 403
    extension.refresh_from_db()
    assert extension.state == Extension.State.REQUESTED


def test_open_cases_by_deadline_state_and_load_per_officer(people: dict[str, User]) -> None:
    late, fine = accepted_case(people), accepted_case(people)
    Case.objects.filter(pk=late.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    StepTask.objects.filter(case=late).update(assignee=people["officer"],
                                              due_at=timezone.now() - dt.timedelta(hours=1))
    head = client_for(people["head"])
    page = head.get(reverse("cases:head")).content.decode()
    assert late.number is not None and fine.number is not None
    assert late.number in page and fine.number in page
    red = head.get(reverse("cases:head"), {"state": "red"}).content.decode()
    assert late.number in red and fine.number not in red
    # Per-officer load: the officer holds one open step, overdue; one more is unclaimed.
    row = page.split("人员工作量")[1]
    officer_row = row.split("officer（")[1].split("</tr>")[0]
    assert "<td>1</td>" in officer_row and ">1</strong>" in officer_row
    unclaimed_row = row.split("未认领")[1].split("</tr>")[0]
    assert "<td>1</td>" in unclaimed_row
    # Another department's head sees none of it.
    other = client_for(people["hr_head"]).get(reverse("cases:head")).content.decode()
    assert late.number not in other
