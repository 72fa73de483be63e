"""Staff pages for maintaining the catalog: item list, draft editing, submission, the bureau's
review queue, cancellation, and each item's version history with a comparison of versions.

The pages only gate entry by role; every write goes through ``catalog.services``, which checks
the concrete permission (a refusal becomes HTTP 403) and the rules (shown next to the fields).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tongban.accounts.models import Role
from tongban.core.access import require_roles
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.core.forms import add_problems

from .. import reports, services
from ..forms import (
    ItemVersionForm,
    MaterialFormSetFactory,
    NoteForm,
    StaffItemFilterForm,
    material_initial,
    show_problems,
    version_initial,
)
from ..models import Item, ItemVersion, VersionStatus

S = VersionStatus
EDITORS = (Role.ADMIN, Role.OFFICER, Role.HEAD)
PAGE_SIZE = 50


def _departments(request: HttpRequest) -> Any:
    try:
        return reports.editable_departments(request.user)
    except AccessDenied as exc:
        raise PermissionDenied(str(exc)) from exc


def _item(request: HttpRequest, code: str) -> Item:
    _departments(request)  # 403 for staff who may edit nothing
    item = reports.item_for_staff(user=request.user, implementation_code=code)
    if item is None:
        raise Http404(_("未找到该事项，或您无权查看"))
    return item


def _problem_text(exc: RuleViolation) -> str:
    return "；".join(str(p.message) for p in exc.problems)


@require_roles(*EDITORS)
def item_list(request: HttpRequest) -> HttpResponse:
    """The items the user may edit, with drafts and versions under review, filterable."""
    departments = _departments(request)
    form = StaffItemFilterForm(request.GET or None, departments=departments)
    filters: dict[str, Any] = {}
    if form.is_valid():
        cd = form.cleaned_data
        filters = {"status": cd["status"], "commitment": cd["commitment"], "query": cd["q"],
                   "department": cd["department"].pk if cd["department"] else None}
    items = reports.staff_items(user=request.user, **filters)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "catalog/bureau/item_list.html", {
        "form": form, "page": page, "query": query.urlencode(),
        "is_bureau": request.user.role == Role.ADMIN,  # type: ignore[union-attr]
    })


@require_roles(*EDITORS)
def item_edit(request: HttpRequest, code: str | None = None) -> HttpResponse:
    """Create a new item's draft, or edit an item's draft (started from the published version)."""
    item = _item(request, code) if code else None
    base: ItemVersion | None = None
    if item is not None:
        working = reports.working_version(item)
        if working is not None and working.status == S.UNDER_REVIEW:
            messages.error(request, _("该事项有一个审核中的版本，请先审核或退回后再修改"))
            return redirect("catalog:bureau_item_history", code=item.implementation_code)
        base = working or item.current or item.versions.order_by("-number").first()
    user = request.user
    if request.method == "POST":
        form = ItemVersionForm(request.POST, user=user, item=item)
        formset = MaterialFormSetFactory(request.POST, prefix="materials")
        valid = form.is_valid()
        valid = formset.is_valid() and valid
        if valid:
            data = form.item_data(materials=formset.materials())
            try:
                version = services.item_save_draft(
                    actor=user, data=data, change_note=form.cleaned_data.get("change_note") or "")
                if "submit" in request.POST:
                    services.version_submit(actor=user, version=version)
            except RuleViolation as exc:
                show_problems(exc.problems, form, formset)
            except AccessDenied as exc:
                raise PermissionDenied(str(exc)) from exc
            else:
                if "submit" in request.POST:
                    messages.success(request, _("已保存并提交审核：%(name)s") % {"name": version.name})
                else:
                    messages.success(request, _("草稿已保存：%(name)s（第%(n)s版）") % {
                        "name": version.name, "n": version.number})
                return redirect("catalog:bureau_item_history", code=data.implementation_code)
    else:
        if base is not None:
            initial = version_initial(base)
            initial["change_note"] = base.change_note if base.status == S.DRAFT else ""
        else:
            department = getattr(user, "department", None)
            initial = {"department": department.pk if department else None,
                       "level": department.level if department else None}
        form = ItemVersionForm(initial=initial, user=user, item=item)
        formset = MaterialFormSetFactory(initial=material_initial(base), prefix="materials")
    return render(request, "catalog/bureau/edit.html", {
        "form": form, "formset": formset, "item": item, "base": base,
    })


@require_roles(*EDITORS)
@require_POST
def item_submit(request: HttpRequest, code: str) -> HttpResponse:
    item = _item(request, code)
    working = reports.working_version(item)
    if working is None:
        messages.error(request, _("该事项没有草稿"))
    else:
        try:
            services.version_submit(actor=request.user, version=working)
        except RuleViolation as exc:
            messages.error(request, _problem_text(exc))
        except AccessDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        else:
            messages.success(request, _("已提交审核：%(name)s") % {"name": working.name})
    return redirect("catalog:bureau_item_history", code=code)


@require_roles(Role.ADMIN)
def review_queue(request: HttpRequest) -> HttpResponse:
    """Versions waiting for the bureau's decision."""
    versions = list(reports.review_queue())
    return render(request, "catalog/bureau/review_queue.html", {"versions": versions})


