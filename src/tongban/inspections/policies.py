"""Who may do what with random inspections. Services and selectors call these."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tongban.accounts import permissions
from tongban.accounts.models import Role

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

# Roles that see the staff pages at all (each then sees what the functions below allow).
STAFF_ROLES = (Role.OFFICER, Role.HEAD, Role.SUPERVISOR, Role.ADMIN)


def _role(user: Actor) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return getattr(user, "role", None)


def _of_department(user: Actor, department_id: int) -> bool:
    return (_role(user) in {Role.OFFICER, Role.HEAD}
            and getattr(user, "department_id", None) == department_id)


def can_import_directory(user: Actor, department_id: int) -> bool:
    """Load directory rows of a department: its officers and head, or the bureau."""
    return permissions.is_bureau_admin(user) or _of_department(user, department_id)


def can_read_department(user: Actor, department_id: int) -> bool:
    """See a department's directories and (also unpublished) tasks: its officers and head;
    supervisors and the bureau see every department's."""
    if permissions.is_bureau_admin(user) or _role(user) == Role.SUPERVISOR:
        return True
    return _of_department(user, department_id)


def can_manage_tasks(user: Actor, department_id: int) -> bool:
    """Create a task and draw it: the department's officers and head."""
    return _of_department(user, department_id)


def can_publish_task(user: Actor, department_id: int) -> bool:
    """Publish a drawn task: the department's head."""
    return _role(user) == Role.HEAD and getattr(user, "department_id", None) == department_id


def can_record_result(user: Actor, inspector_user_ids: set[int]) -> bool:
    """Record a drawn entity's result: only the inspectors drawn for that entity."""
    return _role(user) is not None and getattr(user, "pk", None) in inspector_user_ids
