"""供需对接, grants, exchange keys, held records and the audited exchange (issue 12 §4–§5).

The demand's state machine is :data:`TRANSITIONS` (action → states it may start from, state it
leads to): every service checks the move there, writes the status, a :class:`DataRequestEvent`
and an audit record in one transaction. Stage due instants are on the platform's working-day
clock (:func:`stage_due`): the data bureau checks within 2 working days; the provider answers
within 5 (10 when the resource has no published version yet).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.accounts.permissions import account_of
from tongban.audit.services import audit_record
from tongban.catalog.models import Item
from tongban.clock import selectors as clock
from tongban.clock.deadline import TIME_LIMITED, compute_deadline
from tongban.core.errors import AccessDenied, Problem, RuleViolation
from tongban.organizations.models import Department

from .. import policies
from ..models import (
    Credential,
    DataElement,
    DataGap,
    DataRequest,
    DataRequestEvent,
    Grant,
    Resource,
    ResourceField,
    ResourceStatus,
    ResourceVersion,
    ShareType,
)
from ..models import RequestStatus as S
from . import announcements

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

# --- the demand's state machine --------------------------------------------------------------

TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    # The data bureau's check (2 working days).
    "grant": (frozenset({S.CHECKING}), S.GRANTED),            # 无条件共享: granted directly
    "forward": (frozenset({S.CHECKING}), S.AT_PROVIDER),      # 有条件共享: to the provider
    "refuse_check": (frozenset({S.CHECKING}), S.REFUSED),     # 不予共享, or a faulty demand
    "gap": (frozenset({S.CHECKING}), S.GAP),                  # no resource: 需求清单 → 责任清单
    # The provider's answer (5 working days, 10 when the resource must first be published).
    "approve": (frozenset({S.AT_PROVIDER}), S.GRANTED),
    "refuse": (frozenset({S.AT_PROVIDER}), S.REFUSED),
    # The requester, before a decision.
    "withdraw": (frozenset({S.CHECKING, S.AT_PROVIDER}), S.WITHDRAWN),
}
OPEN = frozenset({S.CHECKING, S.AT_PROVIDER})
FINAL = frozenset({S.GRANTED, S.REFUSED, S.GAP, S.WITHDRAWN})
ACTION_LABELS: dict[str, Any] = {
    "file": _("提出需求"),
    "grant": _("审核通过，直接授权（无条件共享）"),
    "forward": _("审核通过，转提供方答复"),
    "refuse_check": _("审核不予共享"),
    "gap": _("列入需求清单"),
    "approve": _("提供方同意共享"),
    "refuse": _("提供方不予共享"),
    "withdraw": _("撤回需求"),
}

# Audit actions are ``<noun>.<verb-ed>``: ``data_request.filed``, ``data_request.forwarded`` …
AUDIT_VERBS = {"file": "filed", "grant": "granted", "forward": "forwarded",
               "refuse_check": "refused", "gap": "listed_as_gap", "approve": "approved",
               "refuse": "refused", "withdraw": "withdrawn"}

CHECK_DAYS = 2
ANSWER_DAYS = 5
ANSWER_DAYS_UNPUBLISHED = 10
KEY_PREFIX = "tbx_"
MAX_KEY_DAYS = 366
MAX_RECORD_ROWS = 200_000


def stage_due(start: dt.datetime, working_days: int) -> dt.datetime:
    """The close of the ``working_days``-th working day after ``start`` on the platform's
    working-day clock (the same rule as a case's due instant)."""
    return compute_deadline(start=start, category=TIME_LIMITED, limit=working_days,
                            calendar=clock.work_calendar(), hours=clock.office_hours()).due


def published_version(resource: Resource) -> ResourceVersion | None:
    version = resource.current
    return version if version is not None and version.status == ResourceStatus.PUBLISHED else None


def describing_version(resource: Resource) -> ResourceVersion | None:
    """The published version, else the newest one (a resource still being catalogued)."""
    return published_version(resource) or resource.versions.order_by("-version").first()


def _event(request: DataRequest, *, actor: Actor | None, action: str, from_status: str,
           reason: str = "") -> None:
    user = account_of(actor)
    DataRequestEvent.objects.create(
        request=request, at=timezone.now(), actor=user, actor_name=str(user or "")[:150],
        action=action, from_status=from_status, to_status=request.status, reason=reason)
    audit_record(actor=actor, action=f"data_request.{AUDIT_VERBS[action]}",
                 object_type="exchange.DataRequest",
                 object_id=request.number,
                 detail={"from": from_status, "to": request.status, "reason": reason[:500]})
    announcements.demand_moved(request, action, from_status=from_status)


def _move(request: DataRequest, action: str, *, actor: Actor | None, reason: str = "",
          due_days: int | None = None) -> None:
    allowed, target = TRANSITIONS[action]
    if request.status not in allowed:
        raise RuleViolation([Problem("status", _("需求%(n)s当前状态为“%(s)s”，不能%(a)s") % {
            "n": request.number, "s": S(request.status).label, "a": ACTION_LABELS[action]})])
    before = request.status
    now = timezone.now()
    request.status = target
    if target in OPEN:
        request.stage_started_at = now
        request.stage_due_at = stage_due(now, due_days or ANSWER_DAYS)
    else:
        request.decided_at = now
    request.save()
    _event(request, actor=actor, action=action, from_status=before, reason=reason)


def _locked(request: DataRequest) -> DataRequest:
    return DataRequest.objects.select_for_update(of=("self",)).select_related(
        "resource", "resource__current", "resource__provider", "requester").get(pk=request.pk)


def _next_number(now: dt.datetime) -> str:
    prefix = f"XQ{timezone.localtime(now):%Y%m%d}"
    last = (DataRequest.objects.filter(number__startswith=prefix).order_by("-number")
            .values_list("number", flat=True).first())
    serial = int(last[len(prefix):]) + 1 if last else 1
    return f"{prefix}{serial:04d}"


@transaction.atomic
def data_request_file(*, actor: Actor, department: Department | None = None,
                      resource: Resource | None = None, field_keys: Sequence[str] = (),
                      wanted_elements: Sequence[str] = (), description: str = "",
                      purpose: str, legal_basis: str, scenarios: str = "",
                      related_items: Sequence[str] = (), period_from: dt.date | None = None,
                      period_to: dt.date | None = None) -> DataRequest:
    """A department's data officer files a demand: a resource and some of its data items, or
    (when no resource provides the data) the wanted data elements with a description."""
    department = department or getattr(actor, "department", None)
    if department is None or not policies.is_department_data_officer(actor, department.pk):
        raise AccessDenied(_("只有本部门的数据管理员可以提出共享需求"))
    problems: list[Problem] = []
    keys = [k.strip() for k in field_keys if k and k.strip()]
    wanted: list[DataElement] = []
    if resource is not None:
        version = describing_version(resource)
        if version is None:
            problems.append(Problem("resource", _("资源%(c)s尚无目录内容，不能申请") % {
                "c": resource.code}))
        else:
            known = set(version.fields.values_list("key", flat=True))
            unknown = [k for k in keys if k not in known]
            if not keys:
                problems.append(Problem("field_keys", _("请选择所需的信息项")))
            if unknown:
                problems.append(Problem("field_keys", _("资源%(c)s没有信息项：%(k)s") % {
                    "c": resource.code, "k": "、".join(unknown)}))
        if resource.provider_id == department.pk:
            problems.append(Problem("resource", _("不能申请本部门提供的资源")))
    else:
        ids = sorted({i.strip() for i in wanted_elements if i and i.strip()})
        wanted = list(DataElement.objects.filter(identifier__in=ids))
        missing = sorted(set(ids) - {e.identifier for e in wanted})
        if not ids:
            problems.append(Problem("wanted_elements",
                                    _("未指定资源时，请列出所需的数据元并说明需求")))
        if missing:
            problems.append(Problem("wanted_elements", _("数据元不存在：%(ids)s") % {
                "ids": "、".join(missing)}))
        if not description.strip():
            problems.append(Problem("description", _("未指定资源时，须填写需求说明")))
    if not purpose.strip():
        problems.append(Problem("purpose", _("请填写用途")))
    if not legal_basis.strip():
        problems.append(Problem("legal_basis", _("请填写依据（法律法规或政策文件）")))
    items = [c.strip() for c in related_items if c and c.strip()]
    found = set(Item.objects.filter(implementation_code__in=items)
                .values_list("implementation_code", flat=True))
    if [c for c in items if c not in found]:
        problems.append(Problem("related_items", _("事项实施编码不存在：%(c)s") % {
            "c": "、".join(c for c in items if c not in found)}))
    if period_from and period_to and period_to < period_from:
        problems.append(Problem("period_to", _("使用期限的结束日期不能早于开始日期")))
    if problems:
        raise RuleViolation(problems)
    now = timezone.now()
    fields: dict[str, Any] = dict(
        requester=department, requested_by=account_of(actor),
        resource=resource, field_keys=keys if resource is not None else [],
        description=description.strip(), purpose=purpose.strip(), legal_basis=legal_basis.strip(),
        scenarios=scenarios.strip(), related_items=items, period_from=period_from,
        period_to=period_to, status=S.CHECKING, stage_started_at=now,
        stage_due_at=stage_due(now, CHECK_DAYS))
    for attempt in range(5):
        # Two demands filed at once may draw the same number (PostgreSQL): the second waits on
        # the unique index, fails, and draws again from the number the first committed.
        try:
            with transaction.atomic():
                request = DataRequest.objects.create(number=_next_number(now), **fields)
            break
        except IntegrityError:
            if attempt == 4:
                raise
    if wanted:
        request.wanted_elements.set(wanted)
    _event(request, actor=actor, action="file", from_status="")
    return request


def _make_grant(request: DataRequest, *, masked_keys: Iterable[str] = (),
                calls_per_minute: int = 60) -> Grant:
    assert request.resource is not None
    masked = [k for k in masked_keys if k in request.field_keys]
    return Grant.objects.create(
        request=request, consumer=request.requester, resource=request.resource,
        field_keys=list(request.field_keys), masked_keys=masked, purpose=request.purpose,
        valid_from=request.period_from or timezone.localdate(), valid_until=request.period_to,
        calls_per_minute=calls_per_minute, granted_at=timezone.now())


@transaction.atomic
def data_request_check(*, actor: Actor, request: DataRequest,
                       responsible: Department | None = None, refuse_reason: str = "",
                       note: str = "") -> DataRequest:
    """The data bureau checks a demand: by the resource's share type 无条件共享 → granted,
    有条件共享 → to the provider, 不予共享 → refused with the resource's basis; for data no
    resource provides → the gap list, with ``responsible`` the department to provide it.
    ``refuse_reason``: the bureau refuses a faulty demand itself."""
    if not policies.is_data_bureau(actor):
        raise AccessDenied(_("只有数据管理部门可以审核共享需求"))
    request = _locked(request)
    if request.status != S.CHECKING:
        _move(request, "grant", actor=actor)  # raises the state problem
    if refuse_reason.strip():
        request.decision_reason = refuse_reason.strip()
        _move(request, "refuse_check", actor=actor, reason=refuse_reason.strip())
        return request
    if request.resource is None:
        if responsible is None:
            raise RuleViolation([Problem("responsible",
                                         _("列入需求清单时须指定负责提供数据的部门"))])
        DataGap.objects.create(request=request, responsible=responsible, note=note.strip())
        _move(request, "gap", actor=actor, reason=note.strip() or responsible.name)
        return request
    version = published_version(request.resource)
    if version is None:
        # Not yet published: nothing reviewed says it may be shared at once; the provider answers
        # (and must first publish it), within the longer limit.
        _move(request, "forward", actor=actor, reason=note.strip(),
              due_days=ANSWER_DAYS_UNPUBLISHED)
    elif version.share_type == ShareType.UNCONDITIONAL:
        _make_grant(request)
        request.decision_reason = note.strip()
        _move(request, "grant", actor=actor, reason=note.strip())
    elif version.share_type == ShareType.CONDITIONAL:
        _move(request, "forward", actor=actor, reason=note.strip(), due_days=ANSWER_DAYS)
    else:
        request.decision_reason = str(_("该资源为不予共享"))
        request.refusal_basis = version.share_basis
        _move(request, "refuse_check", actor=actor, reason=version.share_basis)
    return request


@transaction.atomic
def data_request_answer(*, actor: Actor, request: DataRequest, approve: bool,
                        masked_keys: Sequence[str] = (), reason: str = "",
                        legal_basis: str = "", calls_per_minute: int = 60) -> DataRequest:
    """The provider's data officer answers a conditional demand: approve (a grant, with the
    items to be masked chosen) or refuse (reasons and the legal basis required)."""
    request = _locked(request)
    assert request.resource is not None or request.status != S.AT_PROVIDER
    provider_id = request.resource.provider_id if request.resource else None
    if not policies.is_department_data_officer(actor, provider_id):
        raise AccessDenied(_("只有资源提供部门的数据管理员可以答复该需求"))
    if approve:
        unknown = [k for k in masked_keys if k not in request.field_keys]
        problems = []
        if unknown:
            problems.append(Problem("masked_keys", _("脱敏信息项须为所申请的信息项：%(k)s") % {
                "k": "、".join(unknown)}))
        if not 1 <= calls_per_minute <= 6000:
            problems.append(Problem("calls_per_minute", _("每分钟调用上限应在1至6000之间")))
        if problems:
            raise RuleViolation(problems)
        _move(request, "approve", actor=actor, reason=reason.strip())
        _make_grant(request, masked_keys=masked_keys, calls_per_minute=calls_per_minute)
        request.decision_reason = reason.strip()
    else:
        problems = []
        if not reason.strip():
            problems.append(Problem("reason", _("不予共享须说明理由")))
        if not legal_basis.strip():
            problems.append(Problem("legal_basis", _("不予共享须写明法律法规或政策依据")))
        if problems:
            raise RuleViolation(problems)
        request.decision_reason = reason.strip()
        request.refusal_basis = legal_basis.strip()
        _move(request, "refuse", actor=actor, reason=reason.strip())
    request.save(update_fields=["decision_reason", "refusal_basis"])
    return request


@transaction.atomic
def data_request_withdraw(*, actor: Actor, request: DataRequest, reason: str = "") -> DataRequest:
    request = _locked(request)
    if not policies.is_department_data_officer(actor, request.requester_id):
        raise AccessDenied(_("只有需求部门的数据管理员可以撤回需求"))
    _move(request, "withdraw", actor=actor, reason=reason.strip())
    return request


# --- grants and keys ----------------------------------------------------------------------------

def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@transaction.atomic
def credential_issue(*, actor: Actor, grant: Grant, days: int,
                     key: str | None = None) -> tuple[Credential, str]:
    """A new exchange key of ``grant``: returned once with its row; only its SHA-256 digest and
    prefix are kept. ``key``: a given key (the demo's, derived in DEBUG only)."""
    if not policies.is_department_data_officer(actor, grant.consumer_id):
        raise AccessDenied(_("只有使用部门的数据管理员可以领取该授权的密钥"))
    problems = []
    if grant.revoked_at is not None:
        problems.append(Problem("grant", _("该授权已撤销，不能签发密钥")))
    if not 1 <= days <= MAX_KEY_DAYS:
        problems.append(Problem("days", _("密钥有效期应在1至%(n)s天之间") % {"n": MAX_KEY_DAYS}))
    if problems:
        raise RuleViolation(problems)
    key = key or KEY_PREFIX + secrets.token_urlsafe(32)
    credential = Credential.objects.create(
        grant=grant, prefix=key[:12], digest=key_digest(key), issued_to=account_of(actor),
        expires_at=timezone.now() + dt.timedelta(days=days))
    audit_record(actor=actor, action="exchange_key.issued", object_type="exchange.Credential",
                 object_id=credential.pk,
                 detail={"grant": grant.pk, "prefix": credential.prefix, "days": days})
    return credential, key


@transaction.atomic
def credential_revoke(*, actor: Actor, credential: Credential) -> Credential:
    grant = credential.grant
    if not (policies.can_act_for_department(actor, grant.consumer_id)
            or policies.can_act_for_department(actor, grant.resource.provider_id)):
        raise AccessDenied(_("您无权吊销该密钥"))
    if credential.revoked_at is None:
        credential.revoked_at = timezone.now()
        credential.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="exchange_key.revoked", object_type="exchange.Credential",
                     object_id=credential.pk, detail={"prefix": credential.prefix})
    return credential


