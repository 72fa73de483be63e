"""Who may do what with the data layer. Services and selectors call these; views and endpoints
only gate entry.

The data bureau (大数据管理局, ``Department.is_data_bureau``) keeps the element dictionary and
code lists, reviews the resource catalog, confirms sources and checks demands; each department's
data officer (数据管理员) drafts its own resources, uploads their records and files its demands.
The bureau administrator may do what the data bureau does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tongban.accounts import permissions
from tongban.accounts.models import Role

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor


def _role(user: Actor | None) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return getattr(user, "role", None)


def is_data_officer(user: Actor | None) -> bool:
    return _role(user) == Role.DATA_OFFICER and getattr(user, "department_id", None) is not None


def is_data_bureau(user: Actor | None) -> bool:
    """A data officer of the data bureau, or the platform's administrator."""
    if permissions.is_bureau_admin(user):
        return True
    if not is_data_officer(user):
        return False
    department = getattr(user, "department", None)
    return bool(getattr(department, "is_data_bureau", False))


def can_manage_elements(user: Actor | None) -> bool:
    """Draft, publish and retire data elements; maintain code lists."""
    return is_data_bureau(user)


def can_act_for_department(user: Actor | None, department_id: int | None) -> bool:
    """Act as a department's data officer (its resources, records, demands and grants)."""
    if isinstance(user, permissions.SystemActor) and not permissions.is_automatic(user):
        return True  # a command on the server (import_records, the demo); not 秒批's actor
    return (department_id is not None and is_data_officer(user)
            and getattr(user, "department_id", None) == department_id) or is_data_bureau(user)


def is_department_data_officer(user: Actor | None, department_id: int | None) -> bool:
    """The department's own data officer. What only the department itself may do — file and
    withdraw its demands, answer demands for its data, upload its records, take keys for its
    grants — the data bureau and the administrator do not do in its place (an exchange call made
    with a key is recorded as the consumer department's, and a provider answers for its data)."""
    if isinstance(user, permissions.SystemActor) and not permissions.is_automatic(user):
        return True  # a command on the server (import_records, the demo); not 秒批's actor
    return (department_id is not None and is_data_officer(user)
            and getattr(user, "department_id", None) == department_id)
