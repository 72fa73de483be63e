"""Who may do what with rule sets and automatic decisions. Services call these."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tongban.accounts import permissions
from tongban.accounts.models import Role

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

READERS = {Role.ADMIN, Role.SUPERVISOR, Role.OFFICER, Role.HEAD}


def _role(user: Actor | None) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return getattr(user, "role", None)


def can_manage_rule_sets(user: Actor | None) -> bool:
    """Write, import, publish and retire rule sets: the government services bureau."""
    return permissions.is_bureau_admin(user)


def can_read_rule_sets(user: Actor | None) -> bool:
    """Read rule sets and the figures: the bureau, supervisors, department officers and heads."""
    return _role(user) in READERS or permissions.is_bureau_admin(user)
