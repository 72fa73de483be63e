"""Issuing an e-licence: identifier, surface data, signed canonical content, audit.

:func:`licence_issue` runs inside its caller's transaction (a case's delivery) or opens its own;
it has no door of its own: the case services have checked who delivers, and the system issues
the demo's licences.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.audit.services import audit_record
from tongban.clock.deadline import SHANGHAI
from tongban.core.errors import Problem, RuleViolation
from tongban.exchange.elements import check_identifier, clean
from tongban.exchange.elements import rules as element_rules
from tongban.exchange.models import Checker
from tongban.organizations.models import Department

from .. import identifiers, signing
from ..models import HolderKind, Licence, LicenceType, SerialCounter, Status, Validity
from .notify import tell_holder

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

SERIAL_DIGITS = 10


@dataclass(frozen=True)
class Holder:
    """Who holds the licence: a person (公民身份号码) or an organisation (统一社会信用代码)."""

    kind: str
    name: str
    id: str


def holder_problems(holder: Holder, licence_type: LicenceType) -> tuple[Holder, list[Problem]]:
    """The holder with its identifier compacted, and its problems. The type's ``holder_kind`` is
    whom it is meant for; a holder of the other kind is recorded as such (a company registered
    this moment has no USCC yet: its applicant holds its first licence)."""
    problems: list[Problem] = []
    if holder.kind not in HolderKind.values:
        problems.append(Problem("holder.kind", _("持证主体类型须为自然人或法人及其他组织")))
    if not holder.name.strip():
        problems.append(Problem("holder.name", _("须填写持证主体名称")))
    checker = Checker.ID_NUMBER if holder.kind == HolderKind.NATURAL_PERSON else Checker.USCC
    label = _("公民身份号码") if checker == Checker.ID_NUMBER else _("统一社会信用代码")
    number, message = check_identifier(checker, holder.id or "", label)
    if message is not None:
        problems.append(Problem("holder.id", message))
        number = holder.id
    return Holder(holder.kind, holder.name.strip(), str(number)), problems


def surface_values(licence_type: LicenceType, values: dict[str, Any]) -> tuple[list[dict[str, Any]],
                                                                              list[Problem]]:
    """The type's surface fields with their values, each checked by its data element."""
    found = element_rules(s["element"] for s in licence_type.fields if s.get("element"))
    surface: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for spec in licence_type.fields:
        key, name = spec["key"], spec["name"]
        value = values.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if spec.get("required", True):
                problems.append(Problem(f"surface.{key}", _("照面信息“%(name)s”不能为空") % {
                    "name": name}))
            value = ""
        elif spec.get("element"):
            rule = found.get(spec["element"])
            if rule is not None:
                value, message = clean(rule, value, label=name)
                if message is not None:
                    problems.append(Problem(f"surface.{key}", message))
        surface.append({"key": key, "name": name, "element": spec.get("element", ""),
                        "value": value if isinstance(value, str | int | bool) else str(value)})
    return surface, problems


def valid_until(licence_type: LicenceType, valid_from: dt.date) -> dt.date | None:
    if licence_type.validity != Validity.YEARS or not licence_type.validity_years:
        return None
    year = valid_from.year + licence_type.validity_years
    try:
        end = valid_from.replace(year=year)
    except ValueError:  # 29 February
        end = valid_from.replace(year=year, day=28)
    return end - dt.timedelta(days=1)


def _next_serial(licence_type: LicenceType, issuer: Department) -> str:
    counter, _created = SerialCounter.objects.get_or_create(type=licence_type, issuer=issuer)
    counter = SerialCounter.objects.select_for_update().get(pk=counter.pk)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{counter.last:0{SERIAL_DIGITS}d}"


def content_of(*, identifier: str, licence_type: LicenceType, issuer: Department, serial: str,
               version: int, holder: Holder, surface: list[dict[str, Any]], issued_at: dt.datetime,
               valid_from: dt.date, until: dt.date | None, case_number: str,
               previous: str) -> dict[str, Any]:
    """What is signed: everything the licence says, nothing that changes later (its status)."""
    return {
        "format": signing.FORMAT, "identifier": identifier,
        "type": {"code": licence_type.code, "name": licence_type.name},
        "issuer": {"uscc": issuer.uscc, "name": issuer.name},
        "serial": serial, "version": version,
        "holder": {"kind": holder.kind, "name": holder.name, "id": holder.id},
        "surface": surface,
        "issued_at": issued_at.astimezone(SHANGHAI).isoformat(timespec="seconds"),
        "valid_from": valid_from.isoformat(),
        "valid_until": until.isoformat() if until else None,
        "case": case_number or None, "previous": previous or None,
    }


