"""API of 供需对接 and the exchange: ``/api/v1/data-requests``, ``/api/v1/data-grants``,
``/api/v1/data-resources/{code}/records``, ``/api/v1/data-usage``, ``/api/v1/data-census``,
``/api/v1/me/data-uses`` and the stable consumer call ``/api/v1/exchange/{resource_code}``.

The exchange call authenticates with an exchange key (``Authorization: Bearer tbx_…``,
:class:`ExchangeKeyAuth`), not a user's token: a key belongs to a grant, not to a login.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status, UploadedFile
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer
from pydantic import Field

from tongban.accounts.models import Role
from tongban.clock import selectors as clock
from tongban.core.errors import AccessDenied, Problem, RuleViolation
from tongban.core.schemas import BoundedDate, local
from tongban.organizations.models import Department

from .. import policies
from ..models import Credential, RequestStatus, Resource
from ..selectors import sharing as selectors
from ..services import exchange_calls
from ..services import sharing as services
from ..services import sharing_records as records

router = Router(tags=["data"])


class ExchangeKeyAuth(HttpBearer):
    """An exchange key (``tbx_…``): live, not expired, not revoked. Sets
    ``request.exchange_credential``. A call without a usable key is answered 401 with why."""

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get(self.header, "")
        scheme, _sep, _token = header.partition(" ")
        if scheme.lower() != self.openapi_scheme:
            raise AuthenticationError(message=str(_(
                "缺少数据交换密钥：请在请求头 Authorization 中以 Bearer 方式提供密钥")))
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        credential, why = services.credential_check(token.strip())
        if credential is None:
            raise AuthenticationError(message=why)
        request.exchange_credential = credential  # type: ignore[attr-defined]
        return credential


class ExchangeOut(Schema):
    resource: str
    subject: str
    items: dict[str, Any]
    source: str
    as_of: str


class ExchangeErrorOut(Schema):
    detail: str


@router.get("/exchange/{resource_code}", auth=ExchangeKeyAuth(), summary="Exchange: read a record",
            response={200: ExchangeOut, 403: ExchangeErrorOut, 404: ExchangeErrorOut,
                      429: ExchangeErrorOut, 502: ExchangeErrorOut})
def exchange(request: HttpRequest, resource_code: str, subject: str = "", case: str = "",
             items: str = "") -> Any:
    """The granted data items of one subject (ID number or USCC): 401 without a live key, 403
    for a resource or item not granted (named), 404 unknown subject, 422 a subject not valid
    for its element, 429 over the grant's per-minute rate, 502 the provider's interface failed.
    Every answered call is recorded (``ExchangeUse``) and audited (``exchange.read``)."""
    credential: Credential = request.exchange_credential  # type: ignore[attr-defined]
    wanted = [k for k in items.split(",") if k.strip()] if items else None
    answer = exchange_calls.exchange_read(credential=credential, resource_code=resource_code,
                                    subject=subject, items=wanted, case_number=case)
    if answer.status == 200:
        return Status(200, answer.body)
    if answer.status == 422:  # the API's one shape of a faulty input: the problems list
        field = "case" if "办件编号" in answer.detail else "subject"
        return Status(422, {"detail": [{"field": field, "message": answer.detail}]})
    return Status(answer.status, {"detail": answer.detail})


# --- demands ------------------------------------------------------------------------------------

class DataRequestIn(Schema):
    resource: str = ""
    field_keys: list[str] = []
    wanted_elements: list[str] = []
    description: str = ""
    purpose: str
    legal_basis: str
    scenarios: str = ""
    related_items: list[str] = []
    period_from: BoundedDate | None = None
    period_to: BoundedDate | None = None


class DataRequestEventOut(Schema):
    at: dt.datetime
    actor: str
    action: str
    from_status: str
    to_status: str
    reason: str


class DataRequestOut(Schema):
    number: str
    requester: str
    resource: str | None
    provider: str | None
    field_keys: list[str]
    wanted_elements: list[str]
    description: str
    purpose: str
    legal_basis: str
    scenarios: str
    related_items: list[str]
    status: str
    status_label: str
    stage_due_at: dt.datetime | None
    mark: str
    decision_reason: str
    refusal_basis: str
    grant_id: int | None
    created_at: dt.datetime
    events: list[DataRequestEventOut] = []


def _request_out(r: Any, *, events: bool = False) -> DataRequestOut:
    grant = getattr(r, "grant", None) if r.status == RequestStatus.GRANTED else None
    return DataRequestOut(
        number=r.number, requester=r.requester.name,
        resource=r.resource.code if r.resource else None,
        provider=r.resource.provider.name if r.resource else None,
        field_keys=r.field_keys,
        wanted_elements=[e.identifier for e in r.wanted_elements.all()],
        description=r.description, purpose=r.purpose, legal_basis=r.legal_basis,
        scenarios=r.scenarios, related_items=r.related_items, status=r.status,
        status_label=str(r.get_status_display()), stage_due_at=local(r.stage_due_at),
        mark=selectors.request_mark(r), decision_reason=r.decision_reason,
        refusal_basis=r.refusal_basis, grant_id=grant.pk if grant else None,
        created_at=local(r.created_at),
        events=[DataRequestEventOut(at=local(e.at), actor=e.actor_name, action=e.action,
                         from_status=e.from_status, to_status=e.to_status, reason=e.reason)
                for e in r.events.all()] if events else [])


def _request(request: HttpRequest, number: str) -> Any:
    found = selectors.request_by_number(request.user, number)
    if found is None:
        raise Http404
    return found


@router.get("/data-requests", response=list[DataRequestOut], summary="Data demands")
def data_requests(request: HttpRequest, status: str = "") -> list[DataRequestOut]:
    """The data bureau: every demand; a data officer: its department's and those on its
    resources. ``mark``: green/yellow/red supervision of the open stage."""
    scope = selectors.requests_visible(request.user)
    if status:
        scope = scope.filter(status=status)
    with clock.calendar_scope():  # the calendar checked once for every mark of the list
        return [_request_out(r) for r in scope.prefetch_related("wanted_elements")[:500]]


@router.post("/data-requests", response={201: DataRequestOut}, summary="File a data demand")
def data_request_file(request: HttpRequest, payload: DataRequestIn) -> Any:
    resource = None
    if payload.resource:
        resource = Resource.objects.filter(code=payload.resource).first()
        if resource is None:
            raise RuleViolation([Problem("resource", _("资源代码不存在：%(c)s") % {
                "c": payload.resource[:60]})])
    filed = services.data_request_file(
        actor=request.user, resource=resource, field_keys=payload.field_keys,
        wanted_elements=payload.wanted_elements, description=payload.description,
        purpose=payload.purpose, legal_basis=payload.legal_basis, scenarios=payload.scenarios,
        related_items=payload.related_items, period_from=payload.period_from,
        period_to=payload.period_to)
    return Status(201, _request_out(filed, events=True))


@router.get("/data-requests/{number}", response=DataRequestOut, summary="A data demand")
def data_request(request: HttpRequest, number: str) -> DataRequestOut:
    return _request_out(_request(request, number), events=True)


class DataRequestCheckIn(Schema):
    responsible_department: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    refuse_reason: str = ""
    note: str = ""


@router.post("/data-requests/{number}/check", response=DataRequestOut,
             summary="The data bureau checks a demand")
def data_request_check(request: HttpRequest, number: str, payload: DataRequestCheckIn) -> DataRequestOut:
    responsible = None
    if payload.responsible_department:
        responsible = Department.objects.filter(pk=payload.responsible_department).first()
    checked = services.data_request_check(
        actor=request.user, request=_request(request, number), responsible=responsible,
        refuse_reason=payload.refuse_reason, note=payload.note)
    return _request_out(checked, events=True)


class DataRequestAnswerIn(Schema):
    approve: bool
    masked_keys: list[str] = []
    reason: str = ""
    legal_basis: str = ""
    calls_per_minute: Annotated[int, Field(ge=1, le=6000)] = 60


@router.post("/data-requests/{number}/answer", response=DataRequestOut,
             summary="The provider answers a demand")
def data_request_answer(request: HttpRequest, number: str, payload: DataRequestAnswerIn) -> DataRequestOut:
    answered = services.data_request_answer(
        actor=request.user, request=_request(request, number), approve=payload.approve,
        masked_keys=payload.masked_keys, reason=payload.reason, legal_basis=payload.legal_basis,
        calls_per_minute=payload.calls_per_minute)
    return _request_out(answered, events=True)


class SharingReasonIn(Schema):
    reason: str = ""


@router.post("/data-requests/{number}/withdraw", response=DataRequestOut,
             summary="The requester withdraws a demand")
def data_request_withdraw(request: HttpRequest, number: str, payload: SharingReasonIn) -> DataRequestOut:
    done = services.data_request_withdraw(actor=request.user, request=_request(request, number),
                                          reason=payload.reason)
    return _request_out(done, events=True)


# --- grants and keys --------------------------------------------------------------------------

class DataGrantOut(Schema):
    id: int
    request: str
    consumer: str
    resource: str
    provider: str
    field_keys: list[str]
    masked_keys: list[str]
    purpose: str
    valid_from: dt.date
    valid_until: dt.date | None
    calls_per_minute: int
    revoked_at: dt.datetime | None


def _grant_out(g: Any) -> DataGrantOut:
    return DataGrantOut(id=g.pk, request=g.request.number, consumer=g.consumer.name,
                    resource=g.resource.code, provider=g.resource.provider.name,
                    field_keys=g.field_keys, masked_keys=g.masked_keys, purpose=g.purpose,
                    valid_from=g.valid_from, valid_until=g.valid_until,
                    calls_per_minute=g.calls_per_minute, revoked_at=local(g.revoked_at))


def _grant(request: HttpRequest, grant_id: int) -> Any:
    grant = selectors.grants_visible(request.user).filter(pk=grant_id).first()
    if grant is None:
        raise Http404
    return grant


@router.get("/data-grants", response=list[DataGrantOut], summary="Grants")
def data_grants(request: HttpRequest) -> list[DataGrantOut]:
    return [_grant_out(g) for g in selectors.grants_visible(request.user)[:500]]


class ExchangeKeyIn(Schema):
    days: Annotated[int, Field(ge=1, le=366)] = 90


class ExchangeKeyOut(Schema):
    id: int
    prefix: str
    expires_at: dt.datetime
    key: str | None = None


@router.post("/data-grants/{int:grant_id}/keys", response={201: ExchangeKeyOut},
             summary="Issue an exchange key (shown once)")
def key_issue(request: HttpRequest, grant_id: int, payload: ExchangeKeyIn) -> Any:
    credential, key = services.credential_issue(actor=request.user,
                                                grant=_grant(request, grant_id),
                                                days=payload.days)
    return Status(201, ExchangeKeyOut(id=credential.pk, prefix=credential.prefix,
                              expires_at=local(credential.expires_at), key=key))


@router.post("/data-grants/{int:grant_id}/keys/{int:key_id}/revoke", response=ExchangeKeyOut,
             summary="Revoke an exchange key")
def key_revoke(request: HttpRequest, grant_id: int, key_id: int) -> ExchangeKeyOut:
    credential = _grant(request, grant_id).credentials.filter(pk=key_id).first()
    if credential is None:
        raise Http404
    services.credential_revoke(actor=request.user, credential=credential)
    return ExchangeKeyOut(id=credential.pk, prefix=credential.prefix, expires_at=local(credential.expires_at))


@router.post("/data-grants/{int:grant_id}/revoke", response=DataGrantOut, summary="Revoke a grant")
def grant_revoke(request: HttpRequest, grant_id: int, payload: SharingReasonIn) -> DataGrantOut:
    grant = services.grant_revoke(actor=request.user, grant=_grant(request, grant_id),
                                  reason=payload.reason)
    return _grant_out(grant)


# --- records --------------------------------------------------------------------------------

class RecordsImportOut(Schema):
    rows: int
    created: int
    updated: int
    removed: int
    dry_run: bool


@router.post("/data-resources/{code}/records", response=RecordsImportOut,
             summary="Upload a resource's records (CSV or XLSX, whole or nothing)")
def records_upload(request: HttpRequest, code: str, file: File[UploadedFile],
                   replace: Form[bool] = True, dry_run: Form[bool] = False) -> RecordsImportOut:
    resource = Resource.objects.filter(code=code).first()
    if resource is None:
        raise Http404
    result = records.records_import(actor=request.user, resource=resource,
                                     content=file.read(), file_name=file.name or "records.csv",
                                     replace=replace, dry_run=dry_run)
    return RecordsImportOut(rows=result.rows, created=result.created, updated=result.updated,
                     removed=result.removed, dry_run=result.dry_run)


# --- usage, the citizen's own page, the census -------------------------------------------------

class DataUsageOut(Schema):
    department: str
    resource: str
    day: dt.date
    calls: int
    found: int


@router.get("/data-usage", response=list[DataUsageOut], summary="Use of a department's data")
def data_usage(request: HttpRequest, side: Literal["provider", "consumer"] = "provider",
               days: Annotated[int, Field(ge=1, le=366)] = 30,
               department: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None) -> list[DataUsageOut]:
    """``side=provider``: who used the department's data, by consumer, resource and day;
    ``side=consumer``: its own calls. The data bureau may name any ``department``."""
    department_id = department or getattr(request.user, "department_id", None)
    if not policies.can_act_for_department(request.user, department_id):
        raise AccessDenied(_("只有本部门的数据管理员或数据管理部门可以查看使用情况"))
    target = Department.objects.filter(pk=department_id or 0).first()
    if target is None:
        raise RuleViolation([Problem("department", _("部门不存在"))])
    rows = selectors.usage(department=target, side="consumer" if side == "consumer"
                           else "provider", days=max(1, min(days, 366)))
    return [DataUsageOut(**r) for r in rows]


class MyDataUseOut(Schema):
    at: dt.datetime
    department: str
    resource: str = Field(description="The resource read (empty for a licence's use)")
    resource_name: str
    licence: str | None = Field(default=None, description="The e-licence used (授权用证)")
    source: str
    items: list[str]
    purpose: str
    case_number: str
    found: bool


@router.get("/me/data-uses", response=list[MyDataUseOut], summary="Who read my data")
def my_data_uses(request: HttpRequest) -> list[MyDataUseOut]:
    """★ Every read of the signed-in citizen's or company's own data through the exchange."""
    if getattr(request.user, "role", None) not in (Role.CITIZEN, Role.ENTERPRISE):
        raise AccessDenied(_("仅自然人和法人账户可以查看本人数据的使用记录"))
    uses = list(selectors.my_data_uses(request.user))
    return [MyDataUseOut(at=local(u.at), department=u.consumer.name,
                         resource=u.resource.code if u.resource else "",
                         resource_name=u.resource.current.name if u.resource and u.resource.current
                         else "", licence=u.licence_identifier or None,
                         source=u.provider.name, items=names,
                         purpose=u.use_purpose, case_number=u.case_number, found=u.found)
            for u, names in selectors.uses_with_item_names(uses)]


class DataCensusOut(Schema):
    department_id: int
    department: str
    resources: int
    elements: int
    share_ratio: float
    open_ratio: float
    demands_served: int
    demands_refused: int
    fresh: int
    stale: int


@router.get("/data-census", response=list[DataCensusOut], summary="The data census per department")
def data_census(request: HttpRequest) -> list[DataCensusOut]:
    if not policies.is_data_bureau(request.user):
        raise AccessDenied(_("只有数据管理部门可以查看数据普查"))
    return [DataCensusOut(**r.as_dict()) for r in selectors.census()]

