"""One consumer call of the exchange (``GET /api/v1/exchange/{resource_code}``): the grant and
its rate checked, the provider's data read (held records) or fetched (its interface, outside any
transaction), masked as the grant says, and every call recorded — an answered one as an
``ExchangeUse`` and an ``exchange.read`` audit record, a refused one as ``exchange.refused``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.accounts.masking import mask_address, mask_id_number, mask_name, mask_phone
from tongban.audit.services import audit_record
from tongban.clock.deadline import SHANGHAI
from tongban.core import crypto

from .. import elements
from ..models import (
    Checker,
    Credential,
    DataElement,
    DataType,
    ExchangeUse,
    Grant,
    ResourceRecord,
    ShareMethod,
)
from .sharing import published_version, subject_field

# ``(case number, consumer department id) → None, or why the number may not be given``: the
# cases app (a floor above) registers its check when Django starts (``CasesConfig.ready``). A
# number given with a call must be a case the consumer department handles — the use is then
# shown to the citizen against that case.
case_checks: list[Callable[[str, int], str | None]] = []


@dataclass
class ExchangeAnswer:
    """What the exchange answers: ``status`` 200 with ``body``, or an error with ``detail``."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)
    detail: str = ""


def mask_value(element: DataElement, value: Any) -> Any:
    """A value shown masked where the grant says so (domain §10): ID numbers and USCCs keep
    4+4 characters, phones 3+4, long texts (addresses) their first six, names their first."""
    if value is None:
        return None
    text = str(value)
    if element.checker in (Checker.ID_NUMBER, Checker.USCC):
        return mask_id_number(text)
    if element.checker in (Checker.MOBILE, Checker.PHONE):
        return mask_phone(text)
    if element.data_type == DataType.STRING and (element.max_length or 0) >= 100:
        return mask_address(text)
    if element.data_type == DataType.STRING:
        # One character would be shown whole by the name mask: hide it.
        return mask_name(text) if len(text) > 1 else "*"
    return "*" * len(text)


def _grant_problem(grant: Grant) -> ExchangeAnswer | None:
    """Why the grant cannot be used now, read from its row locked for this call (a revocation
    committed a moment ago counts), or None."""
    row = Grant.objects.select_for_update().filter(pk=grant.pk).values_list(
        "revoked_at", "valid_from", "valid_until").first()
    if row is None or row[0] is not None:
        return ExchangeAnswer(403, detail=str(_("该共享授权已撤销")))
    today = timezone.localdate()
    if today < row[1] or (row[2] is not None and today > row[2]):
        return ExchangeAnswer(403, detail=str(_("不在共享授权的有效期内")))
    return None


def _rate_exceeded(grant: Grant, now: dt.datetime) -> bool:
    """Over the grant's per-minute rate: the calls of the last 60 seconds, counted in the database
    while the grant's row is locked (``_grant_problem``), so right across processes."""
    recent = ExchangeUse.objects.filter(grant=grant, at__gt=now - dt.timedelta(seconds=60)).count()
    return recent >= grant.calls_per_minute


def _refused(credential: Credential, resource_code: str, answer: ExchangeAnswer,
             subject: str = "") -> ExchangeAnswer:
    """A call the exchange refused is an exercise of power too: recorded in the audit chain
    (``exchange.refused``: the key, the resource asked, why, the subject's blind index when it
    was a valid one), in a transaction of its own."""
    grant = credential.grant
    with transaction.atomic():
        audit_record(
            actor=credential.issued_to, action="exchange.refused",
            object_type="exchange.Resource", object_id=resource_code[:60],
            detail={"consumer": grant.consumer_id, "grant": grant.pk, "key": credential.prefix,
                    "status": answer.status, "reason": answer.detail,
                    "subject_index": crypto.blind_index(subject) if subject else ""})
    return answer


def _guarded(credential: Credential, now: dt.datetime) -> ExchangeAnswer | None:
    """Inside the caller's transaction: the grant usable, and under its rate."""
    problem = _grant_problem(credential.grant)
    if problem is None and _rate_exceeded(credential.grant, now):
        problem = ExchangeAnswer(429, detail=str(_("超过该授权每分钟%(n)s次的调用上限，请稍后重试") % {
            "n": credential.grant.calls_per_minute}))
    return problem


