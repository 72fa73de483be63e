"""Who may read the audit log and sign checkpoints (services call these; views only gate entry)."""

from __future__ import annotations

from tongban.accounts.models import Role
from tongban.accounts.permissions import SYSTEM, Actor, is_bureau_admin

READERS = frozenset({Role.SUPERVISOR, Role.ADMIN})


def can_read_audit_log(user: Actor) -> bool:
    """Supervisors (监察人员) and the bureau administrators; they see actors' identities."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return getattr(user, "role", None) in READERS or is_bureau_admin(user)


def can_write_checkpoint(user: Actor) -> bool:
    return user is SYSTEM or is_bureau_admin(user)