def write_licence(*, actor: Actor, licence_type: LicenceType, issuer: Department, serial: str,
                  version: int, holder: Holder, surface: list[dict[str, Any]],
                  case_id: int | None, case_number: str, previous: Licence | None,
                  at: dt.datetime, action: str) -> Licence:
    """Sign and store one version; audited as ``action``."""
    identifier = identifiers.build(licence_type.code, issuer.uscc, serial, version)
    valid_from = at.astimezone(SHANGHAI).date()
    until = valid_until(licence_type, valid_from)
    content = content_of(identifier=identifier, licence_type=licence_type, issuer=issuer,
                         serial=serial, version=version, holder=holder, surface=surface,
                         issued_at=at, valid_from=valid_from, until=until,
                         case_number=case_number,
                         previous=previous.identifier if previous else "")
    text = signing.canonical(content)
    algorithm, key_id, signature = signing.sign(text)
    licence = Licence.objects.create(
        identifier=identifier, type=licence_type, issuer=issuer, serial=serial, version=version,
        status=Status.VALID, holder_kind=holder.kind, holder_name=holder.name,
        holder_id=holder.id, content=text, signature=signature, signature_algorithm=algorithm,
        key_id=key_id, issued_at=at, valid_from=valid_from, valid_until=until, case_id=case_id,
        case_number=case_number, previous=previous)
    audit_record(actor=actor, action=action, object_type="licence", object_id=licence.pk,
                 detail={"identifier": identifier, "type": licence_type.code,
                         "issuer": issuer.uscc, "version": version, "case": case_number,
                         "key_id": key_id})
    return licence


@transaction.atomic
def licence_issue(*, actor: Actor, licence_type: LicenceType, issuer: Department, holder: Holder,
                  surface: dict[str, Any], case_id: int | None = None, case_number: str = "",
                  at: dt.datetime | None = None) -> Licence:
    """Issue version 001 of a new licence of ``licence_type`` to ``holder``.

    ``surface`` holds values by key; the type's fields are taken from it and checked by their
    data elements. A fault raises :class:`RuleViolation` naming ``holder.*`` or ``surface.*``,
    and nothing is written (the caller's delivery with it). The holder is told after commit.
    """
    problems: list[Problem] = []
    if not licence_type.active:
        problems.append(Problem("licence_type", _("证照类型“%(name)s”已停用") % {
            "name": licence_type.name}))
    if len(issuer.uscc or "") != 18:
        problems.append(Problem("issuer", _("签发部门“%(name)s”没有有效的统一社会信用代码") % {
            "name": issuer.name}))
    holder, found = holder_problems(holder, licence_type)
    problems.extend(found)
    # The holder's name and code are surface values of their own (holder_name, holder_id).
    values, found = surface_values(licence_type, {"holder_name": holder.name,
                                                  "holder_id": holder.id, **surface})
    problems.extend(found)
    if problems:
        raise RuleViolation(problems)
    at = at or timezone.now()
    licence = write_licence(actor=actor, licence_type=licence_type, issuer=issuer,
                            serial=_next_serial(licence_type, issuer), version=1, holder=holder,
                            surface=values, case_id=case_id, case_number=case_number,
                            previous=None, at=at, action="licence.issued")
    tell_holder(licence, event="issued")
    return licence


def licence_type_for_result(result_name: str) -> LicenceType | None:
    """The active type an item's result (审批结果名称) names: by its name or one of its aliases."""
    name = (result_name or "").strip()
    if not name:
        return None
    found = LicenceType.objects.filter(active=True, name=name).select_related("department").first()
    if found is not None:
        return found
    for candidate in LicenceType.objects.filter(active=True):
        if name in candidate.aliases:
            return candidate
    return None