@require_roles(Role.ADMIN)
@require_POST
def item_review(request: HttpRequest, code: str) -> HttpResponse:
    item = _item(request, code)
    working = reports.working_version(item)
    approve = request.POST.get("decision") == "approve"
    note = request.POST.get("note", "")
    if working is None or working.status != S.UNDER_REVIEW:
        messages.error(request, _("该事项没有待审核的版本"))
        return redirect("catalog:bureau_review_queue")
    try:
        services.version_review(actor=request.user, version=working, approve=approve, note=note)
    except RuleViolation as exc:
        messages.error(request, f"{working.name}：{_problem_text(exc)}")
    except AccessDenied as exc:
        raise PermissionDenied(str(exc)) from exc
    else:
        done = _("已发布") if approve else _("已退回")
        messages.success(request, f"{done}：{working.name}")
    return redirect("catalog:bureau_review_queue")


@require_roles(Role.ADMIN)
def item_cancel(request: HttpRequest, code: str) -> HttpResponse:
    """Cancel an item (its published version leaves the public catalog), with a reason."""
    item = _item(request, code)
    form = NoteForm(request.POST or None)
    form.fields["note"].label = _("取消理由")
    if request.method == "POST" and form.is_valid():
        try:
            services.item_cancel(actor=request.user, item=item, reason=form.cleaned_data["note"])
        except RuleViolation as exc:
            add_problems(form, exc, {"reason": "note"})
        except AccessDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        else:
            messages.success(request, _("事项已取消：%(code)s") % {"code": code})
            return redirect("catalog:bureau_item_history", code=code)
    return render(request, "catalog/bureau/cancel.html", {"item": item, "form": form})


@require_roles(*EDITORS)
def item_history(request: HttpRequest, code: str) -> HttpResponse:
    """Every version of the item (status, who/when, notes) and the actions recorded on it."""
    item = _item(request, code)
    versions = list(reports.version_history(item))
    return render(request, "catalog/bureau/history.html", {
        "item": item, "versions": versions, "trail": reports.item_audit_trail(item),
        "working": next((v for v in versions if v.status in reports.WORKING), None),
        "is_bureau": request.user.role == Role.ADMIN,  # type: ignore[union-attr]
    })


@require_roles(*EDITORS)
def item_diff(request: HttpRequest, code: str) -> HttpResponse:
    """Field-by-field comparison of two versions (default: the latest and the one before)."""
    item = _item(request, code)
    versions = {v.number: v for v in reports.version_history(item)}
    numbers = sorted(versions)
    if not numbers:
        raise Http404(_("该事项没有版本"))

    def pick(name: str, default: int) -> ItemVersion:
        raw = request.GET.get(name, "")
        number = int(raw) if raw.isdecimal() else default
        if number not in versions:
            raise Http404(_("版本不存在"))
        return versions[number]

    new = pick("b", numbers[-1])
    earlier = [n for n in numbers if n < new.number]
    old = pick("a", earlier[-1] if earlier else new.number)
    diff = reports.version_diff(old, new)
    return render(request, "catalog/bureau/diff.html", {
        "item": item, "diff": diff, "numbers": numbers,
        "show_all": request.GET.get("all") == "1",
    })
