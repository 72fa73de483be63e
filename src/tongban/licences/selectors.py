"""Reads of the e-licence library for pages and the API."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from tongban.accounts.masking import mask_id_number, mask_name
from tongban.core import crypto
from tongban.core.errors import AccessDenied

from . import policies
from .models import Authorization, HolderKind, Licence, LicenceType

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor


def licence_types(*, active_only: bool = False) -> QuerySet[LicenceType]:
    found = LicenceType.objects.select_related("department").order_by("code")
    return found.filter(active=True) if active_only else found


def licences_of_cases(case_ids: Iterable[int]) -> dict[int, list[Licence]]:
    """Case id → the licences it issued (oldest first), in one query."""
    out: dict[int, list[Licence]] = {}
    ids = [i for i in case_ids if i is not None]
    if not ids:
        return out
    for licence in (Licence.objects.filter(case_id__in=ids).select_related("type")
                    .order_by("issued_at", "id")):
        assert licence.case_id is not None
        out.setdefault(licence.case_id, []).append(licence)
    return out


def licences_of_case(case_id: int) -> list[Licence]:
    return licences_of_cases([case_id]).get(case_id, [])


def wallet(user: Actor) -> list[Licence]:
    """证照夹: the account holder's own licences (by the blind index of their 公民身份号码 or
    统一社会信用代码), newest first. Nobody else's."""
    indexes = policies.holder_indexes(user)
    if not indexes:
        return []
    return list(Licence.objects.filter(holder_id_index__in=indexes)
                .select_related("type", "issuer").order_by("-issued_at", "-id"))


def licence_for(user: Actor, identifier: str) -> Licence:
    """The licence ``identifier`` when ``user`` may see it; :class:`Licence.DoesNotExist` when
    there is none, :class:`AccessDenied` when it is someone else's."""
    licence = (Licence.objects.select_related("type", "issuer")
               .get(identifier=(identifier or "").strip().upper()))
    if not policies.can_view_licence(user, licence):
        raise AccessDenied()
    return licence


def surface(licence: Licence) -> list[dict[str, Any]]:
    """The surface fields with their values, as signed."""
    try:
        content = json.loads(licence.content)
    except ValueError:
        return []
    return list(content.get("surface") or [])


def public_holder(licence: Licence) -> str:
    """A person's name masked (张*); an organisation's name is public (it is on its licence)."""
    if licence.holder_kind == HolderKind.NATURAL_PERSON:
        return mask_name(licence.holder_name)
    return licence.holder_name


def authorizations_of(licence: Licence) -> list[Authorization]:
    return list(licence.authorizations.select_related("department").order_by("-granted_at", "-id"))


def authorizations_for(user: Actor) -> list[Authorization]:
    """The holder's authorisations of their licences, or (department staff) those given to the
    user's department; nobody else's."""
    indexes = policies.holder_indexes(user)
    found = Authorization.objects.select_related("licence", "licence__type", "department")
    if indexes:
        return list(found.filter(licence__holder_id_index__in=indexes))
    department_id = getattr(user, "department_id", None)
    if department_id is not None and policies.works_for(user, department_id):
        return list(found.filter(department_id=department_id, revoked_at=None))
    return []


def issued_by(user: Actor, *, type_code: str = "", status: str = "",
              q: str = "") -> QuerySet[Licence]:
    """The licences the user's department issued (its officers and heads), newest first,
    filtered by type, status and a search: an identifier, a holder's name, or a holder's
    公民身份号码 / USCC (by its blind index). Nobody else's; none for other users."""
    department_id = getattr(user, "department_id", None)
    if not policies.works_for(user, department_id):
        return Licence.objects.none()
    found = Licence.objects.filter(issuer_id=department_id).select_related("type", "issuer")
    if type_code:
        found = found.filter(type__code=type_code)
    if status:
        found = found.filter(status=status)
    q = q.strip()
    if q:
        found = found.filter(Q(identifier__icontains=q) | Q(holder_name__icontains=q)
                             | Q(holder_id_index__in=crypto.blind_indexes(q.upper())))
    return found.order_by("-issued_at", "-id")


def issued_licence(user: Actor, identifier: str) -> Licence:
    """One licence of the user's department (:class:`Licence.DoesNotExist` otherwise)."""
    return issued_by(user).get(identifier=(identifier or "").strip().upper())


def types_of_department(user: Actor) -> QuerySet[LicenceType]:
    """The licence types the user's department issues (the list page's type filter)."""
    department_id = getattr(user, "department_id", None)
    if department_id is None:
        return LicenceType.objects.none()
    return LicenceType.objects.filter(department_id=department_id).order_by("code")


def masked_holder_id(licence: Licence) -> str:
    """A person's 公民身份号码 masked (6201**********1233); an organisation's USCC in full."""
    if licence.holder_kind == HolderKind.NATURAL_PERSON:
        return mask_id_number(licence.holder_id)
    return licence.holder_id
