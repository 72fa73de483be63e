"""Workflows running cases: parallel steps across departments joined before the decision
(并联审批), returns, pinned definition versions, step due instants on the working-day clock,
late steps, and the inbox's claim / assign / transfer rules."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests import factories
from tests.cases.conftest import TIME_LIMITED, item
from tests.conftest import Freeze, make_user
from tongban.accounts.models import Role, User
from tongban.audit.models import AuditRecord
from tongban.cases import services
from tongban.cases.models import Case, CaseEvent, Status
from tongban.cases.workflows.models import StepTask, TaskStatus, WorkflowDefinition
from tongban.cases.workflows.services import task_assign, task_claim, workflow_save
from tongban.core.errors import AccessDenied, RuleViolation

pytestmark = pytest.mark.django_db(transaction=False)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def beijing(year: int, month: int, day: int, hour: int = 0, minute: int = 0,
              second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


@pytest.fixture
def clock(freeze: Freeze) -> Freeze:
    """``clock(instant)``: the case services act at that instant from now on."""
    return freeze


@pytest.fixture
def bureau(people: dict[str, User]) -> User:
    return make_user("bureau", Role.ADMIN, real_name="吴刚")


def step(key: str, role: str, budget: str, nxt: list[str], **extra: Any) -> dict[str, Any]:
    return {"key": key, "name": {"receive": "受理审查", "market": "市场监管现场核查",
                                 "market2": "市场监管复核", "hr": "人社审查", "decide": "决定",
                                 "review": "审查"}[key],
            "role": role, "budget_working_days": budget, "actions": ["approve"], "next": nxt,
            **extra}


DECIDE = {"key": "decide", "name": "决定", "role": "head", "budget_working_days": "1",
          "actions": ["approve", "deny", "return"], "return_to": ["receive"], "next": ["end"],
          "decides": True, "join": True}


def parallel_definition(hr_uscc: str, *, two_step_branch: bool = False) -> dict[str, Any]:
    """受理审查 → 市场监管 and 人社 side by side (two departments) → 决定 (joins both).
    Critical path 0.5 + 1.5 + 1 = 3 working days, the item's committed limit."""
    market = ([step("market", "officer", "0.5", ["market2"]),
               step("market2", "officer", "1", ["decide"])] if two_step_branch
              else [step("market", "officer", "1", ["decide"])])
    return {"start": "receive", "budget_mode": "working_days", "steps": [
        step("receive", "officer", "0.5", ["market", "hr"]), *market,
        step("hr", "officer", "1.5", ["decide"], department=hr_uscc), DECIDE]}


def save_parallel(bureau: User, people: dict[str, User], **extra: Any) -> WorkflowDefinition:
    hr_uscc = people["hr_officer"].department.uscc  # type: ignore[union-attr]
    return workflow_save(actor=bureau, item=item(TIME_LIMITED), name="食品经营许可并联审批",
                         definition=parallel_definition(hr_uscc, **extra))


def accepted_case(people: dict[str, User]) -> Case:
    case: Case = factories.accepted_case(people, TIME_LIMITED)
    return case


def open_tasks(case: Case) -> dict[str, StepTask]:
    return {t.step_key: t for t in StepTask.objects.filter(case=case, status=TaskStatus.OPEN)}


def last_event(case: Case) -> CaseEvent:
    event = CaseEvent.objects.filter(case=case).order_by("-seq").first()
    assert event is not None
    return event


# --- 并联审批 -----------------------------------------------------------------------------------------

