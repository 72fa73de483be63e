"""Django permissions (used by the admin site) derived from the account's role.

The admin asks ``user.has_perm("app.change_model")``; instead of maintaining groups, the role
answers: the bureau administrator may use every admin page, a supervisor may look at (never
change) the records of the apps it oversees. The services still check each concrete action.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.backends import BaseBackend

from .models import Role

if TYPE_CHECKING:
    from .permissions import Actor

# Apps whose records a supervisor may view in the admin.
SUPERVISED_APPS = {"audit", "catalog", "organizations"}


def _active_role(user: Actor) -> str | None:
    if user is None or not user.is_active or not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "role", None)


class RolePermissionBackend(BaseBackend):
    """Grants model permissions by role; authenticates nobody (ModelBackend does that)."""

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        role = _active_role(user_obj)
        if role == Role.ADMIN:
            return True
        if role == Role.SUPERVISOR:
            app_label, _, codename = perm.partition(".")
            return app_label in SUPERVISED_APPS and codename.startswith("view_")
        return False

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        role = _active_role(user_obj)
        return role == Role.ADMIN or (role == Role.SUPERVISOR and app_label in SUPERVISED_APPS)
