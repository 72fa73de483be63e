"""Who hears about what, on which channel, and never twice."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.core import mail
from django.utils import translation

from tests.cases.conftest import TIME_LIMITED, form, item, pdf
from tongban.accounts.models import User
from tongban.cases import services
from tongban.cases.materials import case_material_add
from tongban.cases.models import Case, CaseEvent, Channel
from tongban.cases.notifications.models import Notification
from tongban.cases.notifications.services import notify_case_event, notify_deadline
from tongban.cases.notifications.sms import LogSmsBackend, MemorySmsBackend
from tongban.cases.services import ApplicantData
from tongban.cases.workflows.models import StepTask
from tongban.cases.workflows.services import task_assign

pytestmark = pytest.mark.django_db


def new_case(actor: User, applicant: ApplicantData) -> Case:
    case = services.case_create(actor=actor, item=item(TIME_LIMITED), channel=Channel.ONLINE,
                                applicant=applicant, form_data=form())
    for m in case.item_version.materials.all():
        case_material_add(actor=actor, case=case, material=m, name=m.name, upload=pdf(),
                          original_name="a.pdf")
    return case


def own(user: User) -> ApplicantData:
    return ApplicantData(kind="natural_person", name=user.real_name, id_number=user.id_number,
                         phone=user.phone)


def subjects(user: User) -> list[str]:
    return list(Notification.objects.filter(recipient=user).order_by("pk")
                .values_list("subject", flat=True))


def test_the_applicant_hears_of_each_step_in_app_by_email_and_by_sms(
    people: dict[str, User], django_capture_on_commit_callbacks: Any
) -> None:
    citizen, officer, head = people["citizen"], people["officer"], people["head"]
    User.objects.filter(pk=citizen.pk).update(email="zhangsan@example.cn")
    citizen.refresh_from_db()
    case = new_case(citizen, own(citizen))
    with django_capture_on_commit_callbacks(execute=True):
        services.case_submit(actor=citizen, case=case)
    with django_capture_on_commit_callbacks(execute=True):
        services.case_accept(actor=officer, case=case)
    with django_capture_on_commit_callbacks(execute=True):
        services.case_step(actor=officer, task=StepTask.objects.get(case=case, status="open"),
                           action="approve")
    with django_capture_on_commit_callbacks(execute=True):
        services.case_step(actor=head, task=StepTask.objects.get(case=case, status="open"),
                           action="approve", reason="符合条件")
    with django_capture_on_commit_callbacks(execute=True):
        services.case_deliver(actor=officer, case=case, delivery="online")
    case.refresh_from_db()

    expected = ["您的申请已提交", "您的申请已受理", "您的办件已办结（准予）", "办理结果已送达"]
    assert subjects(citizen) == expected
    assert [m.subject for m in mail.outbox if m.to == ["zhangsan@example.cn"]] == expected
    assert [phone for phone, _t in MemorySmsBackend.outbox] == ["13893100001"] * 4
    assert MemorySmsBackend.outbox[2][1] == (
        f"您的办件已办结（准予）。办件编号：{case.number}，事项：食品经营许可（新办）。说明：符合条件")
    # A step reviewed by the officer is no news for the applicant.
    assert Notification.objects.filter(recipient=citizen, kind="case").count() == 4


def test_running_the_task_again_sends_nothing_twice(
    people: dict[str, User], django_capture_on_commit_callbacks: Any
) -> None:
    citizen = people["citizen"]
    case = new_case(citizen, own(citizen))
    with django_capture_on_commit_callbacks(execute=True):
        services.case_submit(actor=citizen, case=case)
    event = CaseEvent.objects.get(case=case, action="submit")
    assert notify_case_event(event.pk) == 0
    assert notify_case_event(999999) == 0  # an event that does not exist (any more)
    assert subjects(citizen) == ["您的申请已提交"]
    assert len(MemorySmsBackend.outbox) == 1


def test_a_walk_in_without_an_account_gets_sms_on_the_phone_given_at_the_window(
    people: dict[str, User], django_capture_on_commit_callbacks: Any
) -> None:
    walk_in = ApplicantData(kind="natural_person", name="王五", id_number="620102199003070018",
                            phone="13993100002")
    case = new_case(people["clerk"], walk_in)
    with django_capture_on_commit_callbacks(execute=True):
        services.case_submit(actor=people["clerk"], case=case)
    case.refresh_from_db()
    event = CaseEvent.objects.get(case=case, action="submit")
    assert MemorySmsBackend.outbox == [
        ("13993100002", f"您的申请已提交。办件编号：{case.number}，事项：食品经营许可（新办）。")]
    assert list(Notification.objects.filter(recipient=None).values_list("case_id", "subject")) == [
        (case.pk, "您的申请已提交")]
    assert notify_case_event(event.pk) == 0
    assert len(MemorySmsBackend.outbox) == 1


def test_a_new_step_shows_in_the_inbox_of_everyone_who_may_claim_it(
    people: dict[str, User], django_capture_on_commit_callbacks: Any
) -> None:
    citizen, officer, officer2 = people["citizen"], people["officer"], people["officer2"]
    User.objects.filter(pk=officer2.pk).update(email="o2@lz.gov.cn", phone="13893100008")
    case = new_case(citizen, own(citizen))
    services.case_submit(actor=citizen, case=case)
    with django_capture_on_commit_callbacks(execute=True):
        services.case_accept(actor=officer, case=case)
    assert subjects(officer) == subjects(officer2) == ["新的待办：审查"]
    assert subjects(people["head"]) == []  # the head's step opens later
    assert subjects(people["hr_officer"]) == []  # another department
    # The pool is told in the inbox only; nobody is emailed or texted for a step not theirs yet.
    assert [m.to for m in mail.outbox] == []
    assert [p for p, _t in MemorySmsBackend.outbox] == ["13893100001"]  # the applicant's

    review = StepTask.objects.get(case=case, status="open")
    with django_capture_on_commit_callbacks(execute=True):
        task_assign(actor=people["head"], task=review, to=officer2, reason="熟悉该类业务")
    assert subjects(officer2) == ["新的待办：审查", "分派给您的待办：审查"]
    assert [(m.to, m.subject) for m in mail.outbox] == [(["o2@lz.gov.cn"], "分派给您的待办：审查")]
    assert "请于" in mail.outbox[0].body


def test_a_deadline_message_is_not_sent_once_the_state_moved_on(
    people: dict[str, User]
) -> None:
    citizen = people["citizen"]
    case = new_case(citizen, own(citizen))
    services.case_submit(actor=citizen, case=case)
    services.case_accept(actor=people["officer"], case=case)
    case.refresh_from_db()
    assert case.deadline_state == "green"
    assert notify_deadline("case", case.pk, "yellow") == 0
    Case.objects.filter(pk=case.pk).update(deadline_state="yellow")
    assert notify_deadline("case", case.pk, "yellow") == 3  # officer, officer2 (pool), head
    assert notify_deadline("case", case.pk, "yellow") == 0
    with pytest.raises(ValueError):
        notify_deadline("window", case.pk, "yellow")


def test_messages_are_written_in_the_platforms_language(
    people: dict[str, User], django_capture_on_commit_callbacks: Any
) -> None:
    citizen = people["citizen"]
    case = new_case(citizen, own(citizen))
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        services.case_submit(actor=citizen, case=case)
    assert subjects(citizen) == ["您的申请已提交"]


def test_the_log_backend_masks_the_phone_number(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="tongban.cases.notifications.sms"):
        LogSmsBackend().send("13893100001", "您的申请已受理")
    assert caplog.messages == ["SMS to 138****0001: 您的申请已受理"]
    assert "13893100001" not in caplog.text


def test_a_failing_sms_gateway_keeps_the_message_and_logs_the_phone_masked(
    people: dict[str, User], settings: Any, caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.SMS_BACKEND = "tests.cases.notifications.test_services.BrokenGateway"
    citizen = people["citizen"]
    case = new_case(citizen, own(citizen))
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        services.case_submit(actor=citizen, case=case)
    assert subjects(citizen) == ["您的申请已提交"]
    assert "SMS to 138****0001 failed" in caplog.messages
    assert "13893100001" not in caplog.text


class BrokenGateway:
    def send(self, phone: str, text: str) -> None:
        raise ConnectionError("gateway down")


def test_the_head_is_asked_to_decide_an_extension(
    people: dict[str, User], django_capture_on_commit_callbacks: Any
) -> None:
    citizen, officer, head = people["citizen"], people["officer"], people["head"]
    case = new_case(citizen, own(citizen))
    services.case_submit(actor=citizen, case=case)
    services.case_accept(actor=officer, case=case)
    review = StepTask.objects.get(case=case, status="open")
    with django_capture_on_commit_callbacks(execute=True):
        services.case_request_extension(actor=officer, task=review, working_days=3,
                                        reason="需补充现场核查")
    message = Notification.objects.get(recipient=head, subject="延期申请待您批准")
    assert "3个工作日" in message.body and "需补充现场核查" in message.body
    assert not Notification.objects.filter(recipient=people["hr_head"]).exists()
    event = CaseEvent.objects.get(case=case, action="request_extension")
    assert notify_case_event(event.pk) == 0  # never twice