def test_parallel_steps_in_two_departments_join_before_the_decision(
        people: dict[str, User], bureau: User, clock: Any) -> None:
    save_parallel(bureau, people)
    officer, hr_officer, head = people["officer"], people["hr_officer"], people["head"]
    clock(beijing(2025, 9, 30, 15, 0))  # a Tuesday afternoon, the day before National Day
    case = accepted_case(people)
    assert list(open_tasks(case)) == ["receive"]

    clock(beijing(2025, 10, 9, 9, 30))
    services.case_step(actor=officer, task=open_tasks(case)["receive"], action="approve")
    tasks = open_tasks(case)
    assert sorted(tasks) == ["hr", "market"]
    assert (tasks["market"].department.name, tasks["hr"].department.name) == (
        "兰州市市场监督管理局", "兰州市人力资源和社会保障局")
    assert last_event(case).data["opened"] == ["market", "hr"]

    # Each department works only on its own branch.
    with pytest.raises(AccessDenied):
        services.case_step(actor=officer, task=tasks["hr"], action="approve")
    with pytest.raises(AccessDenied):
        services.case_step(actor=hr_officer, task=tasks["market"], action="approve")

    services.case_step(actor=hr_officer, task=tasks["hr"], action="approve")
    assert list(open_tasks(case)) == ["market"]  # the decision waits for the other branch
    assert last_event(case).data["opened"] == []

    services.case_step(actor=officer, task=tasks["market"], action="approve")
    decide = open_tasks(case)
    assert list(decide) == ["decide"]
    assert (decide["decide"].role, decide["decide"].department_id) == ("head", case.department_id)

    services.case_step(actor=head, task=decide["decide"], action="approve", reason="两部门审查通过")
    case.refresh_from_db()
    assert case.status == Status.APPROVED
    assert StepTask.objects.filter(case=case, step_key="decide").count() == 1


def test_a_branch_of_several_steps_has_arrived_only_after_its_last_step(
        people: dict[str, User], bureau: User) -> None:
    save_parallel(bureau, people, two_step_branch=True)
    officer = people["officer"]
    case = accepted_case(people)
    services.case_step(actor=officer, task=open_tasks(case)["receive"], action="approve")
    # The 人社 branch finishes while the market branch is still at its first step.
    services.case_step(actor=people["hr_officer"], task=open_tasks(case)["hr"], action="approve")
    assert list(open_tasks(case)) == ["market"]
    services.case_step(actor=officer, task=open_tasks(case)["market"], action="approve")
    assert list(open_tasks(case)) == ["market2"]
    services.case_step(actor=officer, task=open_tasks(case)["market2"], action="approve")
    assert list(open_tasks(case)) == ["decide"]


def test_a_joining_step_named_beside_a_branch_leading_to_it_waits_for_that_branch(
        people: dict[str, User], bureau: User) -> None:
    # 受理审查 → 决定 directly and through 市场监管: the decision must not open beside the market
    # check (it would be decided once early and then opened again).
    workflow_save(actor=bureau, item=item(TIME_LIMITED), name="食品经营许可", definition={
        "start": "receive", "steps": [step("receive", "officer", "1", ["decide", "market"]),
                                      step("market", "officer", "1", ["decide"]), DECIDE]})
    officer, head = people["officer"], people["head"]
    case = accepted_case(people)
    services.case_step(actor=officer, task=open_tasks(case)["receive"], action="approve")
    assert list(open_tasks(case)) == ["market"]
    services.case_step(actor=officer, task=open_tasks(case)["market"], action="approve")
    assert list(open_tasks(case)) == ["decide"]
    services.case_step(actor=head, task=open_tasks(case)["decide"], action="approve")
    case.refresh_from_db()
    assert case.status == Status.APPROVED
    assert StepTask.objects.filter(case=case, step_key="decide").count() == 1


# --- returns ------------------------------------------------------------------------------------------

