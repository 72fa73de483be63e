"""Who may see and act on supervision records (services call these; views only gate entry)."""

from __future__ import annotations

from typing import Any

from tongban.accounts.models import Role
from tongban.accounts.permissions import Actor, is_bureau_admin

OVERSEERS = frozenset({Role.SUPERVISOR, Role.ADMIN})
# Roles that answer for their own department's records.
DEPARTMENT_ROLES = frozenset({Role.HEAD, Role.OFFICER, Role.PROXY_AGENT, Role.CLERK})


def _role(user: Actor) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return getattr(user, "role", None)


def sees_everything(user: Actor) -> bool:
    """Supervisors (监察人员) and the bureau see every department."""
    return _role(user) in OVERSEERS or is_bureau_admin(user)


def user_department_id(user: Actor) -> int | None:
    """The department a staff member answers for: their own, or their hall's managing one."""
    department_id = getattr(user, "department_id", None)
    if department_id:
        return int(department_id)
    hall = getattr(user, "hall", None) if getattr(user, "hall_id", None) else None
    return int(hall.department_id) if hall is not None and hall.department_id else None


def dashboard_department(user: Actor) -> int | None:
    """The one department a head's dashboard is limited to (``None``: everything)."""
    return None if sees_everything(user) else user_department_id(user)


def can_view_dashboard(user: Actor) -> bool:
    return sees_everything(user) or (_role(user) == Role.HEAD and user_department_id(user) is not None)


def can_view_record(user: Actor, record: Any) -> bool:
    if sees_everything(user):
        return True
    if _role(user) is None:
        return False
    if record.person_id is not None and record.person_id == user.pk:
        return True
    return _role(user) == Role.HEAD and user_department_id(user) == record.department_id


def can_answer(user: Actor, record: Any) -> bool:
    """Acknowledge or explain: the person named, or the head of the department named."""
    role = _role(user)
    if role is None or role in OVERSEERS:
        return False
    if record.person_id is not None and record.person_id == user.pk:
        return True
    return role == Role.HEAD and user_department_id(user) == record.department_id


def can_close(user: Actor) -> bool:
    """Closing a record is the supervisor's decision."""
    return sees_everything(user)
