"""What each role may do. Services call these; views and endpoints only gate entry.

One function per kind of action (CKAN's auth functions): each answers for a concrete user and
object, so the admin, the pages and the API enforce the same rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .models import Role

if TYPE_CHECKING:
    from tongban.organizations.models import Department


class SystemActor:
    """The actor of management commands run on the server (e.g. ``tongban import_catalog``).

    Whoever has a shell on the server already holds the bureau's powers; the audit log records
    such actions as "system".
    """

    pk = None
    is_authenticated = True
    is_active = True
    is_superuser = False
    role = Role.ADMIN
    department_id = None

    def __str__(self) -> str:
        return "system"


SYSTEM = SystemActor()


def _role(user: Any) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return getattr(user, "role", None)


def is_bureau_admin(user: Any) -> bool:
    return _role(user) == Role.ADMIN or bool(getattr(user, "is_superuser", False))


def can_create_account(user: Any, role: str) -> bool:
    """Staff accounts: the bureau only. Citizens and enterprises may also register themselves."""
    if is_bureau_admin(user):
        return True
    return user is None and role in {Role.CITIZEN, Role.ENTERPRISE}


def can_update_account(user: Any, account: Any, *, permission_changes: bool) -> bool:
    """The bureau changes any account; a citizen or enterprise its own details, not its role."""
    if is_bureau_admin(user):
        return True
    return (not permission_changes and _role(user) in {Role.CITIZEN, Role.ENTERPRISE}
            and user.pk == account.pk)


def can_manage_staff(user: Any) -> bool:
    """List and edit staff accounts (the accounts admin and the staff page)."""
    return is_bureau_admin(user)


def can_import_catalog(user: Any) -> bool:
    """Only the government services bureau loads whole workbooks."""
    return is_bureau_admin(user)


def can_edit_item(user: Any, department: Department) -> bool:
    """Draft and submit versions: the bureau, or officers and heads of the implementing body."""
    if is_bureau_admin(user):
        return True
    return _role(user) in {Role.OFFICER, Role.HEAD} and user.department_id == department.pk


def can_publish_item(user: Any) -> bool:
    """Review, publish and cancel: the bureau only (the catalog is its list)."""
    return is_bureau_admin(user)


def can_manage_organizations(user: Any) -> bool:
    return is_bureau_admin(user)


def can_view_quality_report(user: Any) -> bool:
    """The catalog quality report is published; anyone may read it."""
    return True