@transaction.atomic
def grant_revoke(*, actor: Actor, grant: Grant, reason: str) -> Grant:
    """The provider (or the data bureau, or the consumer giving it up) ends a grant; its keys stop
    working at once."""
    if not (policies.can_act_for_department(actor, grant.resource.provider_id)
            or policies.can_act_for_department(actor, grant.consumer_id)):
        raise AccessDenied(_("您无权撤销该授权"))
    if not reason.strip():
        raise RuleViolation([Problem("reason", _("撤销授权须说明原因"))])
    if grant.revoked_at is not None:
        raise RuleViolation([Problem("grant", _("该授权已撤销"))])
    grant.revoked_at = timezone.now()
    grant.revoke_reason = reason.strip()
    grant.save(update_fields=["revoked_at", "revoke_reason"])
    audit_record(actor=actor, action="data_grant.revoked", object_type="exchange.Grant",
                 object_id=grant.pk, detail={"reason": reason.strip()[:500]})
    announcements.grant_revoked(grant)
    return grant


def credential_authenticate(key: str) -> Credential | None:
    """The live credential of an exchange key: not expired, not revoked; else None."""
    return credential_check(key)[0]


def credential_check(key: str) -> tuple[Credential | None, str]:
    """(the live credential of an exchange key, "") or (None, why not — a sentence for the
    caller: not a key, unknown, revoked, expired)."""
    if not key or not key.startswith(KEY_PREFIX):
        return None, str(_("不是有效的数据交换密钥（密钥以%(p)s开头）") % {"p": KEY_PREFIX})
    credential = (Credential.objects.select_related("grant", "grant__resource", "issued_to")
                  .filter(digest=key_digest(key)).first())
    if credential is None:
        return None, str(_("数据交换密钥不存在，请核对或重新领取"))
    if credential.revoked_at is not None:
        return None, str(_("该数据交换密钥已于%(at)s吊销") % {
            "at": timezone.localtime(credential.revoked_at).strftime("%Y-%m-%d %H:%M")})
    if credential.expires_at <= timezone.now():
        return None, str(_("该数据交换密钥已于%(at)s过期，请重新领取") % {
            "at": timezone.localtime(credential.expires_at).strftime("%Y-%m-%d %H:%M")})
    return credential, ""


def _fields(version: ResourceVersion) -> list[ResourceField]:
    return list(version.fields.select_related("element").order_by("position"))


def subject_field(version: ResourceVersion) -> ResourceField | None:
    return next((f for f in _fields(version) if f.is_subject), None)


# --- the exchange -----------------------------------------------------------------------------

def demo_key(grant_id: int) -> str:
    """A demo-only exchange key derived from the SECRET_KEY (DEBUG only; documented)."""
    if not settings.DEBUG:
        raise RuntimeError("demo keys exist only in DEBUG")
    digest = hashlib.sha256(f"tongban-demo-exchange-{grant_id}-{settings.SECRET_KEY}".encode())
    return KEY_PREFIX + "demo" + digest.hexdigest()[:40]
