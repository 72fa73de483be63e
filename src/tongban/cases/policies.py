"""Who may do what to a case. The case services call these; pages and the API only gate entry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tongban.accounts import permissions
from tongban.accounts.models import Role

from .models import Case, Notice, Status

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

STAFF_ALL_CASES = {Role.SUPERVISOR, Role.ADMIN}
DEPARTMENT_STAFF = {Role.OFFICER, Role.HEAD}


def _role(user: Actor) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return getattr(user, "role", None)


def is_proxy_desk(user: Actor) -> bool:
    """A proxy agent of a street/town centre (代办服务): may receive walk-ins at the proxy desk."""
    return _role(user) == Role.PROXY_AGENT and getattr(user, "hall_id", None) is not None


def is_applicant_side(user: Actor, case: Case) -> bool:
    return _role(user) is not None and user.pk is not None and user.pk in (
        case.applicant_id, case.agent_id)


def _hall_department(user: Actor) -> int | None:
    hall = getattr(user, "hall", None)
    return hall.department_id if hall is not None else None


def is_department_staff(user: Actor, case: Case) -> bool:
    if permissions.is_automatic(user):  # 秒批 acts for the case's own department only
        return bool(getattr(user, "department_id", None) == case.department_id)
    return (_role(user) in DEPARTMENT_STAFF and user.is_authenticated
            and user.department_id == case.department_id)


def is_receiving_agent(user: Actor, case: Case) -> bool:
    """A proxy agent of the street/town centre that receives this 代办服务 case."""
    return (_role(user) == Role.PROXY_AGENT and case.receiving_unit_id is not None
            and _hall_department(user) == case.receiving_unit_id)


def can_view(user: Actor, case: Case) -> bool:
    role = _role(user)
    if role is None or not user.is_authenticated:
        return False
    if is_applicant_side(user, case) or role in STAFF_ALL_CASES or permissions.is_bureau_admin(user):
        return True
    if case.status == Status.DRAFT:
        # An unsubmitted application is the applicant's own; staff see only a walk-in's draft
        # being filled in at their own hall.
        return getattr(user, "hall_id", None) is not None and user.hall_id == case.hall_id
    if is_department_staff(user, case) or is_receiving_agent(user, case):
        return True
    if role in DEPARTMENT_STAFF and user.department_id is not None and case.pk is not None \
            and case.tasks.filter(department_id=user.department_id).exists():
        return True  # a parallel step (并联审批) handled by another department
    # Clerks see cases of their hall (the comprehensive window accepts any department's items).
    return role == Role.CLERK and user.hall_id is not None and user.hall_id == case.hall_id


def can_see_identifiers(user: Actor, case: Case) -> bool:
    """ID numbers, phones and addresses in full: the applicant's side and the staff who handle
    the case (its department, the receiving street/town centre). Everyone else who may view the
    case — window clerks, supervisors, the bureau — sees them masked (domain rules §10)."""
    return is_applicant_side(user, case) or is_department_staff(user, case) \
        or is_receiving_agent(user, case)


def can_receive(user: Actor, case: Case) -> bool:
    """Pre-review, accept, refuse or request a supplement at intake."""
    role = _role(user)
    if role == Role.CLERK and user.is_authenticated and user.hall_id is not None:
        return True  # 无差别受理: any department's item at the comprehensive window
    return is_department_staff(user, case) or is_receiving_agent(user, case)


def can_approve_extension(user: Actor, case: Case) -> bool:
    return (_role(user) == Role.HEAD and user.is_authenticated
            and user.department_id == case.department_id)


def can_terminate(user: Actor, case: Case) -> bool:
    return (_role(user) == Role.HEAD and user.is_authenticated
            and user.department_id == case.department_id) or \
        permissions.is_bureau_admin(user)


def can_deliver(user: Actor, case: Case) -> bool:
    role = _role(user)
    return (role == Role.CLERK and user.is_authenticated and user.hall_id is not None) \
        or is_department_staff(user, case) \
        or is_receiving_agent(user, case)


def can_reopen(user: Actor, case: Case) -> bool:
    """人工复核 (个人信息保护法 Art. 24): the applicant's side may have a decision made
    automatically (秒批) taken again by a human."""
    if not is_applicant_side(user, case) or case.pk is None:
        return False
    # ``all()``: the case's notices as read already when a page or the API prefetched them (a
    # list then), one query otherwise. The latest decision counts: after a human review the
    # decision is a human's, and no second review is offered.
    decisions = [n for n in case.notices.all() if n.kind == Notice.Kind.DECISION]
    latest = max(decisions, key=lambda n: n.pk, default=None)
    return latest is not None and isinstance(latest.body, dict) \
        and bool(latest.body.get("automatic"))


def can_record_visit(user: Actor, case: Case) -> bool:
    return can_deliver(user, case)
