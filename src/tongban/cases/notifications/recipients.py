"""Who is told: the one place the recipients of every notice are decided.

The message texts stay with their senders (``services``, ``ratings.tasks``,
``supervision.tasks``); each of them asks here who gets them. Only active accounts are ever
chosen, and roles are named through :class:`~tongban.accounts.models.Role`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q

from tongban.accounts.models import Role, User


@dataclass(frozen=True)
class Party:
    """An applicant or agent of a case: an account (``None`` for a walk-in applicant) and the
    phone number their SMS copy goes to."""

    user: User | None
    phone: str


def _active() -> Any:
    return get_user_model().objects.filter(is_active=True)


def case_parties(case: Any) -> list[Party]:
    """The applicant (or the walk-in applicant's phone) and a distinct agent of a case."""
    parties: list[Party] = []
    if case.applicant is not None:
        parties.append(Party(case.applicant, case.applicant_phone or case.applicant.phone))
    elif case.applicant_phone:
        parties.append(Party(None, case.applicant_phone))
    if case.agent is not None and case.agent_id != case.applicant_id:
        parties.append(Party(case.agent, case.agent.phone))
    return parties


def department_heads(department_id: int | None, *, with_person: Any = None) -> list[Any]:
    """The heads of a department (they decide extensions and answer for its warnings and
    tickets), and ``with_person`` (e.g. a ticket's handler) if active and not among them."""
    users = list(_active().filter(role=Role.HEAD, department_id=department_id))
    if with_person is not None and with_person not in users and with_person.is_active:
        users.append(with_person)
    return users


def supervisors() -> list[Any]:
    """Every supervisor (电子监察): appeals to review, escalations."""
    return list(_active().filter(role=Role.SUPERVISOR))


def escalation(department_id: int | None, *, with_person: Any = None) -> list[Any]:
    """Something a department let slip: its heads (and ``with_person``) and every supervisor,
    each once, in account order."""
    users = {u.pk: u for u in _active().filter(
        Q(role=Role.HEAD, department_id=department_id) | Q(role=Role.SUPERVISOR))}
    if with_person is not None and with_person.is_active:
        users.setdefault(with_person.pk, with_person)
    return [users[pk] for pk in sorted(users)]


def step_pool(task: Any) -> list[Any]:
    """Who may claim an unassigned step: its department's people of its role (a hall's staff
    belong to the hall's managing department), as ``workflows.services.can_work_on`` says."""
    unit = Q(department_id=task.department_id) | Q(hall__department_id=task.department_id)
    return list(_active().filter(unit, role=task.role))


def step_handlers(task: Any) -> tuple[list[Any], list[Any]]:
    """A step opened: (its assignee, or nobody) to tell directly, and (its pool, if nobody
    holds it) to tell in the inbox only."""
    if task.assignee is not None:
        return [task.assignee], []
    return [], step_pool(task)


def deadline_watchers(open_steps: Iterable[Any],
                      department_id: int | None) -> tuple[list[Any], list[Any]]:
    """A case or step nears or passes its limit: (the assignees of its open steps and the
    department's heads — told by every channel) and (the pools of its unassigned steps, not
    already told — told in the inbox only)."""
    steps = list(open_steps)
    direct: dict[int, Any] = {t.assignee.pk: t.assignee for t in steps if t.assignee}
    direct.update((u.pk, u) for u in department_heads(department_id))
    pool = {u.pk: u for t in steps if t.assignee is None for u in step_pool(t)
            if u.pk not in direct}
    return list(direct.values()), list(pool.values())


def announced(users: Iterable[int], data_officers_of: Iterable[int],
              data_bureau: bool) -> list[Any]:
    """The people an announcement of a lower floor names (``scheduling.announcements``): the
    given accounts, the data officers (数据管理员) of the given departments and, when
    ``data_bureau``, of the data bureau — each once, in account order."""
    who = Q(pk__in=list(users)) | Q(role=Role.DATA_OFFICER, department_id__in=list(data_officers_of))
    if data_bureau:
        who |= Q(role=Role.DATA_OFFICER, department__is_data_bureau=True)
    return list(_active().filter(who).order_by("pk"))
