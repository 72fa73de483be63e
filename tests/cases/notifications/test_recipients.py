"""Who is told, decided in one place: a case's parties, a department's heads, supervisors,
a step's pool, the watchers of a deadline and an escalation."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.catalog.bureau_factories import make_department
from tests.conftest import make_user
from tongban.accounts.models import Role
from tongban.cases.notifications import recipients

pytestmark = pytest.mark.django_db


def names(users: list[object]) -> list[str]:
    return [u.username for u in users]  # type: ignore[attr-defined]


def test_heads_supervisors_and_escalations_are_active_accounts_of_their_role() -> None:
    dept, other = make_department("兰州市甲局"), make_department("兰州市乙局")
    head = make_user("head", Role.HEAD, department=dept)
    make_user("retired", Role.HEAD, department=dept, is_active=False)
    make_user("other-head", Role.HEAD, department=other)
    officer = make_user("officer", Role.OFFICER, department=dept)
    supervisor = make_user("supervisor", Role.SUPERVISOR)
    assert names(recipients.department_heads(dept.pk)) == ["head"]
    assert names(recipients.department_heads(dept.pk, with_person=officer)) == ["head", "officer"]
    assert names(recipients.department_heads(dept.pk, with_person=head)) == ["head"]
    assert names(recipients.supervisors()) == ["supervisor"]
    assert names(recipients.escalation(dept.pk, with_person=officer)) == [
        "head", "officer", "supervisor"]
    assert recipients.escalation(dept.pk) == [head, supervisor]


def test_a_case_tells_its_applicant_or_walk_in_phone_and_a_distinct_agent() -> None:
    citizen = make_user("citizen", Role.CITIZEN, phone="13800000001")
    agent = make_user("agent", Role.CITIZEN, phone="13800000002")
    case = SimpleNamespace(applicant=citizen, applicant_id=citizen.pk, applicant_phone="",
                           agent=agent, agent_id=agent.pk)
    assert recipients.case_parties(case) == [recipients.Party(citizen, "13800000001"),
                                             recipients.Party(agent, "13800000002")]
    walk_in = SimpleNamespace(applicant=None, applicant_id=None, applicant_phone="13900000000",
                              agent=None, agent_id=None)
    assert recipients.case_parties(walk_in) == [recipients.Party(None, "13900000000")]


def test_a_step_is_told_to_its_assignee_or_its_pool_and_deadlines_to_the_head_too() -> None:
    dept = make_department("兰州市甲局")
    head = make_user("head", Role.HEAD, department=dept)
    one = make_user("one", Role.OFFICER, department=dept)
    two = make_user("two", Role.OFFICER, department=dept)
    make_user("clerk", Role.CLERK, department=dept)
    held = SimpleNamespace(assignee=one, department_id=dept.pk, role=Role.OFFICER)
    free = SimpleNamespace(assignee=None, department_id=dept.pk, role=Role.OFFICER)
    assert recipients.step_handlers(held) == ([one], [])
    assert recipients.step_handlers(free) == ([], [one, two])
    direct, pool = recipients.deadline_watchers([held, free], dept.pk)
    assert (direct, pool) == ([one, head], [two])
