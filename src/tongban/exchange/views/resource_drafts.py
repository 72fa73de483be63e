"""The draft form of the data resource catalog (under ``/data/resources/``).

A department's data officer drafts a new resource of its department (``resources/new/``) or
edits the open draft or the rejected version of one of its resources (``resources/<code>/edit/``;
a published resource's next version starts from the published one), field by field with its data
items, then saves (保存草稿) or saves and submits (提交审核). The data bureau may do the same for
any department (``policies.can_act_for_department``). Thin: every write is
``services.resources.resource_save_draft`` / ``resource_version_submit``, whose problems are shown
beside the field or item row they name; nothing is saved when there is one.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _

from tongban.accounts.models import Role
from tongban.core.access import require_roles
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.organizations.models import Department

from .. import policies
from ..forms import (
    ItemFormSetFactory,
    ResourceDraftForm,
    draft_initial,
    item_initial,
    show_problems,
    typed_identifier,
    with_row_added,
)
from ..models import Resource, ResourceStatus, ResourceVersion
from ..selectors import resources as selectors
from ..services import resources as services

DRAFTERS = (Role.DATA_OFFICER, Role.ADMIN)
PREFIX = "items"


def _back(request: HttpRequest) -> HttpResponseBase:
    """To 本部门资源 (a data officer), or to the review queue (the administrator)."""
    if policies.is_data_officer(request.user):
        return redirect("exchange:resources_mine")
    return redirect("exchange:resources_review")


@require_roles(*DRAFTERS)
def resource_new(request: HttpRequest) -> HttpResponseBase:
    """A new resource of the officer's department (the data bureau chooses the provider)."""
    bureau = policies.is_data_bureau(request.user)
    department: Department | None = getattr(request.user, "department", None)
    if not bureau and not (department is not None
                           and policies.can_act_for_department(request.user, department.pk)):
        raise PermissionDenied
    return _draft_page(request, resource=None, base=None, provider=department,
                       choose_provider=bureau)


@require_roles(*DRAFTERS)
def resource_edit(request: HttpRequest, code: str) -> HttpResponseBase:
    """The open draft or rejected version of a resource, or its next version."""
    resource = selectors.resource_of(code)
    if resource is None:
        raise Http404
    if not policies.can_act_for_department(request.user, resource.provider_id):
        raise PermissionDenied
    base = selectors.latest_version(resource)
    if base is not None and base.status == ResourceStatus.UNDER_REVIEW:
        messages.error(request, _("资源“%(code)s”第%(v)s版正在审核中，审核完成前不能修改") % {
            "code": resource.code, "v": base.version})
        return _back(request)
    return _draft_page(request, resource=resource, base=base, provider=resource.provider,
                       choose_provider=False)


def _draft_page(request: HttpRequest, *, resource: Resource | None,
                base: ResourceVersion | None, provider: Department | None,
                choose_provider: bool) -> HttpResponseBase:
    options: dict[str, Any] = {
        "code": resource.code if resource else None,
        "providers": Department.objects.order_by("name") if choose_provider else None}
    if request.method != "POST":
        data = services.version_to_data(base) if base is not None else None
        initial = draft_initial(data) if data is not None else {
            "provider": provider.pk if provider else None}
        form = ResourceDraftForm(initial=initial, **options)
        formset = ItemFormSetFactory(initial=item_initial(data), prefix=PREFIX)
        return _render(request, form, formset, resource, base, provider)
    if "add_item" in request.POST:  # one more row; nothing is checked or saved
        form = ResourceDraftForm(request.POST, **options)
        formset = ItemFormSetFactory(with_row_added(request.POST, PREFIX), prefix=PREFIX)
        return _render(request, form, formset, resource, base, provider)
    form = ResourceDraftForm(request.POST, **options)
    formset = ItemFormSetFactory(request.POST, prefix=PREFIX)
    valid = form.is_valid()
    if formset.is_valid() and valid:
        data = form.resource_data(provider=provider, items=formset.items())
        submit = "submit" in request.POST
        try:
            version = _save(request, data, new=resource is None, submit=submit)
        except AccessDenied as denied:
            raise PermissionDenied(str(denied)) from None
        except RuleViolation as violation:
            show_problems(violation.problems, form, formset)
        else:
            if submit:
                messages.success(request, _("已保存并提交审核：%(code)s %(name)s（第%(v)s版）") % {
                    "code": data.code, "name": version.name, "v": version.version})
            else:
                messages.success(request, _("草稿已保存：%(code)s %(name)s（第%(v)s版）") % {
                    "code": data.code, "name": version.name, "v": version.version})
            return _back(request)
    return _render(request, form, formset, resource, base, provider)


def _save(request: HttpRequest, data: services.ResourceData, *, new: bool,
          submit: bool) -> ResourceVersion:
    return services.resource_draft_from_form(actor=request.user, data=data, new=new,
                                             submit=submit)


def _render(request: HttpRequest, form: ResourceDraftForm, formset: Any,
            resource: Resource | None, base: ResourceVersion | None,
            provider: Department | None) -> HttpResponse:
    elements = selectors.published_elements()
    known = {e.identifier: e for e in elements}
    rows = [(row, known.get(typed_identifier(row["element"].value()))) for row in formset]
    return render(request, "exchange/resources/draft_form.html", {
        "form": form, "formset": formset, "rows": rows, "elements": elements,
        "resource": resource, "base": base, "provider": provider,
        "review_note": base.review_note if base is not None
        and base.status == ResourceStatus.REJECTED else "",
        "has_errors": bool(form.errors or formset.total_error_count()
                           or formset.section_errors)})


urlpatterns: list[URLPattern] = [
    path("resources/new/", resource_new, name="resource_new"),
    path("resources/<str:code>/edit/", resource_edit, name="resource_edit"),
]
