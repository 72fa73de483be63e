"""What each role may do. Services call these; views and endpoints only gate entry.

One function per kind of action (CKAN's auth functions): each answers for a concrete user and
object, so the admin, the pages and the API enforce the same rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from .models import Role, User

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

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
    hall_id = None

    def __str__(self) -> str:
        return "system"


SYSTEM = SystemActor()


class AutomaticActor(SystemActor):
    """秒批: the platform deciding a case of ``department_id`` by a published rule set
    (``tongban.decisions``). It has no role: the case policies and the workflow let it act, as
    the department's staff, on the cases and steps of that department (and of the case's
    receiving unit) only; the history and the audit log record it by name."""

    role = None  # type: ignore[assignment]

    def __init__(self, department_id: int, receiving_unit_id: int | None = None) -> None:
        self.department_id = department_id  # type: ignore[assignment]
        self.receiving_unit_id = receiving_unit_id

    def __str__(self) -> str:
        return "自动审批（秒批）"


def is_automatic(actor: object) -> bool:
    return isinstance(actor, AutomaticActor)

# Who acts: an account, the server itself (commands, the worker), or, where a page or endpoint open
# to anyone passes ``request.user``, nobody signed in. The permission functions answer for each.
Actor: TypeAlias = "User | SystemActor | AnonymousUser"


def account_of(actor: Actor | None) -> User | None:
    """The account to record as having acted: None for the system and for nobody signed in."""
    return actor if isinstance(actor, User) and actor.pk else None


def _role(user: Actor | None) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return getattr(user, "role", None)


def is_bureau_admin(user: Actor | None) -> bool:
    return _role(user) == Role.ADMIN or bool(getattr(user, "is_superuser", False))


def can_create_account(user: Actor | None, role: str) -> bool:
    """Staff accounts: the bureau only. Citizens and enterprises may also register themselves."""
    if is_bureau_admin(user):
        return True
    return user is None and role in {Role.CITIZEN, Role.ENTERPRISE}


def can_update_account(user: Actor | None, account: User, *, permission_changes: bool) -> bool:
    """The bureau changes any account; a citizen or enterprise its own details, not its role."""
    if is_bureau_admin(user):
        return True
    return (not permission_changes and _role(user) in {Role.CITIZEN, Role.ENTERPRISE}
            and user is not None and user.pk == account.pk)


def can_manage_staff(user: Actor | None) -> bool:
    """List and edit staff accounts (the accounts admin and the staff page)."""
    return is_bureau_admin(user)


def can_import_catalog(user: Actor | None) -> bool:
    """Only the government services bureau loads whole workbooks."""
    return is_bureau_admin(user)


def can_edit_item(user: Actor | None, department: Department) -> bool:
    """Draft and submit versions: the bureau, or officers and heads of the implementing body."""
    if is_bureau_admin(user):
        return True
    return (_role(user) in {Role.OFFICER, Role.HEAD} and user is not None and user.is_authenticated
            and user.department_id == department.pk)


def can_publish_item(user: Actor | None) -> bool:
    """Review, publish and cancel: the bureau only (the catalog is its list)."""
    return is_bureau_admin(user)


def can_manage_organizations(user: Actor | None) -> bool:
    return is_bureau_admin(user)


def can_view_quality_report(user: Actor | None) -> bool:
    """The catalog quality report is published; anyone may read it."""
    return True
