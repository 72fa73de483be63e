"""The element dictionary's API (part ``elements``): ``/api/v1/data-elements`` and
``/api/v1/code-lists``.

Reads are public (published elements; the data bureau, signed in or with a bearer token, also
reads drafts and retired elements and filters by status). Writes go through the element services:
a draft is proposed or edited with ``POST /data-elements`` (the data bureau, or a department's
data officer for its own proposals), published and retired by the data bureau.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from tongban.core.errors import Problem, RuleViolation
from tongban.core.schemas import MAX_OFFSET, local

from ..codelist_files import code_list_csv
from ..elements import ElementData
from ..models import CodeList, DataElement, DataType, DomainKind, ElementStatus
from ..selectors import elements as selectors
from ..services import elements as services

router = Router(tags=["data elements"])

MAX_LIMIT = 100


class ElementOut(Schema):
    identifier: str
    name: str
    name_en: str
    definition: str
    object_class: str
    property_term: str
    representation: str
    data_type: str
    data_type_label: str
    format: str
    max_length: int | None
    domain_kind: str
    pattern: str
    code_list: str | None
    checker: str
    unit: str
    synonyms: list[str]
    personal: bool
    status: str
    version: int
    approved_on: dt.date | None
    submitting_department: str | None


class ElementPage(Schema):
    total: int
    limit: int
    offset: int
    items: list[ElementOut]


class ElementIn(Schema):
    """An element's definition (``identifier`` names it: a new one is created as a draft)."""

    identifier: str = Field(max_length=20)
    name: str = Field(max_length=100)
    definition: str = Field(max_length=2000)
    data_type: str = Field(max_length=16)
    name_en: str = Field("", max_length=200)
    object_class: str = Field("", max_length=50)
    property_term: str = Field("", max_length=50)
    representation: str = Field("", max_length=50)
    format: str = Field("", max_length=40)
    max_length: int | None = None
    domain_kind: str = Field(DomainKind.FREE.value, max_length=16)
    pattern: str = Field("", max_length=300)
    code_list: str = Field("", max_length=40)
    checker: str = Field("", max_length=16)
    unit: str = Field("", max_length=20)
    synonyms: list[str] = Field(default_factory=list, max_length=50)
    personal: bool = False


class RetireIn(Schema):
    reason: str = Field(max_length=500)


class CodeListOut(Schema):
    code: str
    name: str
    name_en: str
    standard: str
    version: int
    updated_at: dt.datetime
    entry_count: int


class CodeEntryOut(Schema):
    value: str
    label: str
    label_en: str
    parent_value: str


class CodeListDetailOut(CodeListOut):
    entries: list[CodeEntryOut]


def _reader(request: HttpRequest) -> Any:
    """Who reads a public endpoint: the session's user, or a bearer token's, or nobody."""
    from tongban.accounts.services import token_authenticate

    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return token_authenticate(header[7:].strip())
    return None


def element_out(element: DataElement) -> ElementOut:
    return ElementOut(
        identifier=element.identifier, name=element.name, name_en=element.name_en,
        definition=element.definition, object_class=element.object_class,
        property_term=element.property_term, representation=element.representation,
        data_type=element.data_type, data_type_label=str(DataType(element.data_type).label),
        format=element.format, max_length=element.max_length, domain_kind=element.domain_kind,
        pattern=element.pattern, code_list=element.code_list.code if element.code_list else None,
        checker=element.checker, unit=element.unit, synonyms=list(element.synonyms or []),
        personal=element.personal, status=element.status, version=element.version,
        approved_on=element.approved_on,
        submitting_department=(element.submitting_department.name
                               if element.submitting_department else None))


def _data(body: ElementIn, identifier: str | None = None) -> ElementData:
    values = body.dict()
    if identifier is not None:
        values["identifier"] = identifier
    return ElementData(**values)


def _element(request: HttpRequest, identifier: str) -> DataElement:
    element = selectors.element(_reader(request), identifier)
    if element is None:
        raise HttpError(404, _("没有内部标识符为“%(id)s”的数据元") % {"id": identifier})
    return element


@router.get("/data-elements", response=ElementPage, auth=None,
            summary="Data elements (search, filter, paginate)")
