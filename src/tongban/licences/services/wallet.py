"""授权用证: the holder lets a department use one of their licences (for a case or a purpose, until
a date), and every use by that department is recorded in the exchange log
(``exchange.ExchangeUse``, which the holder sees under 我的数据使用记录) and audited."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.accounts.permissions import account_of
from tongban.audit.services import audit_record
from tongban.clock.deadline import SHANGHAI
from tongban.core import crypto
from tongban.core.errors import AccessDenied, Problem, RuleViolation
from tongban.exchange.models import ExchangeUse
from tongban.organizations.models import Department

from .. import policies
from ..models import Authorization, Licence, Status

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

MAX_DAYS = 366


@transaction.atomic
def authorization_grant(*, actor: Actor, licence: Licence, department: Department | None,
                        purpose: str, case_number: str = "", days: int = 30) -> Authorization:
    """The holder authorises ``department`` to use ``licence`` for ``days`` days."""
    if not policies.can_authorize(actor, licence):
        raise AccessDenied(_("只有持证人可以授权使用该证照"))
    problems: list[Problem] = []
    if department is None:
        problems.append(Problem("department", _("用证部门不存在")))
    purpose = (purpose or "").strip()
    if not purpose:
        problems.append(Problem("purpose", _("须填写用途")))
    elif len(purpose) > 200:
        problems.append(Problem("purpose", _("用途不能超过200个字符")))
    if len(case_number or "") > 32:
        problems.append(Problem("case_number", _("办件编号不能超过32个字符")))
    if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        problems.append(Problem("days", _("授权天数须为1至366之间的整数")))
    if licence.status != Status.VALID:
        problems.append(Problem("licence", _("只能授权使用有效的证照")))
    if problems:
        raise RuleViolation(problems)
    holder = account_of(actor)
    assert department is not None and holder is not None  # the holder is an account
    now = timezone.now()
    authorization = Authorization.objects.create(
        licence=licence, department=department, case_number=(case_number or "").strip(),
        purpose=purpose, granted_by=holder, granted_at=now,
        valid_until=now.astimezone(SHANGHAI).date() + dt.timedelta(days=days))
    audit_record(actor=actor, action="licence.authorized", object_type="licence",
                 object_id=licence.pk, detail={"identifier": licence.identifier,
                                               "department": department.name,
                                               "case": authorization.case_number,
                                               "until": str(authorization.valid_until)})
    return authorization


@transaction.atomic
def authorization_revoke(*, actor: Actor, authorization: Authorization) -> Authorization:
    """The holder withdraws an authorisation; later uses are refused. Again: nothing changes."""
    authorization = (Authorization.objects.select_for_update().select_related("licence")
                     .get(pk=authorization.pk))
    if not policies.can_authorize(actor, authorization.licence):
        raise AccessDenied(_("只有持证人可以撤回授权"))
    if authorization.revoked_at is None:
        authorization.revoked_at = timezone.now()
        authorization.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="licence.authorization_revoked", object_type="licence",
                     object_id=authorization.licence_id,
                     detail={"identifier": authorization.licence.identifier,
                             "department": authorization.department_id})
    return authorization


@transaction.atomic
def licence_use(*, actor: Actor, authorization: Authorization, case_number: str = "") -> Licence:
    """A department's staff use the licence the holder authorised (to read it for a case): the use
    is recorded in the exchange log under the holder's code and audited; returns the licence."""
    authorization = (Authorization.objects.select_for_update()
                     .select_related("licence", "licence__type", "licence__issuer", "department")
                     .get(pk=authorization.pk))
    if not policies.can_use(actor, authorization):
        raise AccessDenied(_("该授权不是给您所在部门的"))
    licence = authorization.licence
    today = timezone.now().astimezone(SHANGHAI).date()
    if authorization.revoked_at is not None:
        raise AccessDenied(_("持证人已撤回该授权"))
    if authorization.valid_until < today:
        raise AccessDenied(_("该授权已过期"))
    if licence.status != Status.VALID or (licence.valid_until and licence.valid_until < today):
        raise RuleViolation([Problem("licence", _("该证照已不再有效"))])
    case_number = (case_number or authorization.case_number or "").strip()[:32]
    record = audit_record(actor=actor, action="licence.used", object_type="licence",
                          object_id=licence.pk,
                          detail={"identifier": licence.identifier,
                                  "department": authorization.department.name,
                                  "authorization": authorization.pk, "case": case_number})
    ExchangeUse.objects.create(
        at=record.at, grant=None, resource=None, consumer=authorization.department,
        provider=licence.issuer, person=account_of(actor), field_keys=[s["key"] for s in licence.type.fields],
        subject_index=crypto.blind_index(licence.holder_id.upper()), case_number=case_number,
        found=True, audit_seq=record.seq, licence_identifier=licence.identifier,
        licence_name=licence.type.name, purpose=authorization.purpose)
    return licence
