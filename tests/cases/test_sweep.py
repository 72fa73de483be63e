"""The periodic deadline sweep (yellow warnings, red overdue marks) and the recomputation of
provisional due instants once a year's official schedule is loaded."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command

from tests.cases.conftest import TIME_LIMITED, form, item, pdf
from tests.conftest import Freeze
from tongban.accounts.models import User
from tongban.audit.models import AuditRecord
from tongban.cases import services
from tongban.cases.materials import case_material_add
from tongban.cases.models import Case, Channel, Status
from tongban.cases.notifications.models import Notification
from tongban.cases.notifications.sms import MemorySmsBackend
from tongban.cases.services import ApplicantData, deadlines_sweep
from tongban.cases.workflows.models import StepTask
from tongban.cases.workflows.services import task_claim
from tongban.clock import selectors as clock

pytestmark = pytest.mark.django_db

BJ = dt.timezone(dt.timedelta(hours=8))
DRUG_RETAIL = "11620100051317876B3000100165001"  # 药品零售经营许可（新办）, 10 working days


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0,
         second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=BJ)


@pytest.fixture(autouse=True)
def _messages(settings: Any) -> Any:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_BACKEND = "tongban.cases.notifications.sms.MemorySmsBackend"
    MemorySmsBackend.outbox.clear()
    clock.forget_calendar()
    yield
    clock.forget_calendar()  # a test that loads 2027 must not leave it cached for the next


def accepted_case(people: dict[str, User], code: str, when: dt.datetime,
                  freeze: Freeze) -> Case:
    """An online case submitted and accepted by the officer at ``when``."""
    citizen = people["citizen"]
    freeze(when)
    case = services.case_create(
        actor=citizen, item=item(code), channel=Channel.ONLINE, form_data=form(),
        applicant=ApplicantData(kind="natural_person", name=citizen.real_name,
                                id_number=citizen.id_number, phone=citizen.phone))
    for m in case.item_version.materials.all():
        case_material_add(actor=citizen, case=case, material=m, name=m.name, upload=pdf(),
                          original_name="a.pdf")
    services.case_submit(actor=citizen, case=case)
    services.case_accept(actor=people["officer"], case=case)
    case.refresh_from_db()
    return case


@pytest.fixture
def sweep(django_capture_on_commit_callbacks: Any) -> Any:
    """Run the sweep as the worker does: its messages are sent once its transaction commits."""

    def run(now: dt.datetime) -> dict[str, int]:
        with django_capture_on_commit_callbacks(execute=True):
            return deadlines_sweep(now=now)

    return run


def states(case: Case) -> tuple[str, list[tuple[str, str]]]:
    case.refresh_from_db()
    return case.deadline_state, list(case.tasks.filter(status="open").values_list(
        "step_key", "deadline_state"))


def inbox(user: User) -> list[str]:
    return list(Notification.objects.filter(recipient=user).order_by("pk")
                .values_list("subject", flat=True))


def test_a_step_goes_red_on_its_own_limit_while_the_case_is_in_time(
    people: dict[str, User], freeze: Freeze, sweep: Any
) -> None:
    officer, officer2, head = people["officer"], people["officer2"], people["head"]
    User.objects.filter(pk=head.pk).update(email="head@lz.gov.cn", phone="13893100009")
    # 食品经营许可: 3 working days (due Thursday at close); the review step has 60 % of them,
    # 1.8 working days of 7 h counted from the acceptance instant.
    case = accepted_case(people, TIME_LIMITED, at(2026, 3, 2, 9, 0), freeze)
    review = StepTask.objects.get(case=case, status="open")
    task_claim(actor=officer, task=review)
    assert case.due_at == at(2026, 3, 5, 17, 30)
    assert review.due_at == at(2026, 3, 3, 16, 6)
    n = case.number

    assert sweep(at(2026, 3, 2, 10, 0)) == {"cases": 0, "tasks": 0}
    assert states(case) == ("green", [("review", "green")])

    # Tuesday 16:30: the review step is past its own limit; the case has 15 h left (> 1 day).
    assert sweep(at(2026, 3, 3, 16, 30)) == {"cases": 0, "tasks": 1}
    assert states(case) == ("green", [("review", "red")])
    assert inbox(officer) == [f"环节超期：审查（{n}）"]
    assert inbox(head) == [f"环节超期：审查（{n}）"]
    assert inbox(officer2) == []  # the step is the officer's; colleagues are not bothered
    assert [m.to for m in mail.outbox] == [["head@lz.gov.cn"]]
    assert [phone for phone, _text in MemorySmsBackend.outbox] == ["13893100009"]
    assert MemorySmsBackend.outbox[0][1] == (
        f"办件{n}（食品经营许可（新办））的“审查”环节已超过环节时限（2026-03-03 16:06），请尽快办理。")

    # The next sweep finds nothing new and sends nothing again.
    assert sweep(at(2026, 3, 3, 16, 40)) == {"cases": 0, "tasks": 0}
    assert len(inbox(head)) == 1

    # Thursday 10:00: 6 h of the case's 21 h are left, more than a fifth (4 h 12 min): green.
    assert sweep(at(2026, 3, 5, 10, 0)) == {"cases": 0, "tasks": 0}
    # Thursday 14:00: 3 h 30 min are left, at most a fifth of the limit: yellow.
    assert sweep(at(2026, 3, 5, 14, 0)) == {"cases": 1, "tasks": 0}
    assert states(case) == ("yellow", [("review", "red")])
    assert inbox(head)[-1] == f"办件预警：{n}"
    assert inbox(officer)[-1] == f"办件预警：{n}"

    assert sweep(at(2026, 3, 5, 17, 31)) == {"cases": 1, "tasks": 0}
    assert states(case) == ("red", [("review", "red")])
    assert inbox(head)[-1] == f"办件超期：{n}"
    assert Notification.objects.filter(kind="overdue", case=case).count() == 4
    assert Case.objects.get(pk=case.pk).status == Status.ACCEPTED  # marks, not transitions


def test_an_unassigned_step_warns_everyone_who_may_claim_it_in_their_inbox_only(
    people: dict[str, User], freeze: Freeze, sweep: Any
) -> None:
    User.objects.filter(pk=people["officer2"].pk).update(email="o2@lz.gov.cn", phone="13893100008")
    case = accepted_case(people, TIME_LIMITED, at(2026, 3, 2, 9, 0), freeze)
    sweep(at(2026, 3, 3, 15, 0))  # 1 h 6 min left for the review step
    assert states(case) == ("green", [("review", "yellow")])
    subject = f"环节预警：审查（{case.number}）"
    assert inbox(people["officer"]) == inbox(people["officer2"]) == inbox(people["head"]) == [subject]
    assert mail.outbox == [] and MemorySmsBackend.outbox == []  # the head has no email or phone


def test_a_suspended_case_is_left_as_it_is(
    people: dict[str, User], freeze: Freeze, sweep: Any
) -> None:
    case = accepted_case(people, TIME_LIMITED, at(2026, 3, 2, 9, 0), freeze)
    review = StepTask.objects.get(case=case, status="open")
    services.case_suspend(actor=people["officer"], task=review, procedure="inspection",
                          reason="需现场核查", expected_working_days=5)
    # Long after the original due instant: the clock is stopped, nothing turns red.
    assert sweep(at(2026, 3, 20, 10, 0)) == {"cases": 0, "tasks": 0}
    assert states(case) == ("green", [("review", "green")])
    assert not Notification.objects.filter(kind__in=["warning", "overdue"]).exists()


def test_an_extension_turns_a_warning_back_to_green_without_a_message(
    people: dict[str, User], freeze: Freeze, sweep: Any
) -> None:
    case = accepted_case(people, TIME_LIMITED, at(2026, 3, 2, 9, 0), freeze)
    review = StepTask.objects.get(case=case, status="open")
    task_claim(actor=people["officer"], task=review)
    sweep(at(2026, 3, 5, 14, 0))
    assert states(case) == ("yellow", [("review", "red")])
    warned = list(Notification.objects.values_list("pk", flat=True))
    assert len(warned) == 4  # the officer and the head, for the step and for the case
    freeze(at(2026, 3, 5, 14, 0))
    extension = services.case_request_extension(actor=people["officer"], task=review,
                                                working_days=5, reason="需专家评审")
    services.case_decide_extension(actor=people["head"], extension=extension, approve=True)
    case.refresh_from_db()
    assert case.due_at == at(2026, 3, 12, 17, 30)
    assert sweep(at(2026, 3, 5, 14, 5)) == {"cases": 1, "tasks": 0}
    assert states(case) == ("green", [("review", "red")])
    assert list(Notification.objects.values_list("pk", flat=True)) == warned


CSV_2027 = """date,kind,name
2027-01-01,holiday,元旦
2027-01-04,holiday,元旦
2027-02-05,holiday,春节
2027-02-06,holiday,春节
2027-02-07,holiday,春节
2027-02-08,holiday,春节
"""


def test_loading_next_years_schedule_recomputes_provisional_due_instants_of_cases_and_steps(
    people: dict[str, User], freeze: Freeze, tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # Accepted on Monday 28 December 2026 with 10 working days: the due instant lies in 2027,
    # whose official schedule is not published yet, so it is computed on weekends and the
    # statutory New Year's Day alone and marked provisional.
    case = accepted_case(people, DRUG_RETAIL, at(2026, 12, 28, 10, 0), freeze)
    assert (case.due_at, case.due_provisional) == (at(2027, 1, 12, 17, 30), True)
    version = case.version
    # Its open step (the review, five working days of business time from 10:00) likewise.
    step = StepTask.objects.get(case=case, status="open")
    assert (step.step_key, step.due_at) == ("review", at(2027, 1, 6, 10, 0))

    path = tmp_path / "2027.csv"
    path.write_text(CSV_2027, encoding="utf-8")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_calendar", str(path), verbosity=0)

    # The official schedule adds Monday 4 January: the case is due one working day later.
    case.refresh_from_db()
    assert (case.due_at, case.due_provisional) == (at(2027, 1, 13, 17, 30), False)
    assert case.version == version  # not a transition: no version bump, no event
    assert list(case.events.values_list("action", flat=True)) == ["create", "submit", "accept"]
    record = AuditRecord.objects.get(action="case.deadlines_recomputed")
    step.refresh_from_db()
    assert step.due_at == at(2027, 1, 7, 10, 0)  # the open step moves with it
    assert (record.object_id, record.detail) == ("2027", {
        "checked": 1, "changed": [case.number], "steps_changed": [f"{case.number}:review"]})
