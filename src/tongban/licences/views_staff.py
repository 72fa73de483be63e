"""Pages of the e-licence library for staff: the issuing department's licences (list, change to
a new version, revoke with a reason) and the data bureau's licence types (view, edit, upload a
types file). Every write goes through the library's services; these pages only parse and show.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tongban.accounts.models import Role
from tongban.core.access import require_roles
from tongban.core.errors import AccessDenied, Problem, RuleViolation
from tongban.organizations.models import Department

from . import documents, policies, selectors, services
from .models import HolderKind, Licence, LicenceType, Status, Validity
from .services.types import TYPE_FIELDS

PAGE_SIZE = 50
MAX_TYPES_FILE_BYTES = 1024 * 1024
ISSUERS = (Role.OFFICER, Role.HEAD)
TYPE_KEEPERS = (Role.DATA_OFFICER, Role.ADMIN)
BLANK_FIELD_ROWS = 3
# Surface values taken from the holder: changed with the holder's name, never typed in.
HOLDER_KEYS = ("holder_name", "holder_id")


def _private(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, private=True, no_store=True)
    return response


# --- the issuing department's licences ----------------------------------------------------------

@require_roles(*ISSUERS)
def issued(request: HttpRequest) -> HttpResponse:
    """本部门证照: the licences my department issued, filtered by type, status and a search."""
    type_code = request.GET.get("type", "").strip()[:21]
    status = request.GET.get("status", "")
    status = status if status in Status.values else ""
    q = request.GET.get("q", "").strip()[:100]
    found = selectors.issued_by(request.user, type_code=type_code, status=status, q=q)
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"licence": lc, "holder_id": selectors.masked_holder_id(lc)} for lc in page.object_list]
    return _private(render(request, "licences/issued.html", {
        "page_obj": page, "rows": rows, "total": page.paginator.count, "q": q,
        "type_code": type_code, "status": status, "statuses": Status.choices,
        "types": selectors.types_of_department(request.user)}))


def _problems(refused: RuleViolation | AccessDenied) -> dict[str, str]:
    if isinstance(refused, AccessDenied):
        return {"": str(refused)}
    return {p.field: str(p.message) for p in refused.problems}


@require_roles(*ISSUERS)
@require_http_methods(["GET", "POST"])
def issued_licence(request: HttpRequest, identifier: str) -> HttpResponse:
    """One licence of my department: its surface, and the change and revoke forms that
    ``available_actions`` offers."""
    try:
        licence = selectors.issued_licence(request.user, identifier)
    except Licence.DoesNotExist:
        raise Http404(_("没有该电子证照")) from None
    fields = selectors.surface(licence)
    errors: dict[str, str] = {}
    form = request.POST.get("action", "")
    values: dict[str, str] = {}
    if request.method == "POST":
        reason = request.POST.get("reason", "")
        try:
            if form == "revoke":
                services.licence_revoke(actor=request.user, licence=licence, reason=reason)
                messages.success(request, _("证照已注销"))
                return redirect("licences:issued_licence", identifier=licence.identifier)
            if form == "change":
                values = {f["key"]: request.POST.get(f"surface-{f['key']}", "").strip()
                          for f in fields if f["key"] not in HOLDER_KEYS}
                changed = {k: v for k, v in values.items()
                           if v != str(next(f["value"] for f in fields if f["key"] == k))}
                new = services.licence_change(
                    actor=request.user, licence=licence, surface=changed, reason=reason,
                    holder_name=request.POST.get("holder_name", "").strip()[:200])
                messages.success(request, _("已签发新版本"))
                return redirect("licences:issued_licence", identifier=new.identifier)
            raise Http404
        except (RuleViolation, AccessDenied) as refused:
            errors = _problems(refused)
    editable = [{"key": f["key"], "name": f["name"], "value": values.get(f["key"], f["value"]),
                 "error": errors.get(f"surface.{f['key']}", "")}
                for f in fields if f["key"] not in HOLDER_KEYS]
    return _private(render(request, "licences/issued_licence.html", {
        "licence": licence, "fields": fields, "holder_keys": HOLDER_KEYS, "editable": editable,
        "holder_id": selectors.masked_holder_id(licence),
        "actions": services.available_actions(request.user, licence), "errors": errors,
        "form": form, "values": values, "reason": request.POST.get("reason", ""),
        "verify_url": documents.verify_url(licence, request)},
        status=422 if errors else 200))


# --- the data bureau's licence types ------------------------------------------------------------

def _refuse_unless_keeper(request: HttpRequest) -> None:
    """A department's own data officer may not keep the types: the data bureau's do (403)."""
    if not policies.can_manage_types(request.user):
        raise PermissionDenied(_("只有数据管理部门可以维护证照类型"))


@require_roles(*TYPE_KEEPERS)
@require_http_methods(["GET", "POST"])
def types(request: HttpRequest) -> HttpResponse:
    """证照类型: every type, and the upload of a types file (JSON, refused whole)."""
    _refuse_unless_keeper(request)
    problems: list[Problem] = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        dry_run = bool(request.POST.get("dry_run"))
        if upload is None:
            problems = [Problem("file", _("请选择证照类型文件（JSON）"))]
        elif upload.size is not None and upload.size > MAX_TYPES_FILE_BYTES:
            problems = [Problem("file", _("文件过大：证照类型文件不超过1MB"))]
        else:
            try:
                rows = json.loads(upload.read().decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                problems = [Problem("file", _("文件不是有效的JSON（UTF-8）"))]
            else:
                try:
                    counts = services.licence_types_import(actor=request.user, rows=rows,
                                                           dry_run=dry_run)
                except RuleViolation as refused:
                    problems = list(refused.problems)
                else:
                    text = (_("检查通过（未导入）：新增 %(created)s，修改 %(changed)s，未变 %(unchanged)s")
                            if dry_run else
                            _("已导入：新增 %(created)s，修改 %(changed)s，未变 %(unchanged)s"))
                    messages.success(request, text % counts)
                    return redirect("licences:types")
    return _private(render(request, "licences/types.html", {
        "types": selectors.licence_types(), "problems": problems},
        status=422 if problems else 200))


def _posted_fields(post: Any) -> list[dict[str, Any]]:
    """The surface rows of the type form (``field-<i>-key`` …), blank rows left out."""
    rows: list[dict[str, Any]] = []
    i = 0
    while f"field-{i}-key" in post and i < 60:
        key, name = post.get(f"field-{i}-key", "").strip(), post.get(f"field-{i}-name", "").strip()
        if key or name:
            rows.append({"key": key, "name": name,
                         "element": post.get(f"field-{i}-element", "").strip().upper(),
                         "required": bool(post.get(f"field-{i}-required"))})
        i += 1
    return rows


def _posted_type(post: Any, code: str) -> services.LicenceTypeData:
    department_id = post.get("department", "")
    years = post.get("validity_years", "").strip()
    return services.LicenceTypeData(
        code=code, name=post.get("name", "").strip(), name_en=post.get("name_en", "").strip(),
        aliases=[a.strip() for a in post.get("aliases", "").splitlines() if a.strip()],
        holder_kind=post.get("holder_kind", ""),
        department=Department.objects.filter(pk=department_id).first()
        if department_id.isdecimal() else None,
        validity=post.get("validity", ""), validity_years=int(years) if years.isdecimal() else None,
        fields=_posted_fields(post), template=post.get("template", ""),
        active=bool(post.get("active")))


@require_roles(*TYPE_KEEPERS)
@require_http_methods(["GET", "POST"])
def type_edit(request: HttpRequest, code: str = "") -> HttpResponse:
    """A licence type: new (``code`` empty) or edited, saved through ``licence_type_save``."""
    _refuse_unless_keeper(request)
    existing = LicenceType.objects.filter(code=code.upper()).first() if code else None
    if code and existing is None:
        raise Http404(_("没有该证照类型"))
    errors: dict[str, str] = {}
    if request.method == "POST":
        data = _posted_type(request.POST, existing.code if existing else
                            request.POST.get("code", "").strip().upper()[:21])
        try:
            saved = services.licence_type_save(actor=request.user, data=data)
        except RuleViolation as refused:
            errors = {p.field: str(p.message) for p in refused.problems}
        else:
            messages.success(request, _("证照类型已保存"))
            return redirect("licences:type_edit", code=saved.code)
        values: dict[str, Any] = {**data.values(), "code": data.code,
                                  "department": data.department.pk if data.department else None}
    elif existing is not None:
        values = {**{name: getattr(existing, name) for name in TYPE_FIELDS},
                  "code": existing.code, "department": existing.department_id}
    else:
        values = {"code": "", "name": "", "name_en": "", "aliases": [], "holder_kind": "",
                  "department": None, "validity": Validity.PERMANENT, "validity_years": None,
                  "fields": [], "template": "", "active": True}
    rows = [*values["fields"], *({"key": "", "name": "", "element": "", "required": True}
                                 for _ in range(BLANK_FIELD_ROWS))]
    return _private(render(request, "licences/type_edit.html", {
        "existing": existing, "values": values, "rows": rows, "errors": errors,
        "aliases": "\n".join(values["aliases"] or []),
        "holder_kinds": HolderKind.choices, "validities": Validity.choices,
        "departments": Department.objects.order_by("name"),
        "field_errors": sorted((k, v) for k, v in errors.items() if k.startswith("fields"))},
        status=422 if errors else 200))
