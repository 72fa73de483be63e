"""The supervision sweep's triggers, idempotency, escalation, and answering records."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tests.cases.conftest import ON_THE_SPOT, PROXY, SAME_DAY, TIME_LIMITED, ApiClient, form, item, pdf
from tests.conftest import Freeze
from tongban.accounts.models import User
from tongban.accounts.permissions import SYSTEM
from tongban.audit.models import AuditRecord
from tongban.cases import services as cases
from tongban.cases.materials import case_material_add
from tongban.cases.models import Case, Channel
from tongban.cases.notifications.models import Notification
from tongban.cases.selectors import case_deadline_state
from tongban.cases.services import ApplicantData, deadlines_sweep
from tongban.cases.workflows.models import StepTask
from tongban.clock import selectors as clock
from tongban.clock.calendar import OfficeHours
from tongban.clock.selectors import case_limit_seconds
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.organizations.models import Department
from tongban.supervision import services
from tongban.supervision.models import Kind, State, SupervisionRecord

pytestmark = pytest.mark.django_db

BJ = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2026, 3, 2, 10, 0, tzinfo=BJ)  # a Monday morning


@pytest.fixture(autouse=True)
def _fresh_calendar() -> Any:
    clock.forget_calendar()
    yield
    clock.forget_calendar()


@pytest.fixture
def sweep(django_capture_on_commit_callbacks: Any) -> Any:
    """Run the sweep as the worker does: escalations go out when its transactions commit."""

    def run(now: dt.datetime, case_ids: list[int] | None = None) -> dict[str, int]:
        with django_capture_on_commit_callbacks(execute=True):
            return services.supervision_sweep(now=now, case_ids=case_ids)

    return run


def applicant(user: User) -> ApplicantData:
    return ApplicantData(kind="natural_person", name=user.real_name, id_number=user.id_number,
                         phone=user.phone)


def submitted(people: dict[str, User], code: str, *, actor: str = "citizen",
              channel: str = Channel.ONLINE) -> Case:
    user = people[actor]
    who = applicant(people["citizen"]) if actor == "citizen" else ApplicantData(
        kind="natural_person", name="王五", id_number="620102199003070018")
    case = cases.case_create(actor=user, item=item(code), channel=channel, applicant=who,
                             form_data=form())
    for m in case.item_version.materials.all():
        case_material_add(actor=user, case=case, material=m, name=m.name, upload=pdf(),
                          original_name="a.pdf")
    cases.case_submit(actor=user, case=case)
    return case


def accepted(people: dict[str, User], code: str, freeze: Freeze,
             receiver: str = "officer") -> Case:
    freeze(START)
    case = submitted(people, code)
    cases.case_accept(actor=people[receiver], case=case)
    case.refresh_from_db()
    return case


def kinds(case: Case) -> list[str]:
    return sorted(SupervisionRecord.objects.filter(case=case).values_list("kind", flat=True))


def test_step_late_while_case_in_time_then_case_red_one_record_each(
    overseers: dict[str, User], freeze: Freeze, sweep: Any
) -> None:
    people = overseers
    case = accepted(people, TIME_LIMITED, freeze)
    review = StepTask.objects.get(case=case, status="open")
    review.assignee = people["officer"]
    review.save(update_fields=["assignee"])
    assert review.due_at is not None and case.due_at is not None and review.due_at < case.due_at

    # Just after the step's own due instant: the step is late, the case is still in time.
    first = sweep(review.due_at + dt.timedelta(minutes=1))
    assert first == {Kind.STEP_OVER_LIMIT: 1}
    record = SupervisionRecord.objects.get(case=case)
    assert (record.kind, record.step_id, record.person, record.department.name) == (
        Kind.STEP_OVER_LIMIT, review.pk, people["officer"], "兰州市市场监督管理局")
    assert "尚未超期" in record.detail

    # Re-running the sweep opens nothing twice and sends nothing twice.
    assert sweep(review.due_at + dt.timedelta(minutes=2)) == {}
    notes = Notification.objects.filter(key=f"supervision:{record.pk}")
    assert sorted(notes.values_list("recipient__username", flat=True)) == ["head", "supervisor"]

    # One hour before the case's due instant (a working-day afternoon): yellow card.
    assert sweep(case.due_at - dt.timedelta(hours=1)) == {Kind.YELLOW_CASE: 1}
    # After it: red card; the late step keeps its one record (no red_step beside it).
    assert sweep(case.due_at + dt.timedelta(days=1)) == {Kind.RED_CASE: 1}
    assert kinds(case) == sorted([Kind.STEP_OVER_LIMIT, Kind.YELLOW_CASE, Kind.RED_CASE])
    red = SupervisionRecord.objects.get(case=case, kind=Kind.RED_CASE)
    assert red.person == people["officer"] and red.escalated_at is not None
    assert AuditRecord.objects.filter(action="supervision.opened").count() == 3
    assert Notification.objects.filter(kind="supervision").count() == 6


def test_a_step_late_after_the_case_is_late_is_a_red_step(
    overseers: dict[str, User], freeze: Freeze, sweep: Any
) -> None:
    case = accepted(overseers, TIME_LIMITED, freeze)
    assert case.due_at is not None
    assert sweep(case.due_at + dt.timedelta(days=3)) == {Kind.RED_CASE: 1, Kind.RED_STEP: 1}


def test_late_forwarding_by_the_street_centre(
    overseers: dict[str, User], freeze: Freeze, sweep: Any
) -> None:
    people = overseers
    case = accepted(people, PROXY, freeze, receiver="proxy")
    forward = StepTask.objects.get(case=case, status="open")
    assert forward.role == "proxy_agent" and forward.due_at is not None
    later = forward.due_at + dt.timedelta(hours=1)
    freeze(later)
    cases.case_step(actor=people["proxy"], task=forward, action="forward")
    assert sweep(later) == {Kind.LATE_FORWARDING: 1}
    record = SupervisionRecord.objects.get(case=case)
    assert record.person == people["proxy"]
    assert record.department.name == "城关区皋兰路街道便民服务中心"
    assert "代办转交" in record.detail


def test_refusal_without_a_reason(overseers: dict[str, User], sweep: Any) -> None:
    people = overseers
    terse = submitted(people, ON_THE_SPOT, actor="clerk", channel=Channel.WINDOW)
    cases.case_refuse(actor=people["clerk"], case=terse, reason="不行")
    reasoned = submitted(people, ON_THE_SPOT, actor="clerk", channel=Channel.WINDOW)
    cases.case_refuse(actor=people["clerk"], case=reasoned, reason="申请材料不符合法定形式")
    assert sweep(timezone.now()) == {Kind.REFUSAL_WITHOUT_REASON: 1}
    record = SupervisionRecord.objects.get()
    assert record.case == terse and record.person == people["clerk"]
    assert record.department == Department.objects.get(name="兰州市政务服务管理局")  # the hall's


def test_visits_over_the_promise(overseers: dict[str, User], freeze: Freeze,
                                 sweep: Any) -> None:
    people = overseers
    case = accepted(people, TIME_LIMITED, freeze)
    promised = case.item_version.required_visits
    for _ in range(promised + 1):
        cases.case_record_visit(actor=people["officer"], case=case, purpose="补交纸质材料")
    case.refresh_from_db()
    assert case.excess_visits
    found = sweep(timezone.now(), case_ids=[case.pk])
    assert found.get(Kind.VISITS_OVER_PROMISE) == 1
    record = SupervisionRecord.objects.get(case=case, kind=Kind.VISITS_OVER_PROMISE)
    assert record.data == {"visits": promised + 1, "allowed": promised}


def test_record_open_is_idempotent_per_kind_and_case(
    overseers: dict[str, User], freeze: Freeze,
    django_capture_on_commit_callbacks: Any,
) -> None:
    people = overseers
    case = accepted(people, TIME_LIMITED, freeze)
    with django_capture_on_commit_callbacks(execute=True):
        first = services.supervision_record_open(
            kind=Kind.MATERIALS_BEYOND_GUIDE, case=case, department=case.department,
            person=people["officer"], detail={"rating": 7}, actor=SYSTEM)
        again = services.supervision_record_open(
            kind=Kind.MATERIALS_BEYOND_GUIDE, case=case, department=case.department,
            person=people["officer"], detail="另一段说明", actor=SYSTEM)
    assert again.pk == first.pk and SupervisionRecord.objects.count() == 1
    assert first.data == {"rating": 7} and "办事指南之外" in first.detail
    assert Notification.objects.filter(key=f"supervision:{first.pk}").count() == 2
    with pytest.raises(RuleViolation) as err:
        services.supervision_record_open(kind="nonsense", case=case, department=case.department,
                                         person=None, detail="", actor=SYSTEM)
    assert [p.field for p in err.value.problems] == ["kind"]


def test_answering_and_closing(overseers: dict[str, User], freeze: Freeze) -> None:
    people = overseers
    case = accepted(people, TIME_LIMITED, freeze)
    record = services.supervision_record_open(
        kind=Kind.RED_CASE, case=case, department=case.department, person=people["officer"],
        detail="超期", actor=SYSTEM)

    # Someone else's department, or a citizen, may not answer; nothing changes.
    for outsider in ("hr_head", "citizen", "supervisor"):
        with pytest.raises(AccessDenied):
            services.supervision_record_acknowledge(actor=people[outsider], record=record)
    record.refresh_from_db()
    assert record.state == State.OPEN and record.acknowledged_at is None

    services.supervision_record_acknowledge(actor=people["officer"], record=record)
    with pytest.raises(RuleViolation) as err:
        services.supervision_record_explain(actor=people["head"], record=record, explanation=" ")
    assert [p.field for p in err.value.problems] == ["explanation"]
    services.supervision_record_explain(actor=people["head"], record=record,
                                        explanation="专家评审延误，已督促")
    with pytest.raises(AccessDenied):
        services.supervision_record_close(actor=people["head"], record=record, note="同意")
    record.refresh_from_db()
    assert record.state == State.EXPLAINED
    services.supervision_record_close(actor=people["supervisor"], record=record, note="情况属实，予以办结")
    record.refresh_from_db()
    assert (record.state, record.explanation, record.close_note, record.closed_by) == (
        State.CLOSED, "专家评审延误，已督促", "情况属实，予以办结", people["supervisor"])
    assert list(AuditRecord.objects.filter(object_type="supervision_record")
                .values_list("action", flat=True).order_by("seq")) == [
        "supervision.opened", "supervision.acknowledged", "supervision.explained",
        "supervision.closed"]


def test_the_per_event_task_checks_that_case(overseers: dict[str, User],
                                             django_capture_on_commit_callbacks: Any) -> None:
    from tongban.cases.models import CaseEvent
    from tongban.supervision.tasks import supervision_on_case_event

    people = overseers
    case = submitted(people, ON_THE_SPOT, actor="clerk", channel=Channel.WINDOW)
    cases.case_refuse(actor=people["clerk"], case=case, reason="无")
    event = CaseEvent.objects.get(case=case, action="refuse")
    with django_capture_on_commit_callbacks(execute=True):
        assert supervision_on_case_event.call(event.pk) == {Kind.REFUSAL_WITHOUT_REASON: 1}
        assert supervision_on_case_event.call(event.pk) == {}
    assert supervision_on_case_event.call(0) == {}


def test_the_sweep_is_a_seeded_schedule(db: None) -> None:
    from tongban.scheduling.models import Schedule

    schedule = Schedule.objects.get(name="sweep_supervision")
    schedule.full_clean()  # the task path imports and is a background task
    assert (schedule.task, schedule.interval_seconds, schedule.enabled) == (
        "tongban.supervision.tasks.sweep_supervision", 600, True)


def _finish(people: dict[str, User], case: Case) -> None:
    """Approve every open step in turn until the case is decided."""
    for _round in range(10):
        task = StepTask.objects.filter(case=case, status="open").order_by("pk").first()
        if task is None:
            return
        actor = people["head"] if task.role == "head" else people["officer"]
        cases.case_step(actor=actor, task=task, action="approve", reason="符合条件")
    pytest.fail("the case did not end")


def test_a_same_day_case_turns_yellow_only_in_its_last_fifth(
    overseers: dict[str, User], freeze: Freeze, sweep: Any
) -> None:
    """当日办结 accepted Monday 10:00 is due at 17:30; a fifth of its 7 h limit is 1 h 24 min:
    green at acceptance and until 16:05, yellow from 16:06 — the same answer for the case
    selector (pages and API), the API and both sweeps."""
    case = accepted(overseers, SAME_DAY, freeze)
    assert case.due_at == START.replace(hour=17, minute=30)
    officer = ApiClient("officer")
    for when, expected in ((START, "green"), (START.replace(hour=16, minute=5), "green"),
                           (START.replace(hour=16, minute=6), "yellow")):
        assert case_deadline_state(case, now=when) == expected
        freeze(when)
        assert officer.get(f"/cases/{case.pk}").json()["deadline_state"] == expected

    assert sweep(START) == {}
    assert Kind.YELLOW_CASE not in sweep(START.replace(hour=16, minute=5))  # its step may be late
    assert sweep(START.replace(hour=16, minute=6)) == {Kind.YELLOW_CASE: 1}
    assert deadlines_sweep(now=START) == {"cases": 0, "tasks": 0}
    assert deadlines_sweep(now=START.replace(hour=16, minute=6))["cases"] == 1
    case.refresh_from_db()
    assert case.deadline_state == "yellow"


def test_a_twenty_working_day_limit_warns_one_working_day_before(settings: Any) -> None:
    """A fifth of 20 working days is 4; the cap (one working day by default) applies."""
    due = dt.datetime(2026, 3, 31, 17, 30, tzinfo=BJ)  # a Tuesday
    limit = case_limit_seconds(category="time_limited", limit=20, unit="working_days",
                               extension_working_days=0, due=due, hours=OfficeHours())
    assert limit == 20 * 7 * 3600
    monday_close = dt.datetime(2026, 3, 30, 17, 30, tzinfo=BJ)
    assert clock.deadline_state(due, now=monday_close - dt.timedelta(minutes=1),
                                limit_seconds=limit) == "green"
    assert clock.deadline_state(due, now=monday_close, limit_seconds=limit) == "yellow"
    settings.CLOCK_WARNING_WORKING_DAYS = 2
    assert clock.deadline_state(due, now=dt.datetime(2026, 3, 27, 17, 30, tzinfo=BJ),
                                limit_seconds=limit) == "yellow"


def test_a_warning_closes_itself_when_the_case_ends_on_time(
    overseers: dict[str, User], freeze: Freeze, sweep: Any
) -> None:
    case = accepted(overseers, SAME_DAY, freeze)
    late_afternoon = START.replace(hour=16, minute=30)
    opened = sweep(late_afternoon)
    assert opened[Kind.YELLOW_CASE] == 1
    warnings = SupervisionRecord.objects.filter(case=case, kind__in=[Kind.YELLOW_CASE,
                                                                     Kind.YELLOW_STEP])
    assert warnings.exists() and all(r.state == State.OPEN for r in warnings)

    freeze(START.replace(hour=17, minute=0))
    _finish(overseers, case)
    case.refresh_from_db()
    assert case.decided_at is not None and case.due_at is not None and case.decided_at <= case.due_at
    count = warnings.count()
    assert sweep(START.replace(hour=17, minute=1)) == {"warnings_closed": count}
    for record in warnings.all():
        assert (record.state, record.closed_by, record.closed_at) == (
            State.CLOSED, None, START.replace(hour=17, minute=1))
        assert record.close_note == {
            Kind.YELLOW_CASE: "办件已在办结时限内办结，预警自动关闭",
            Kind.YELLOW_STEP: "环节已在环节时限内完成，预警自动关闭"}[Kind(record.kind)]
    closed = AuditRecord.objects.filter(action="supervision.closed")
    assert closed.count() == count and all(r.detail["automatic"] for r in closed)
    assert sweep(START.replace(hour=17, minute=2)) == {}  # nothing twice


def test_a_warning_stays_open_when_the_case_ends_late(
    overseers: dict[str, User], freeze: Freeze, sweep: Any
) -> None:
    case = accepted(overseers, SAME_DAY, freeze)
    sweep(START.replace(hour=16, minute=30))
    freeze(START + dt.timedelta(days=1))
    _finish(overseers, case)
    result = sweep(START + dt.timedelta(days=1, minutes=1))
    assert "warnings_closed" not in result
    record = SupervisionRecord.objects.get(case=case, kind=Kind.YELLOW_CASE)
    assert record.state == State.OPEN