def test_the_head_returns_a_case_to_an_earlier_step(people: dict[str, User], bureau: User) -> None:
    save_parallel(bureau, people)
    officer, head = people["officer"], people["head"]
    case = accepted_case(people)
    services.case_step(actor=officer, task=open_tasks(case)["receive"], action="approve")
    services.case_step(actor=people["hr_officer"], task=open_tasks(case)["hr"], action="approve")
    services.case_step(actor=officer, task=open_tasks(case)["market"], action="approve")
    decide = open_tasks(case)["decide"]

    # Only a step listed in return_to may be chosen; nothing changes otherwise.
    with pytest.raises(RuleViolation) as refused:
        services.case_step(actor=head, task=decide, action="return", return_to="market",
                           reason="现场核查记录不全")
    assert [(p.field, str(p.message)) for p in refused.value.problems] == [
        ("to", "不能退回到环节“market”")]
    assert list(open_tasks(case)) == ["decide"]
    # A return says why: the step sent back has to know what to check again.
    with pytest.raises(RuleViolation) as refused:
        services.case_step(actor=head, task=decide, action="return", return_to="receive",
                           reason="  ")
    assert [(p.field, str(p.message)) for p in refused.value.problems] == [("reason", "须填写理由")]
    assert list(open_tasks(case)) == ["decide"]

    services.case_step(actor=head, task=decide, action="return", return_to="receive",
                       reason="申请材料与现场情况不符，请重新审查")
    decide.refresh_from_db()
    assert (decide.status, decide.outcome) == (TaskStatus.DONE, "return")
    assert list(open_tasks(case)) == ["receive"]
    assert StepTask.objects.filter(case=case, step_key="receive").count() == 2
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED
    event = last_event(case)
    assert (event.action, event.reason, event.data["to"]) == (
        "step", "申请材料与现场情况不符，请重新审查", "receive")

    # The case runs through the branches again and can then be decided.
    services.case_step(actor=officer, task=open_tasks(case)["receive"], action="approve")
    assert sorted(open_tasks(case)) == ["hr", "market"]


# --- versions -----------------------------------------------------------------------------------------

def test_a_case_keeps_the_definition_version_it_started_under(
        people: dict[str, User], bureau: User) -> None:
    first = save_parallel(bureau, people)
    officer = people["officer"]
    running = accepted_case(people)
    second = workflow_save(actor=bureau, item=item(TIME_LIMITED), name="食品经营许可简易流程",
                           definition={"start": "review", "steps": [
                               step("review", "officer", "2", ["decide"]),
                               {**DECIDE, "return_to": ["review"], "join": False}]})
    assert (first.version, second.version) == (1, 2)
    first.refresh_from_db()
    assert not first.is_active and second.is_active

    # The running case goes on with version 1's parallel branches …
    services.case_step(actor=officer, task=open_tasks(running)["receive"], action="approve")
    assert sorted(open_tasks(running)) == ["hr", "market"]
    running.refresh_from_db()
    assert running.workflow_id == first.pk
    # … while a case accepted now starts under version 2.
    new = accepted_case(people)
    assert (new.workflow_id, list(open_tasks(new))) == (second.pk, ["review"])


# --- time -----------------------------------------------------------------------------------------------

def test_step_due_instants_follow_the_step_budget_on_the_working_day_clock(
        people: dict[str, User], bureau: User, clock: Any) -> None:
    save_parallel(bureau, people)
    clock(beijing(2025, 9, 30, 15, 0))
    case = accepted_case(people)
    # 0.5 working day = 3 h 30 min of office time: 2 h 30 min left on 30 September, then
    # 1 October to 8 October are the National Day holidays, then 1 h on 9 October.
    receive = open_tasks(case)["receive"]
    assert receive.opened_at == beijing(2025, 9, 30, 15, 0)
    assert receive.due_at == beijing(2025, 10, 9, 10, 0)
    # The case itself: three working days after 30 September (11 October is a make-up day).
    assert case.due_at == beijing(2025, 10, 11, 17, 30)

    clock(beijing(2025, 10, 9, 9, 30))
    services.case_step(actor=people["officer"], task=receive, action="approve")
    tasks = open_tasks(case)
    # 1 working day (7 h) from 09:30: 6 h 30 min on 9 October, 30 min on 10 October.
    assert tasks["market"].due_at == beijing(2025, 10, 10, 9, 30)
    # 1.5 working days (10 h 30 min): 6 h 30 min on 9 October, then 09:00–12:00 and
    # 13:30–14:30 on 10 October.
    assert tasks["hr"].due_at == beijing(2025, 10, 10, 14, 30)


def test_a_step_finished_after_its_due_instant_is_flagged_late(
        people: dict[str, User], bureau: User, clock: Any) -> None:
    save_parallel(bureau, people)
    clock(beijing(2025, 9, 30, 15, 0))
    case = accepted_case(people)
    clock(beijing(2025, 10, 9, 9, 30))
    services.case_step(actor=people["officer"], task=open_tasks(case)["receive"], action="approve")
    tasks = open_tasks(case)

    clock(beijing(2025, 10, 10, 9, 30))  # exactly at the market step's due instant: on time
    services.case_step(actor=people["officer"], task=tasks["market"], action="approve")
    clock(beijing(2025, 10, 13, 10, 0))  # the 人社 step was due on 10 October at 14:30
    services.case_step(actor=people["hr_officer"], task=tasks["hr"], action="approve")

    late = dict(StepTask.objects.filter(case=case).values_list("step_key", "late"))
    assert late == {"receive": False, "market": False, "hr": True, "decide": False}
    assert last_event(case).data["late"] is True


