"""The data resource catalog's API: its public part (``GET /api/v1/data-resources``,
``GET /api/v1/data-resources/{code}``, no authentication, never records) and the catalog's
writes (a department data officer's draft and submission, the data bureau's review and 数源
confirmation; bearer token or session, the services check the permission)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema
from ninja.errors import HttpError

from tongban.core.errors import AccessDenied, Problem, RuleViolation
from tongban.core.schemas import ErrorOut, ProblemsOut
from tongban.organizations.models import Department

from ..models import Resource, ResourceStatus, ResourceVersion
from ..selectors import resources as selectors
from ..services import resources as services

router = Router(tags=["data"])
MAX_LIMIT = 100


class DataItemOut(Schema):
    key: str
    name: str
    element: str


class ResourceOut(Schema):
    code: str
    name: str
    provider: str
    provider_uscc: str
    classification: str
    category_code: str
    summary: str
    format: str
    share_type: str
    share_condition: str
    share_basis: str
    share_method: str
    open_type: str
    update_cycle: str
    network: str
    published_on: dt.date | None
    version: int
    items: list[DataItemOut]


class ResourcePage(Schema):
    total: int
    limit: int
    offset: int
    items: list[ResourceOut]


def _resource_out(resource: Resource, version: ResourceVersion,
                  prefetched: bool = False) -> ResourceOut:
    fields = list(version.fields.all()) if prefetched else selectors.version_items(version)
    return ResourceOut(
        code=resource.code, name=version.name, provider=resource.provider.name,
        provider_uscc=resource.provider.uscc, classification=version.classification,
        category_code=version.category_code, summary=version.summary, format=version.format,
        share_type=version.share_type, share_condition=version.share_condition,
        share_basis=version.share_basis, share_method=version.share_method,
        open_type=version.open_type, update_cycle=version.update_cycle,
        network=version.network, published_on=version.published_on, version=version.version,
        items=[DataItemOut(key=f.key, name=f.name, element=f.element.identifier)
               for f in fields])


@router.get("/data-resources", response={200: ResourcePage, 422: ProblemsOut}, auth=None,
            summary="The published data resource catalog (filter, search, paginate)")
def list_resources(request: HttpRequest, provider: str | None = None,
                   classification: str | None = None, share_type: str | None = None,
                   open_type: str | None = None, q: str | None = None, limit: int = 20,
                   offset: int = 0) -> Any:
    """``provider``: the provider department's 统一社会信用代码; ``classification`` (basic,
    theme, department), ``share_type`` (unconditional, conditional, none), ``open_type``
    (unconditional, conditional, none); ``q`` searches code, name and summary."""
    problems = []
    if not 1 <= limit <= MAX_LIMIT:
        problems.append(Problem("limit", _("limit 须在1到%(max)s之间") % {"max": MAX_LIMIT}))
    if offset < 0:
        problems.append(Problem("offset", _("offset 不能为负数")))
    department = None
    if provider:
        department = Department.objects.filter(uscc=provider).first()
        if department is None:
            problems.append(Problem("provider", _("没有统一社会信用代码为“%(v)s”的部门") % {
                "v": provider}))
    if problems:
        raise RuleViolation(problems)
    rows = selectors.published_resources(
        provider=department.pk if department else None, classification=classification or "",
        share_type=share_type or "", open_type=open_type or "", query=q or "",
        with_items=True)
    return ResourcePage(total=rows.count(), limit=limit, offset=offset, items=[
        _resource_out(r, r.current, prefetched=True)  # type: ignore[arg-type]
        for r in rows[offset:offset + limit]
    ])


# --- writes ------------------------------------------------------------------------------------

class ItemIn(Schema):
    key: str
    name: str
    element: str
    is_subject: bool = False
    is_source: bool = False


class ResourceDraftIn(Schema):
    code: str
    name: str
    provider: str  # 统一社会信用代码 of the provider department
    classification: str
    category_code: str
    summary: str
    format: str
    share_type: str
    share_method: str
    update_cycle: str
    share_condition: str = ""
    share_basis: str = ""
    open_type: str = "none"
    open_condition: str = ""
    network: str = "extranet"
    related_items: list[str] = []
    related_resources: list[str] = []
    endpoint_url: str = ""
    items: list[ItemIn] = []


class ResourceVersionOut(Schema):
    id: int
    code: str
    version: int
    status: str
    review_note: str


class ResourceReviewIn(Schema):
    approve: bool
    note: str = ""


class ConfirmIn(Schema):
    department: str  # 统一社会信用代码
    reason: str


class ElementSourceOut(Schema):
    identifier: str
    source_department: str
    reason: str


WRITE: dict[int, Any] = {200: ResourceVersionOut, 403: ErrorOut, 404: ErrorOut, 422: ProblemsOut}


def _version_out(v: ResourceVersion) -> ResourceVersionOut:
    return ResourceVersionOut(id=v.pk, code=v.resource.code, version=v.version, status=v.status,
                      review_note=v.review_note)


@router.post("/data-resources/drafts", response=WRITE,
             summary="Draft a resource or its next version (the provider's data officer)")
def save_draft(request: HttpRequest, payload: ResourceDraftIn) -> Any:
    department = Department.objects.filter(uscc=payload.provider).first()
    if department is None:
        raise RuleViolation([Problem("provider", _("没有统一社会信用代码为“%(v)s”的部门") % {
            "v": payload.provider})])
    values = payload.dict()
    items = [services.ItemData(**i) for i in values.pop("items")]
    values["provider"] = department
    version = services.resource_save_draft(
        actor=request.user, data=services.ResourceData(**values, items=items))
    return _version_out(version)


@router.post("/data-resources/versions/{version_id}/submit", response=WRITE,
             summary="Submit a draft for the data bureau's review")
def submit(request: HttpRequest, version_id: int) -> Any:
    version = get_object_or_404(ResourceVersion, pk=version_id)
    return _version_out(services.resource_version_submit(actor=request.user, version=version))


@router.post("/data-resources/versions/{version_id}/review", response=WRITE,
             summary="The data bureau approves (publishes) or rejects a submitted version")
def review(request: HttpRequest, version_id: int, payload: ResourceReviewIn) -> Any:
    version = get_object_or_404(ResourceVersion, pk=version_id)
    return _version_out(services.resource_version_review(
        actor=request.user, version=version, approve=payload.approve, note=payload.note))


@router.get("/data-resources/review-queue", response={200: list[ResourceVersionOut], 403: ErrorOut},
            summary="Versions waiting for the data bureau's review")
def review_queue(request: HttpRequest) -> Any:
    from .. import policies

    if not policies.is_data_bureau(request.user):
        raise AccessDenied(_("您无权执行此操作"))
    return [_version_out(v) for v in selectors.review_queue()
            if v.status == ResourceStatus.UNDER_REVIEW]


@router.post("/data-elements/{identifier}/source", response={
    200: ElementSourceOut, 403: ErrorOut, 404: ErrorOut, 422: ProblemsOut},
    summary="The data bureau confirms an element's source department (数源确认)")
def confirm_source(request: HttpRequest, identifier: str, payload: ConfirmIn) -> Any:
    department = Department.objects.filter(uscc=payload.department).first()
    if department is None:
        raise RuleViolation([Problem("department", _("没有统一社会信用代码为“%(v)s”的部门") % {
            "v": payload.department})])
    element = services.element_source_confirm(actor=request.user, identifier=identifier,
                                               department=department, reason=payload.reason)
    return ElementSourceOut(identifier=element.identifier, source_department=department.name,
                            reason=element.source_reason)


# Last: its path would otherwise catch /data-resources/drafts and /review-queue.
@router.get("/data-resources/{code}", response={200: ResourceOut, 404: ErrorOut}, auth=None,
            summary="One published resource's catalog entry")
def get_resource(request: HttpRequest, code: str) -> Any:
    resource = selectors.published_resource(code)
    if resource is None or resource.current is None:
        raise HttpError(404, str(_("没有已发布的资源“%(code)s”") % {"code": code}))
    return _resource_out(resource, resource.current)