def exchange_read(*, credential: Credential, resource_code: str, subject: str,
                  items: Sequence[str] | None = None, case_number: str = "") -> ExchangeAnswer:
    """One consumer call of the exchange. Every call answered (found or not) is recorded as an
    :class:`ExchangeUse` and an ``exchange.read`` audit record, in one transaction; every call
    refused (not granted, revoked, over the rate, a bad subject, the provider failing) as an
    ``exchange.refused`` audit record.

    A provider's interface is called outside any transaction (a slow provider must not hold the
    database's write lock, nor the grant's row): the grant and the rate are checked just before
    the call and again when its use is recorded.
    """
    from ..adapters import AdapterError, adapter_for

    grant = credential.grant
    resource = grant.resource
    if resource.code != resource_code:
        return _refused(credential, resource_code, ExchangeAnswer(
            403, detail=str(_("该密钥未获授权访问资源%(c)s") % {"c": resource_code})))
    asked = [k.strip() for k in items if k.strip()] if items else list(grant.field_keys)
    refused = [k for k in asked if k not in grant.field_keys]
    if refused:
        return _refused(credential, resource_code, ExchangeAnswer(
            403, detail=str(_("未获授权的信息项：%(k)s") % {"k": "、".join(refused)})))
    case_number = (case_number or "").strip()
    if len(case_number) > 40:
        return _refused(credential, resource_code, ExchangeAnswer(
            422, detail=str(_("办件编号不能超过40个字符"))))
    if case_number and not case_checks:
        raise ImproperlyConfigured("no case check registered (tongban.cases registers one)")
    for check in case_checks if case_number else ():
        message = check(case_number, grant.consumer_id)
        if message is not None:
            return _refused(credential, resource_code, ExchangeAnswer(422, detail=message))
    version = published_version(resource)
    subject_item = subject_field(version) if version else None
    if version is None or subject_item is None:
        return _refused(credential, resource_code, ExchangeAnswer(
            404, detail=str(_("资源%(c)s没有可查询的主体标识") % {"c": resource.code})))
    rule = elements.rule_of(subject_item.element)
    cleaned, message = elements.clean(rule, subject or "", label=subject_item.name)
    if message is not None:
        return _refused(credential, resource_code, ExchangeAnswer(422, detail=str(message)))
    subject = str(cleaned)
    elements_by_key = {f.key: f.element for f in version.fields.select_related("element")}
    values: dict[str, Any] | None = None
    as_of = timezone.now()
    if version.share_method == ShareMethod.INTERFACE:
        with transaction.atomic():
            problem = _guarded(credential, timezone.now())
        if problem is not None:
            return _refused(credential, resource_code, problem, subject)
        try:
            values = adapter_for(version).fetch(version, subject)
        except AdapterError as exc:
            return _refused(credential, resource_code, ExchangeAnswer(502, detail=str(exc)),
                            subject)
    with transaction.atomic():
        now = timezone.now()
        problem = _guarded(credential, now)
        if problem is not None:
            transaction.set_rollback(True)
        elif version.share_method != ShareMethod.INTERFACE:
            record = (ResourceRecord.objects.filter(
                resource=resource, subject_index__in=crypto.blind_indexes(subject))
                .order_by("-as_of", "-pk").only("values", "as_of").first())
            values = record.values if record is not None else None
            as_of = record.as_of if record is not None else now
        else:
            as_of = now
        if problem is None:
            found = values is not None
            person = credential.issued_to
            audit = audit_record(
                actor=person, action="exchange.read", object_type="exchange.Resource",
                object_id=resource.code,
                detail={"consumer": grant.consumer_id, "grant": grant.pk,
                        "key": credential.prefix, "items": asked, "case": case_number,
                        "found": found, "subject_index": crypto.blind_index(subject)})
            ExchangeUse.objects.create(
                at=now, grant=grant, consumer_id=grant.consumer_id,
                provider_id=resource.provider_id, resource=resource, person=person,
                field_keys=asked, subject_index=crypto.blind_index(subject),
                case_number=case_number, found=found, audit_seq=audit.seq)
            Credential.objects.filter(pk=credential.pk).update(last_used_at=now)
    if problem is not None:
        return _refused(credential, resource_code, problem, subject)
    if values is None:
        return ExchangeAnswer(404, detail=str(_("未查得该主体的记录")))
    masked = set(grant.masked_keys)
    out = {}
    for key in asked:
        value = values.get(key)
        if key in masked and value is not None:
            element = elements_by_key.get(key)
            # An item no longer described by the published version is masked all the same.
            out[key] = mask_value(element, value) if element else "*" * len(str(value))
        else:
            out[key] = value
    return ExchangeAnswer(200, body={
        "resource": resource.code, "subject": mask_id_number(subject), "items": out,
        "source": resource.provider.name,
        "as_of": as_of.astimezone(SHANGHAI).isoformat(timespec="seconds")})