# --- the inbox: claim, assign, transfer ---------------------------------------------------------

def review_task(people: dict[str, User]) -> StepTask:
    """The 审查 step of a case under the list's default workflow (officers of the market bureau)."""
    case = accepted_case(people)
    return open_tasks(case)["review"]


def assignee(task: StepTask) -> int | None:
    return StepTask.objects.values_list("assignee_id", flat=True).get(pk=task.pk)


def test_a_claimed_task_cannot_be_claimed_by_another(people: dict[str, User]) -> None:
    officer, officer2 = people["officer"], people["officer2"]
    task = review_task(people)
    with pytest.raises(AccessDenied):  # another department's officer
        task_claim(actor=people["hr_officer"], task=task)
    assert assignee(task) is None

    task_claim(actor=officer, task=task)
    assert assignee(task) == officer.pk
    with pytest.raises(RuleViolation) as taken:
        task_claim(actor=officer2, task=task)
    assert [str(p.message) for p in taken.value.problems] == ["该任务已被其他人认领"]
    assert assignee(task) == officer.pk
    # While it is claimed only its holder works on it.
    with pytest.raises(AccessDenied):
        services.case_step(actor=officer2, task=task, action="approve")
    services.case_step(actor=officer, task=task, action="approve")


def test_only_the_head_assigns(people: dict[str, User]) -> None:
    officer, officer2, head = people["officer"], people["officer2"], people["head"]
    task = review_task(people)
    before = AuditRecord.objects.filter(action="task.assigned").count()
    with pytest.raises(AccessDenied):
        task_assign(actor=officer2, task=task, to=officer2)
    with pytest.raises(AccessDenied):  # another department's head
        task_assign(actor=people["hr_head"], task=task, to=officer)
    assert assignee(task) is None

    task_assign(actor=head, task=task, to=officer, reason="熟悉餐饮许可")
    assert assignee(task) == officer.pk
    record = AuditRecord.objects.filter(action="task.assigned").latest("seq")
    assert record.detail == {"case": task.case_id, "from": None, "to": officer.pk,
                             "reason": "熟悉餐饮许可"}
    assert AuditRecord.objects.filter(action="task.assigned").count() == before + 1


def test_only_same_department_same_role_targets(people: dict[str, User]) -> None:
    head = people["head"]
    task = review_task(people)
    for target in (people["hr_officer"], head, people["clerk"]):
        with pytest.raises(RuleViolation) as refused:
            task_assign(actor=head, task=task, to=target)
        assert [(p.field, str(p.message)) for p in refused.value.problems] == [
            ("assignee", "只能交给本部门同一角色的工作人员")]
    assert assignee(task) is None
    retired = make_user("retired", Role.OFFICER, department=people["officer"].department,
                        is_active=False)
    with pytest.raises(RuleViolation):
        task_assign(actor=head, task=task, to=retired)
    assert assignee(task) is None


def test_the_holder_transfers_to_a_colleague(people: dict[str, User]) -> None:
    officer, officer2 = people["officer"], people["officer2"]
    task = review_task(people)
    task_claim(actor=officer, task=task)
    with pytest.raises(AccessDenied):  # not the holder, not the head
        task_assign(actor=officer2, task=task, to=officer2)
    task_assign(actor=officer, task=task, to=officer2, reason="休假")
    assert assignee(task) == officer2.pk
    with pytest.raises(AccessDenied):
        services.case_step(actor=officer, task=task, action="approve")
    services.case_step(actor=officer2, task=task, action="approve")
    task.refresh_from_db()
    assert (task.status, task.finished_by_id) == (TaskStatus.DONE, officer2.pk)
    with pytest.raises(RuleViolation):  # a finished task is no longer assigned
        task_assign(actor=people["head"], task=task, to=officer)
