"""Who may do what in the e-licence library. Services and selectors call these; views and
endpoints only gate entry.

- Licence types are kept by the data bureau (its data officers, or the bureau administrator).
- A licence is issued when its case is delivered (the case services have checked who delivers)
  or by the system (the demo); it has no door of its own.
- The issuing department's officers and heads change and revoke its licences.
- The holder — the account whose 公民身份号码 or 统一社会信用代码 is the licence's — sees the
  licence, downloads it and authorises departments to use it.
- A department's staff use a licence the holder authorised for that department.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tongban.accounts import permissions
from tongban.accounts.models import Role
from tongban.core import crypto
from tongban.exchange import policies as exchange_policies

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

    from .models import Authorization, Licence

DEPARTMENT_STAFF = (Role.OFFICER, Role.HEAD, Role.DATA_OFFICER)


def _active(user: Actor | None) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def is_system(user: Actor | None) -> bool:
    return isinstance(user, permissions.SystemActor)


def can_manage_types(user: Actor | None) -> bool:
    return is_system(user) or exchange_policies.is_data_bureau(user)


def holder_indexes(user: Actor | None) -> list[str]:
    """Blind indexes of the account's own 公民身份号码 and 统一社会信用代码 (its licences')."""
    if not _active(user) or getattr(user, "role", None) not in (Role.CITIZEN, Role.ENTERPRISE):
        return []
    out: list[str] = []
    for value in (getattr(user, "id_number", "") or "", getattr(user, "uscc", "") or ""):
        if value:
            out.extend(crypto.blind_indexes(value.upper()))
    return out


def is_holder(user: Actor | None, licence: Licence) -> bool:
    return licence.holder_id_index in holder_indexes(user)


def works_for(user: Actor | None, department_id: int | None) -> bool:
    return (_active(user) and department_id is not None
            and getattr(user, "role", None) in DEPARTMENT_STAFF
            and getattr(user, "department_id", None) == department_id)


def can_manage_licence(user: Actor | None, licence: Licence) -> bool:
    """Change or revoke: the issuing department's officers and heads, or the system."""
    if is_system(user):
        return True
    return (works_for(user, licence.issuer_id)
            and getattr(user, "role", None) in (Role.OFFICER, Role.HEAD))


def can_view_licence(user: Actor | None, licence: Licence) -> bool:
    """The holder, the issuing department, supervisors and the bureau administrator."""
    if is_system(user) or is_holder(user, licence) or works_for(user, licence.issuer_id):
        return True
    return _active(user) and (permissions.is_bureau_admin(user)
                              or getattr(user, "role", None) == Role.SUPERVISOR)


def can_authorize(user: Actor | None, licence: Licence) -> bool:
    return is_holder(user, licence)


def can_use(user: Actor | None, authorization: Authorization) -> bool:
    """A department's staff use a licence its holder authorised for their department."""
    return is_system(user) or works_for(user, authorization.department_id)
