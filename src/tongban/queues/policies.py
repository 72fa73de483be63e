"""Who may do what with a hall's queue. Services and selectors call these."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tongban.accounts import permissions
from tongban.accounts.models import HALL_ROLES, Role

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

# Roles that may read a hall's waiting-time figures (aggregates only, no personal data).
FIGURE_ROLES = {Role.CLERK, Role.PROXY_AGENT, Role.HEAD, Role.SUPERVISOR, Role.ADMIN}


def _role(user: Actor) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return getattr(user, "role", None)


def can_work_queue(user: Actor, hall_id: int) -> bool:
    """Call and handle tickets: the clerks and proxy agents of that hall."""
    return _role(user) in HALL_ROLES and getattr(user, "hall_id", None) == hall_id


def can_view_figures(user: Actor, hall_id: int) -> bool:
    """Hall staff see their hall's figures; heads, supervisors and the bureau every hall's."""
    role = _role(user)
    if role in HALL_ROLES:
        return getattr(user, "hall_id", None) == hall_id
    return role in FIGURE_ROLES or permissions.is_bureau_admin(user)


def can_manage_categories(user: Actor) -> bool:
    """Service categories are hall set-up: the government services bureau."""
    return permissions.can_manage_organizations(user)
