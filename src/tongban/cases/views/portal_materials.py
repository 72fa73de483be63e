"""The applicant's materials for a draft (``/my/cases/<ref>/materials/``): upload a file for
a material, promise one for later (容缺受理), read a file back. Part of the applicant's door;
the shared helpers are in ``portal``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from tongban.catalog.models import Commitment, Material
from tongban.core.access import require_roles
from tongban.core.errors import AccessDenied, Problem, RuleViolation

from .. import services
from ..materials import case_material_add
from ..models import Case, CaseMaterial
from .portal import (
    APPLICANTS,
    _case_url,
    _current_materials,
    _int,
    _material_rows,
    _own_case,
    _private,
    _require_draft,
    _upload_rules,
)
from .portal_cases import _case_context


@require_roles(*APPLICANTS)
def case_materials(request: HttpRequest, ref: str) -> HttpResponse:
    """Step 2 of applying: a slot per material of the item version (GET); uploads are posted
    to :func:`material_upload`."""
    case = _own_case(request, ref)
    gone = _require_draft(request, case)
    if gone is not None:
        return gone
    return _private(render(request, "cases/portal/materials.html",
                           _materials_context(case, errors={})))


def _materials_context(case: Case, *, errors: dict[str, Any]) -> dict[str, Any]:
    today = timezone.localdate()
    return {"case": case, "item": case.item, "version": case.item_version, "step": 2,
            "rows": _material_rows(case, errors), "rules": _upload_rules(), "errors": errors,
            "extras": _current_materials(case).get(None, []),
            "on_the_spot": case.item_version.commitment == Commitment.ON_THE_SPOT,
            "today": today.isoformat()}


@require_roles(*APPLICANTS)
@require_POST
def material_upload(request: HttpRequest, ref: str) -> HttpResponse:
    """Store the files chosen in the slots (``file_<material id>``; ``extra_<n>`` with
    ``extra_name_<n>`` for a document the one-time notice names without a catalog material),
    each through ``materials.case_material_add``. A refused file is named next to its slot;
    the others are kept."""
    case = _own_case(request, ref)
    back = request.POST.get("back")
    materials = {m.pk: m for m in case.item_version.materials.all()}
    errors: dict[str, Any] = {}
    stored: list[str] = []
    for name, uploads in request.FILES.lists():
        upload = uploads[-1]
        material: Material | None = None
        label = ""
        if name.startswith("file_"):
            material = materials.get(_int(name.removeprefix("file_")) or 0)
            if material is None:
                continue
        elif name.startswith("extra_"):
            label = request.POST.get("extra_name_" + name.removeprefix("extra_"), "")
        else:
            continue
        try:
            record = case_material_add(actor=request.user, case=case, material=material,
                                       name=label, upload=upload, original_name=upload.name or "")
        except RuleViolation as error:
            errors[name] = "；".join(str(p.message) for p in error.problems)
        except AccessDenied as error:
            raise PermissionDenied(str(error)) from error
        else:
            stored.append(record.name)
    if stored:
        messages.success(request, _("已上传：%(names)s") % {"names": "、".join(stored)})
    if not errors and not stored:
        errors["none"] = _("请先选择要上传的文件")
    if errors:
        case.refresh_from_db()
        if back == "case":
            return _private(render(request, "cases/portal/case_detail.html",
                                   _case_context(request, case, errors=errors), status=422))
        return _private(render(request, "cases/portal/materials.html",
                               _materials_context(case, errors=errors), status=422))
    if back == "case":
        return redirect(_case_url(case) + "#needed")
    return redirect(_case_url(case, "cases:my_materials"))


@require_roles(*APPLICANTS)
@require_POST
def material_promise(request: HttpRequest, ref: str) -> HttpResponse:
    """容缺: promise in writing to supply a deferrable material by a date
    (``services.case_material_promise``)."""
    case = _own_case(request, ref)
    material = case.item_version.materials.filter(pk=_int(request.POST.get("material")) or 0).first()
    key = f"promise_{material.pk if material else ''}"
    problems: list[Problem] = []
    promised_by: dt.date | None = None
    try:
        promised_by = dt.date.fromisoformat(request.POST.get("promised_by", "").strip())
    except ValueError:
        problems.append(Problem("promised_by", _("请填写承诺补交日期（格式YYYY-MM-DD）")))
    if material is None:
        problems.append(Problem("material", _("请选择要容缺承诺的材料")))
    if not problems:
        assert material is not None and promised_by is not None
        try:
            services.case_material_promise(actor=request.user, case=case, material=material,
                                           promise=request.POST.get("promise", ""),
                                           promised_by=promised_by)
        except RuleViolation as error:
            problems = error.problems
        except AccessDenied as error:
            raise PermissionDenied(str(error)) from error
    if problems:
        case.refresh_from_db()
        errors = {key: "；".join(str(p.message) for p in problems)}
        return _private(render(request, "cases/portal/materials.html",
                               _materials_context(case, errors=errors), status=422))
    messages.success(request, _("已记录容缺承诺：%(name)s") % {"name": material.name if material else ""})
    return redirect(_case_url(case, "cases:my_materials"))


@require_roles(*APPLICANTS)
def material_file(request: HttpRequest, ref: str, pk: int) -> FileResponse:
    """One's own uploaded file, shown in the browser (PDF and images) for checking."""
    case = _own_case(request, ref)
    record = get_object_or_404(CaseMaterial, pk=pk, case=case)
    if not record.file:
        raise Http404
    response = FileResponse(record.file.open("rb"), content_type=record.content_type,
                            filename=record.original_name or (record.file.name or "").rsplit("/", 1)[-1])
    response["Content-Disposition"] = response["Content-Disposition"].replace("attachment", "inline")
    patch_cache_control(response, private=True, no_store=True)
    return response


# --- review and submit -------------------------------------------------------------------------

urlpatterns: list[URLPattern] = [
    path("my/cases/<str:ref>/materials/", case_materials, name="my_materials"),
    path("my/cases/<str:ref>/materials/upload/", material_upload, name="my_material_upload"),
    path("my/cases/<str:ref>/materials/promise/", material_promise, name="my_material_promise"),
    path("my/cases/<str:ref>/files/<int:pk>/", material_file, name="my_material_file"),
]
