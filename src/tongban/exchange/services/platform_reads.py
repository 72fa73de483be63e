"""The platform's own reads of the exchange for a case (秒批: ``tongban.decisions`` reads the
data its rules need). Not a consumer call with a key: the platform reads for a case of a
department that holds a grant for the resource, only the granted items, masked as the grant
says, and records the read exactly like a consumer call — an ``ExchangeUse`` (no key holder:
``person`` empty) and an ``exchange.read`` audit record — so the citizen sees it on their own
data-use page against the case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.audit.services import audit_record
from tongban.core import crypto

from .. import elements
from ..models import ExchangeUse, Grant, ResourceRecord, ShareMethod
from .exchange_calls import mask_value
from .sharing import published_version, subject_field


@dataclass
class PlatformRead:
    """What a read found: ``values`` (None when not found) or why nothing was read."""

    found: bool
    values: dict[str, Any] = field(default_factory=dict)
    problem: str = ""
    source: str = ""


def grant_for(department_id: int, resource_code: str, items: Sequence[str]) -> Grant | None:
    """A grant of ``department_id`` for the resource, valid today, covering ``items``."""
    today = timezone.localdate()
    grants = (Grant.objects.select_related("resource", "resource__provider")
              .filter(consumer_id=department_id, resource__code=resource_code, revoked_at=None,
                      valid_from__lte=today)
              .filter(Q(valid_until=None) | Q(valid_until__gte=today)).order_by("-granted_at"))
    for grant in grants:
        if set(items) <= set(grant.field_keys):
            return grant
    return None


def platform_read(*, actor: Any, department_id: int, resource_code: str, subject: str,
                  items: Sequence[str], case_number: str) -> PlatformRead:
    """Read ``items`` of ``subject`` from the resource for a case of ``department_id``.

    A 库表/文件 resource is read from the held records; a 接口 resource through its adapter,
    outside any transaction. Every answered read is an ``ExchangeUse`` and an audit record.
    """
    from ..adapters import AdapterError, adapter_for

    grant = grant_for(department_id, resource_code, items)
    if grant is None:
        return PlatformRead(False, problem=_("本部门没有资源%(c)s（%(i)s）的有效共享授权") % {
            "c": resource_code, "i": "、".join(items)})
    resource = grant.resource
    version = published_version(resource)
    subject_item = subject_field(version) if version else None
    if version is None or subject_item is None:
        return PlatformRead(False, problem=_("资源%(c)s没有可查询的主体标识") % {"c": resource.code})
    cleaned, message = elements.clean(elements.rule_of(subject_item.element), subject or "",
                                      label=subject_item.name)
    if message is not None:
        return PlatformRead(False, problem=str(message))
    subject = str(cleaned)
    asked = list(items) or list(grant.field_keys)
    values: dict[str, Any] | None = None
    if version.share_method == ShareMethod.INTERFACE:
        try:
            values = adapter_for(version).fetch(version, subject)
        except AdapterError as exc:
            return PlatformRead(False, problem=str(exc))
    with transaction.atomic():
        if version.share_method != ShareMethod.INTERFACE:
            record = (ResourceRecord.objects.filter(
                resource=resource, subject_index__in=crypto.blind_indexes(subject))
                .order_by("-as_of", "-pk").only("values").first())
            values = record.values if record is not None else None
        now, found = timezone.now(), values is not None
        index = crypto.blind_index(subject)
        audit = audit_record(
            actor=actor, action="exchange.read", object_type="exchange.Resource",
            object_id=resource.code,
            detail={"consumer": grant.consumer_id, "grant": grant.pk, "key": "", "platform": True,
                    "items": asked, "case": case_number, "found": found, "subject_index": index})
        ExchangeUse.objects.create(
            at=now, grant=grant, consumer_id=grant.consumer_id, provider_id=resource.provider_id,
            resource=resource, person=None, field_keys=asked, subject_index=index,
            case_number=case_number, found=found, audit_seq=audit.seq)
    source = resource.provider.name
    if values is None:
        return PlatformRead(False, source=source)
    masked = set(grant.masked_keys)
    by_key = {f.key: f.element for f in version.fields.select_related("element")}
    out = {}
    for key in asked:
        value = values.get(key)
        if key in masked and value is not None:
            element = by_key.get(key)
            out[key] = mask_value(element, value) if element else "*" * len(str(value))
        else:
            out[key] = value
    return PlatformRead(True, values=out, source=source)
