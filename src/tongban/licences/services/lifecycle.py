"""The life of a licence after issue: changed (a new version), revoked with a reason, expired.

The state machine is ``TRANSITIONS`` (action → states it may start from → state it leads to);
each move is audited in its transaction and the holder is told after commit.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.audit.services import audit_record
from tongban.clock.deadline import SHANGHAI
from tongban.core.errors import AccessDenied, Problem, RuleViolation

from .. import policies
from ..models import Licence, Status
from .issuing import Holder, holder_problems, surface_values, write_licence
from .notify import tell_holder

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "change": (frozenset({Status.VALID}), Status.CHANGED),
    "revoke": (frozenset({Status.VALID}), Status.REVOKED),
    "expire": (frozenset({Status.VALID}), Status.EXPIRED),
}


@dataclass(frozen=True)
class LicenceActions:
    """What ``actor`` may do next with a licence (the pages show their forms from it)."""

    change: bool
    revoke: bool


def available_actions(actor: Actor, licence: Licence) -> LicenceActions:
    """The moves of ``TRANSITIONS`` the actor may make from the licence's status now."""
    may = policies.can_manage_licence(actor, licence)

    def allowed(action: str) -> bool:
        return may and licence.status in TRANSITIONS[action][0]

    return LicenceActions(change=allowed("change") and licence.version < 999,
                          revoke=allowed("revoke"))


def _lock(licence: Licence) -> Licence:
    return Licence.objects.select_for_update().select_related("type", "issuer").get(pk=licence.pk)


def _check(licence: Licence, action: str) -> None:
    allowed, _target = TRANSITIONS[action]
    if licence.status not in allowed:
        raise RuleViolation([Problem("status", _("该证照当前状态为“%(status)s”，不能%(action)s") % {
            "status": Status(licence.status).label, "action": ACTION_LABELS[action]})])


ACTION_LABELS = {"change": _("变更"), "revoke": _("注销"), "expire": _("置为过期")}


def _move(licence: Licence, action: str, *, reason: str, at: dt.datetime) -> None:
    licence.status = TRANSITIONS[action][1]
    licence.status_reason = reason
    licence.status_changed_at = at
    licence.save(update_fields=["status", "status_reason", "status_changed_at"])


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation([Problem("reason", _("须填写理由"))])
    if len(reason) > 500:
        raise RuleViolation([Problem("reason", _("理由不能超过500个字符"))])
    return reason


@transaction.atomic
def licence_revoke(*, actor: Actor, licence: Licence, reason: str) -> Licence:
    """注销/吊销: the licence no longer stands; the reason is shown on verification."""
    licence = _lock(licence)
    if not policies.can_manage_licence(actor, licence):
        raise AccessDenied(_("只有签发部门可以注销该证照"))
    reason = _reason(reason)
    _check(licence, "revoke")
    at = timezone.now()
    _move(licence, "revoke", reason=reason, at=at)
    audit_record(actor=actor, action="licence.revoked", object_type="licence",
                 object_id=licence.pk, detail={"identifier": licence.identifier, "reason": reason})
    tell_holder(licence, event="revoked", reason=reason)
    return licence


@transaction.atomic
def licence_change(*, actor: Actor, licence: Licence, surface: dict[str, Any], reason: str,
                   holder_name: str = "", case_id: int | None = None,
                   case_number: str = "") -> Licence:
    """变更: issue the next version of the licence (same serial, version + 1) with the surface
    values in ``surface`` replacing the current ones; this version becomes "changed"."""
    licence = _lock(licence)
    if not policies.can_manage_licence(actor, licence):
        raise AccessDenied(_("只有签发部门可以变更该证照"))
    reason = _reason(reason)
    _check(licence, "change")
    if licence.version >= 999:
        raise RuleViolation([Problem("version", _("该证照的版本号已用尽"))])
    current = {entry["key"]: entry["value"] for entry in _content(licence)["surface"]}
    unknown = sorted(set(surface) - {spec["key"] for spec in licence.type.fields})
    if unknown:
        raise RuleViolation([Problem(f"surface.{key}", _("该证照类型没有此照面信息项"))
                             for key in unknown])
    holder, problems = holder_problems(
        Holder(licence.holder_kind, holder_name or licence.holder_name, licence.holder_id),
        licence.type)
    # The holder's name and code are surface values of their own (as at issue).
    values, found = surface_values(licence.type, {**current, **surface, "holder_name": holder.name,
                                                  "holder_id": holder.id})
    problems.extend(found)
    if problems:
        raise RuleViolation(problems)
    at = timezone.now()
    _move(licence, "change", reason=reason, at=at)
    new = write_licence(actor=actor, licence_type=licence.type, issuer=licence.issuer,
                        serial=licence.serial, version=licence.version + 1, holder=holder,
                        surface=values, case_id=case_id if case_id is not None else licence.case_id,
                        case_number=case_number or licence.case_number, previous=licence, at=at,
                        action="licence.changed")
    tell_holder(new, event="changed", reason=reason)
    return new


def _content(licence: Licence) -> dict[str, Any]:
    return dict(json.loads(licence.content))


def licences_expire(*, actor: Actor, now: dt.datetime | None = None) -> list[str]:
    """Mark every valid licence whose validity ended before today (Beijing time) expired; one
    transaction and audit record per licence; the holder told. Returns their identifiers.
    Run daily by the schedule ``licences.tasks.expire_licences``; idempotent."""
    today = (now or timezone.now()).astimezone(SHANGHAI).date()
    done: list[str] = []
    for pk in list(Licence.objects.filter(status=Status.VALID, valid_until__lt=today)
                   .values_list("pk", flat=True)):
        with transaction.atomic():
            licence = _lock(Licence(pk=pk))
            if licence.status != Status.VALID:
                continue  # moved on meanwhile
            at = now or timezone.now()
            _move(licence, "expire", reason="", at=at)
            audit_record(actor=actor, action="licence.expired", object_type="licence",
                         object_id=licence.pk, detail={"identifier": licence.identifier,
                                                       "valid_until": str(licence.valid_until)})
            tell_holder(licence, event="expired")
            done.append(licence.identifier)
    return done
