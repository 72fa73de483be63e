"""Pages of the data resource catalog (under ``/data/``).

Public: the catalog's public part (``resources/``, ``resources/<code>/``) — what a resource is
and who provides it, never its records. Staff: a department data officer's 本部门资源 (versions,
submission, 数源确认结果), the data bureau's review queue, 数源 conflicts and the empty workbook
template.
"""

from __future__ import annotations

import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from tongban.accounts.models import Role
from tongban.core.access import public, require_roles
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.organizations.models import Department

from .. import policies
from ..models import Classification, ResourceVersion, ShareType
from ..selectors import resources as selectors
from ..services import resources as services
from ..workbook import (
    WorkbookRejected,
    empty_template,
    problem_line,
    report_lines,
    resources_import_workbook,
)

PAGE_SIZE = 20
STAFF = (Role.DATA_OFFICER, Role.ADMIN)


@public
def resource_list(request: HttpRequest) -> HttpResponse:
    params = request.GET
    provider = params.get("provider", "")
    rows = selectors.published_resources(
        provider=int(provider) if provider.isdigit() else None,
        classification=params.get("classification", ""),
        share_type=params.get("share_type", ""), query=params.get("q", ""))
    page = Paginator(rows, PAGE_SIZE).get_page(params.get("page"))
    return render(request, "exchange/resources/list.html", {
        "page_obj": page, "providers": selectors.provider_departments(),
        "classifications": Classification.choices, "share_types": ShareType.choices,
        "chosen": params})


@public
def resource_detail(request: HttpRequest, code: str) -> HttpResponse:
    resource = selectors.published_resource(code)
    if resource is None or resource.current is None:
        raise Http404
    return render(request, "exchange/resources/detail.html", {
        "resource": resource, "version": resource.current,
        "items": selectors.version_items(resource.current)})


def _department(request: HttpRequest) -> Department:
    department = getattr(request.user, "department", None)
    if department is None or not policies.is_data_officer(request.user):
        raise PermissionDenied
    return department


@require_roles(Role.DATA_OFFICER)
def my_resources(request: HttpRequest) -> HttpResponse:
    department = _department(request)
    return render(request, "exchange/resources/mine.html", {
        "department": department,
        "versions": selectors.department_versions(department.pk),
        "bureau": policies.is_data_bureau(request.user),
        "outcomes": selectors.source_outcomes(department.pk)})


@require_roles(Role.DATA_OFFICER)
@require_POST
def resource_submit(request: HttpRequest, pk: int) -> HttpResponseBase:
    version = get_object_or_404(ResourceVersion, pk=pk)
    try:
        services.resource_version_submit(actor=request.user, version=version)
    except AccessDenied as exc:
        raise PermissionDenied from exc
    except RuleViolation as refused:
        for problem in refused.problems:
            messages.error(request, str(problem.message))
    else:
        messages.success(request, _("已提交审核"))
    return redirect("exchange:resources_mine")


def _bureau(request: HttpRequest) -> None:
    if not policies.is_data_bureau(request.user):
        raise PermissionDenied


@require_roles(*STAFF)
def review_queue(request: HttpRequest) -> HttpResponse:
    _bureau(request)
    versions = list(selectors.review_queue())
    return render(request, "exchange/resources/review_queue.html", {
        "versions": [(v, list(v.fields.all())) for v in versions]})


@require_roles(*STAFF)
@require_POST
def resource_review(request: HttpRequest, pk: int) -> HttpResponseBase:
    _bureau(request)
    version = get_object_or_404(ResourceVersion, pk=pk)
    try:
        services.resource_version_review(
            actor=request.user, version=version,
            approve=request.POST.get("decision") == "approve",
            note=request.POST.get("note", ""))
    except AccessDenied as exc:
        raise PermissionDenied from exc
    except RuleViolation as refused:
        for problem in refused.problems:
            messages.error(request, str(problem.message))
    else:
        messages.success(request, _("已审核"))
    return redirect("exchange:resources_review")


@require_roles(*STAFF)
def conflicts(request: HttpRequest) -> HttpResponse:
    _bureau(request)
    return render(request, "exchange/resources/conflicts.html", {
        "conflicts": selectors.source_conflicts()})


@require_roles(*STAFF)
@require_POST
def source_confirm(request: HttpRequest, identifier: str) -> HttpResponseBase:
    _bureau(request)
    department = get_object_or_404(Department, pk=request.POST.get("department") or 0)
    try:
        services.element_source_confirm(actor=request.user, identifier=identifier,
                                        department=department,
                                        reason=request.POST.get("reason", ""))
    except AccessDenied as exc:
        raise PermissionDenied from exc
    except RuleViolation as refused:
        for problem in refused.problems:
            messages.error(request, str(problem.message))
    else:
        messages.success(request, _("已确认数源部门：%(dept)s") % {"dept": department.name})
    return redirect("exchange:resources_conflicts")


@require_roles(*STAFF)
@require_POST
def workbook_upload(request: HttpRequest) -> HttpResponseBase:
    """Import a resource workbook: the data bureau's publishes at once, a department data
    officer's entries (its own department only) become drafts to submit."""
    from tongban.catalog.views.bureau import WorkbookUploadForm

    back = request.POST.get("next") or ""
    target = ("exchange:resources_review" if back == "review" else "exchange:resources_mine")
    form = WorkbookUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        for error in form.errors.get("file", []):
            messages.error(request, str(error))
        return redirect(target)
    upload = form.cleaned_data["file"]
    try:
        report = resources_import_workbook(actor=request.user, source=upload,
                                           name=upload.name or "workbook.xlsx",
                                           dry_run=form.cleaned_data["dry_run"])
    except AccessDenied as exc:
        raise PermissionDenied from exc
    except WorkbookRejected as rejected:
        for problem in rejected.problems[:50]:
            messages.error(request, problem_line(problem))
        messages.error(request, _("“%(name)s”有 %(n)s 个错误，整个文件未导入") % {
            "name": upload.name, "n": rejected.total})
        return redirect(target)
    for line in report_lines(report):
        messages.success(request, line)
    return redirect(target)


@require_roles(*STAFF)
def workbook_template(request: HttpRequest) -> HttpResponse:
    buffer = io.BytesIO()
    empty_template(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = 'attachment; filename="data-resources-template.xlsx"'
    return response


urlpatterns: list[URLPattern] = [
    path("resources/", resource_list, name="resource_list"),
    path("resources/mine/", my_resources, name="resources_mine"),
    path("resources/versions/<int:pk>/submit/", resource_submit, name="resource_submit"),
    path("resources/review/", review_queue, name="resources_review"),
    path("resources/versions/<int:pk>/review/", resource_review, name="resource_review"),
    path("resources/conflicts/", conflicts, name="resources_conflicts"),
    path("resources/conflicts/<str:identifier>/confirm/", source_confirm,
         name="source_confirm"),
    path("resources/template.xlsx", workbook_template, name="resources_template"),
    path("resources/import/", workbook_upload, name="resources_import"),
    path("resources/<str:code>/", resource_detail, name="resource_detail"),
]