def list_elements(request: HttpRequest, q: str = "", object_class: str = "", status: str = "",
                  limit: int = 20, offset: int = 0) -> ElementPage:
    """Published elements, by identifier. ``q`` matches the identifier, the names, the
    definition and the object class; ``object_class`` (对象类词) filters. The data bureau also
    reads drafts and retired elements (``status``: draft, published, retired)."""
    problems = []
    if not 1 <= limit <= MAX_LIMIT:
        problems.append(Problem("limit", _("limit 须在1到%(max)s之间") % {"max": MAX_LIMIT}))
    if not 0 <= offset <= MAX_OFFSET:
        problems.append(Problem("offset", _("offset 须在0到%(max)s之间") % {"max": MAX_OFFSET}))
    if status and status not in ElementStatus.values:
        problems.append(Problem("status", _("未知的状态“%(value)s”；可用：%(values)s") % {
            "value": status, "values": "、".join(ElementStatus.values)}))
    if problems:
        raise RuleViolation(problems)
    qs = selectors.elements(_reader(request), q=q, object_class=object_class, status=status)
    return ElementPage(total=qs.count(), limit=limit, offset=offset,
                       items=[element_out(e) for e in qs[offset:offset + limit]])


@router.get("/data-elements/{identifier}", response=ElementOut, auth=None,
            summary="A data element")
def get_element(request: HttpRequest, identifier: str) -> ElementOut:
    return element_out(_element(request, identifier))


@router.post("/data-elements", response={201: ElementOut},
             summary="Propose or edit a data element")
def save_element(request: HttpRequest, body: ElementIn) -> Status[ElementOut]:
    """A new identifier is a draft (a department's data officer proposes one for their
    department); an existing draft is edited; the data bureau's edit of a published element is
    its next version, still published."""
    element = services.element_save(actor=request.user, data=_data(body))
    return Status(201, element_out(selectors.element(request.user, element.identifier) or element))


@router.post("/data-elements/{identifier}/publish", response=ElementOut,
             summary="Publish a draft data element")
def publish_element(request: HttpRequest, identifier: str) -> ElementOut:
    _element(request, identifier)
    return element_out(services.element_publish(actor=request.user, identifier=identifier))


@router.post("/data-elements/{identifier}/retire", response=ElementOut,
             summary="Retire a data element")
def retire_element(request: HttpRequest, identifier: str, body: RetireIn) -> ElementOut:
    """Refused (422) while a published resource's data item or an active item form binds it."""
    _element(request, identifier)
    return element_out(services.element_retire(actor=request.user, identifier=identifier,
                                               reason=body.reason))


def _code_list(code: str) -> CodeList:
    found = selectors.code_list(code)
    if found is None:
        raise HttpError(404, _("没有标识为“%(code)s”的代码集") % {"code": code})
    return found


def _list_out(code_list: CodeList, count: int) -> dict[str, Any]:
    return {"code": code_list.code, "name": code_list.name, "name_en": code_list.name_en,
            "standard": code_list.standard, "version": code_list.version,
            "updated_at": local(code_list.updated_at), "entry_count": count}


@router.get("/code-lists", response=list[CodeListOut], auth=None, summary="Code lists")
def list_code_lists(request: HttpRequest) -> list[CodeListOut]:
    return [CodeListOut(**_list_out(c, getattr(c, "entry_count", 0)))
            for c in selectors.code_lists()]


# Before the JSON one: ``{path:code}`` would take the ``.csv`` too.
@router.get("/code-lists/{path:code}.csv", auth=None, summary="A code list as a CSV file",
            response={200: None})
def code_list_file(request: HttpRequest, code: str) -> HttpResponse:
    """The file ``tongban import_code_list`` reads (columns 代码, 名称, 英文名称, 上级代码)."""
    found = _code_list(code)
    response = HttpResponse(code_list_csv(found), content_type="text/csv; charset=utf-8")
    filename = found.code.replace("/", "").replace(" ", "") + ".csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@router.get("/code-lists/{path:code}", response=CodeListDetailOut, auth=None,
            summary="A code list with its entries")
def get_code_list(request: HttpRequest, code: str) -> CodeListDetailOut:
    """``code`` as written, e.g. ``GB/T 2261.1`` (URL-encoded: ``GB%2FT%202261.1`` or
    ``GB/T%202261.1``)."""
    found = _code_list(code)
    entries = [CodeEntryOut(value=e.value, label=e.label, label_en=e.label_en,
                            parent_value=e.parent_value) for e in selectors.code_entries(found)]
    return CodeListDetailOut(**_list_out(found, len(entries)), entries=entries)
