"""The e-licence library's API: ``/api/v1/licences…``, ``/api/v1/licence-types…``,
``/api/v1/me/licences``.

Public: verification by identifier (``GET /licences/verify?id=…``) or by the licence file
(``POST /licences/verify``, which only reads), the published signing keys and the licence
types. The rest needs a login; the services and selectors check who may.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from tongban.accounts.masking import mask_id_number
from tongban.core.schemas import local
from tongban.organizations.models import Department

from . import policies, selectors, services, signing
from .documents import verify_url
from .models import Authorization, HolderKind, Licence, LicenceType
from .models import Status as LicenceStatus
from .verification import Outcome, Verdict, licence_document, verify_document, verify_identifier

router = Router(tags=["e-licences"])


class VerifyOut(Schema):
    outcome: str = Field(description="valid, changed, revoked, expired, not_found or tampered")
    outcome_label: str
    message: str
    identifier: str
    type_code: str | None = None
    type_name: str | None = None
    issuer: str | None = None
    holder: str | None = Field(default=None, description="A person's name masked; an organisation's in full")
    issued_at: dt.datetime | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    reason: str = Field("", description="Why it was revoked or changed")
    current: str = Field("", description="The identifier now valid (changed)")


class VerifyQuery(Schema):
    id: str = Field("", max_length=120, description="The licence identifier (1.2.156.3005.2.…)")


class KeyOut(Schema):
    key_id: str
    algorithm: str
    public_key: str = Field(description="Ed25519: 32 bytes; SM2: 64 bytes (x‖y), hex")
    pem: str


class KeysOut(Schema):
    keys: list[KeyOut]
    message_prefix: str = Field(description="Signed: this prefix + the canonical JSON of licence")


class LicenceFileIn(Schema):
    """A downloaded licence file (its ``licence`` and ``signature``)."""

    licence: dict[str, Any]
    signature: dict[str, Any]
    verify_url: str = Field("", max_length=500)


class FieldSpec(Schema):
    key: str = Field(max_length=40)
    name: str = Field(max_length=100)
    element: str = Field("", max_length=20)
    required: bool = True


class LicenceTypeOut(Schema):
    code: str
    name: str
    name_en: str
    aliases: list[str]
    holder_kind: str
    department: str
    department_uscc: str
    validity: str
    validity_years: int | None
    fields: list[FieldSpec]
    template: str
    active: bool


class LicenceTypeIn(Schema):
    name: str = Field(max_length=100)
    holder_kind: str = Field(max_length=16)
    department: str = Field(max_length=200, description="The issuing department's USCC or name")
    validity: str = Field("permanent", max_length=16)
    validity_years: int | None = Field(None, ge=1, le=99)
    fields: list[FieldSpec] = Field(max_length=60)
    template: str = Field("", max_length=20000)
    name_en: str = Field("", max_length=200)
    aliases: list[str] = Field(default_factory=list, max_length=20)
    active: bool = True


class LicenceOut(Schema):
    identifier: str
    type_code: str
    type_name: str
    issuer: str
    serial: str
    version: int
    status: str
    status_label: str
    status_reason: str
    holder_kind: str
    holder_name: str
    holder_id: str = Field(description="Masked for a person")
    issued_at: dt.datetime
    valid_from: dt.date
    valid_until: dt.date | None
    case_number: str
    surface: list[dict[str, Any]]


def verdict_out(verdict: Verdict) -> VerifyOut:
    out = VerifyOut(outcome=verdict.outcome, outcome_label=str(verdict.label),
                    message=str(verdict.message), identifier=verdict.identifier,
                    reason=verdict.reason if verdict.outcome in (Outcome.REVOKED, Outcome.CHANGED)
                    else "", current=verdict.current)
    licence = verdict.licence
    if licence is not None and verdict.outcome != Outcome.TAMPERED:
        out.type_code, out.type_name = licence.type.code, licence.type.name
        out.issuer = licence.issuer.name
        out.holder = selectors.public_holder(licence)
        out.issued_at = local(licence.issued_at)
        out.valid_from, out.valid_until = licence.valid_from, licence.valid_until
    return out


def licence_out(licence: Licence) -> LicenceOut:
    holder_id = (mask_id_number(licence.holder_id)
                 if licence.holder_kind == HolderKind.NATURAL_PERSON else licence.holder_id)
    return LicenceOut(
        identifier=licence.identifier, type_code=licence.type.code, type_name=licence.type.name,
        issuer=licence.issuer.name, serial=licence.serial, version=licence.version,
        status=licence.status, status_label=str(LicenceStatus(licence.status).label),
        status_reason=licence.status_reason, holder_kind=licence.holder_kind,
        holder_name=licence.holder_name, holder_id=holder_id, issued_at=local(licence.issued_at),
        valid_from=licence.valid_from, valid_until=licence.valid_until,
        case_number=licence.case_number,
        surface=[{k: v for k, v in s.items()} for s in selectors.surface(licence)
                 if s.get("element") not in MASKED_ELEMENTS] + _masked(licence))


# Surface values that are ID numbers: shown masked in the API (the PDF and the file carry them).
MASKED_ELEMENTS = {"DE00002", "DE00054", "DE00069"}


def _masked(licence: Licence) -> list[dict[str, Any]]:
    return [{**s, "value": mask_id_number(str(s.get("value", "")))}
            for s in selectors.surface(licence) if s.get("element") in MASKED_ELEMENTS]


def type_out(t: LicenceType) -> LicenceTypeOut:
    return LicenceTypeOut(code=t.code, name=t.name, name_en=t.name_en, aliases=list(t.aliases),
                          holder_kind=t.holder_kind, department=t.department.name,
                          department_uscc=t.department.uscc, validity=t.validity,
                          validity_years=t.validity_years,
                          fields=[FieldSpec(**f) for f in t.fields], template=t.template,
                          active=t.active)


# --- verification (public) -------------------------------------------------------------------

@router.get("/licences/verify", response=VerifyOut, auth=None, summary="Verify a licence by identifier")
def verify(request: HttpRequest, query: Query[VerifyQuery]) -> VerifyOut:
    """valid / changed / revoked / expired / not_found / tampered, with the public facts (a
    person's name masked; no ID numbers)."""
    return verdict_out(verify_identifier(query.id))


@router.post("/licences/verify", response=VerifyOut, auth=None,
             summary="Verify a downloaded licence file")
def verify_file(request: HttpRequest, body: LicenceFileIn) -> VerifyOut:
    """The file's signature against the published keys, then the library's record: a file
    changed by one byte, or signed with another key, is ``tampered``. Writes nothing."""
    return verdict_out(verify_document(body.dict()))


@router.get("/licences/keys", response=KeysOut, auth=None, summary="The licence signing keys")
def keys(request: HttpRequest) -> KeysOut:
    """The current public key and the retired ones whose licences still verify."""
    found = signing.trusted_keys() or {}
    if not found:
        current = signing.signing_key()
        assert current is not None
        found = {current.public.key_id: current.public}
    return KeysOut(keys=[KeyOut(**k) for k in signing.published(found)],
                   message_prefix=signing.MESSAGE_PREFIX.decode("ascii"))


# --- licence types ---------------------------------------------------------------------------

@router.get("/licence-types", response=list[LicenceTypeOut], auth=None, summary="Licence types")
def list_types(request: HttpRequest) -> list[LicenceTypeOut]:
    return [type_out(t) for t in selectors.licence_types()]


@router.get("/licence-types/{code}", response=LicenceTypeOut, auth=None, summary="A licence type")
def get_type(request: HttpRequest, code: str) -> LicenceTypeOut:
    found = selectors.licence_types().filter(code=code.upper()).first()
    if found is None:
        raise HttpError(404, _("没有该证照类型"))
    return type_out(found)


@router.put("/licence-types/{code}", response=LicenceTypeOut,
            summary="Create or edit a licence type (the data bureau)")
def save_type(request: HttpRequest, code: str, body: LicenceTypeIn) -> LicenceTypeOut:
    department = (Department.objects.filter(uscc=body.department).first()
                  or Department.objects.filter(name=body.department).first())
    data = services.LicenceTypeData(
        code=code, name=body.name, holder_kind=body.holder_kind, department=department,
        validity=body.validity, validity_years=body.validity_years,
        fields=[f.dict() for f in body.fields], template=body.template, name_en=body.name_en,
        aliases=list(body.aliases), active=body.active)
    return type_out(services.licence_type_save(actor=request.user, data=data))


# --- one licence -----------------------------------------------------------------------------

def _licence(request: HttpRequest, identifier: str) -> Licence:
    try:
        return selectors.licence_for(request.user, identifier)
    except Licence.DoesNotExist:
        raise HttpError(404, _("没有该电子证照")) from None


@router.get("/licences/{identifier}", response=LicenceOut, summary="A licence (holder, issuer)")
def get_licence(request: HttpRequest, identifier: str) -> LicenceOut:
    return licence_out(_licence(request, identifier))


@router.get("/licences/{identifier}/document", response=dict[str, Any],
            summary="The licence's machine-readable file (signed JSON)")
def get_document(request: HttpRequest, identifier: str) -> dict[str, Any]:
    licence = _licence(request, identifier)
    return licence_document(licence, verify_url=verify_url(licence, request))


# --- life cycle (the issuing department) ------------------------------------------------------

class RevokeIn(Schema):
    reason: str = Field(max_length=500)


class ChangeIn(Schema):
    reason: str = Field(max_length=500)
    surface: dict[str, str] = Field(description="Surface values to replace, by key")
    holder_name: str = Field("", max_length=200)


@router.post("/licences/{identifier}/revoke", response=LicenceOut,
             summary="Revoke a licence (the issuing department)")
def revoke(request: HttpRequest, identifier: str, body: RevokeIn) -> LicenceOut:
    licence = services.licence_revoke(actor=request.user, licence=_licence(request, identifier),
                                      reason=body.reason)
    return licence_out(licence)


@router.post("/licences/{identifier}/change", response=LicenceOut,
             summary="Change a licence: issue its next version (the issuing department)")
def change(request: HttpRequest, identifier: str, body: ChangeIn) -> LicenceOut:
    licence = services.licence_change(actor=request.user, licence=_licence(request, identifier),
                                      surface=dict(body.surface), reason=body.reason,
                                      holder_name=body.holder_name)
    return licence_out(licence)


# --- the wallet and 授权用证 -------------------------------------------------------------------

class AuthorizationIn(Schema):
    department: str = Field(max_length=200, description="The department's USCC or name")
    purpose: str = Field(max_length=200)
    case_number: str = Field("", max_length=32)
    days: int = Field(30, ge=1, le=366)


class AuthorizationOut(Schema):
    id: int
    licence: str
    licence_name: str
    department: str
    purpose: str
    case_number: str
    granted_at: dt.datetime
    valid_until: dt.date
    revoked_at: dt.datetime | None


class UseIn(Schema):
    case_number: str = Field("", max_length=32)


def authorization_out(a: Authorization) -> AuthorizationOut:
    return AuthorizationOut(id=a.pk, licence=a.licence.identifier, licence_name=a.licence.type.name,
                            department=a.department.name, purpose=a.purpose,
                            case_number=a.case_number, granted_at=local(a.granted_at),
                            valid_until=a.valid_until, revoked_at=local(a.revoked_at))


@router.get("/me/licences", response=list[LicenceOut], summary="My licences (证照夹)")
def my_licences(request: HttpRequest) -> list[LicenceOut]:
    """The signed-in citizen's or company's own licences; staff accounts hold none here."""
    return [licence_out(lc) for lc in selectors.wallet(request.user)]


@router.post("/licences/{identifier}/authorizations", response={201: AuthorizationOut},
             summary="Authorise a department to use my licence (授权用证)")
def authorize(request: HttpRequest, identifier: str, body: AuthorizationIn) -> Status[AuthorizationOut]:
    department = (Department.objects.filter(uscc=body.department).first()
                  or Department.objects.filter(name=body.department).first())
    granted = services.authorization_grant(
        actor=request.user, licence=_licence(request, identifier), department=department,
        purpose=body.purpose, case_number=body.case_number, days=body.days)
    return Status(201, authorization_out(granted))


def _authorization(request: HttpRequest, authorization_id: int) -> Authorization:
    found = (Authorization.objects.select_related("licence", "licence__type", "department")
             .filter(pk=authorization_id).first())
    if found is None or not (policies.can_authorize(request.user, found.licence)
                             or policies.can_use(request.user, found)):
        raise HttpError(404, _("没有该授权"))
    return found


@router.get("/licence-authorizations", response=list[AuthorizationOut],
            summary="Authorisations to use licences: mine (holder) or my department's (staff)")
def list_authorizations(request: HttpRequest) -> list[AuthorizationOut]:
    return [authorization_out(a) for a in selectors.authorizations_for(request.user)]


@router.post("/licence-authorizations/{authorization_id}/revoke", response=AuthorizationOut,
             summary="Withdraw an authorisation (the holder)")
def revoke_authorization(request: HttpRequest, authorization_id: int) -> AuthorizationOut:
    return authorization_out(services.authorization_revoke(
        actor=request.user, authorization=_authorization(request, authorization_id)))


@router.post("/licence-authorizations/{authorization_id}/use", response=dict[str, Any],
             summary="Use an authorised licence (the department): its signed file, recorded")
def use(request: HttpRequest, authorization_id: int, body: UseIn) -> dict[str, Any]:
    """Returns the licence's machine-readable file; the use is written to the exchange log the
    holder sees (我的数据使用记录) and audited (``licence.used``)."""
    licence = services.licence_use(actor=request.user,
                                   authorization=_authorization(request, authorization_id),
                                   case_number=body.case_number)
    return licence_document(licence, verify_url=verify_url(licence, request))
