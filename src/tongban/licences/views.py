"""Pages of the e-licence library: the public verification page (by identifier, by QR code, by
uploading a licence file), a licence's PDF and machine-readable file."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tongban.accounts.models import Role
from tongban.core.access import public, require_login, require_roles
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.organizations.models import Department

from . import documents, policies, selectors, services
from .models import Licence
from .verification import Outcome, Verdict, licence_document, verify_document, verify_identifier

MAX_FILE_BYTES = 256 * 1024


@public
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """证照核验: ``?id=`` (the QR code's address), or a licence file uploaded."""
    verdict: Verdict | None = None
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = _("请选择要核验的电子证照机读文件（JSON）")
        elif upload.size is not None and upload.size > MAX_FILE_BYTES:
            error = _("文件过大：电子证照机读文件不超过256KB")
        else:
            try:
                document = json.loads(upload.read().decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                document = None
            verdict = verify_document(document)
    elif request.GET.get("id", "").strip():
        verdict = verify_identifier(request.GET["id"][:120])
    status = 404 if verdict is not None and verdict.outcome == Outcome.NOT_FOUND else 200
    response = render(request, "licences/verify.html", {
        "verdict": verdict, "error": error,
        "holder": selectors.public_holder(verdict.licence) if verdict and verdict.licence else "",
        "id": request.GET.get("id", "")[:120]}, status=status)
    patch_cache_control(response, no_cache=True, max_age=0)
    response["X-Robots-Tag"] = "noindex"
    return response


def _licence(request: HttpRequest, identifier: str) -> Licence:
    try:
        return selectors.licence_for(request.user, identifier)
    except (Licence.DoesNotExist, AccessDenied):
        raise Http404(_("没有该电子证照")) from None


def _private(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_login
def licence_pdf(request: HttpRequest, identifier: str) -> HttpResponse:
    """The printable licence (the holder, the issuing department, supervisors)."""
    licence = _licence(request, identifier)
    response = HttpResponse(documents.render_licence_pdf(licence, request),
                            content_type="application/pdf")
    disposition = "attachment" if request.GET.get("download") else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{documents.pdf_filename(licence)}"'
    return _private(response)


@require_login
def licence_file(request: HttpRequest, identifier: str) -> HttpResponse:
    """The machine-readable licence: its signed content and signature, as a JSON file."""
    licence = _licence(request, identifier)
    document = licence_document(licence, verify_url=documents.verify_url(licence, request))
    response = JsonResponse(document, json_dumps_params={"ensure_ascii": False, "indent": 2})
    name = documents.pdf_filename(licence).removesuffix(".pdf") + ".json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return _private(response)



# --- 证照夹: the holder's wallet, 授权用证 ----------------------------------------------------

HOLDERS = (Role.CITIZEN, Role.ENTERPRISE)


@require_roles(*HOLDERS)
def wallet(request: HttpRequest) -> HttpResponse:
    """The account holder's own licences, with their PDF and file."""
    return _private(render(request, "licences/wallet.html",
                           {"licences": selectors.wallet(request.user)}))


@require_roles(*HOLDERS)
@require_http_methods(["GET", "POST"])
def wallet_licence(request: HttpRequest, identifier: str) -> HttpResponse:
    """One of my licences: its surface, its case, who may use it (授权用证) and who used it."""
    licence = _licence(request, identifier)
    if not policies.is_holder(request.user, licence):
        raise Http404(_("没有该电子证照"))
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    if request.method == "POST":
        if request.POST.get("revoke"):
            found = selectors.authorizations_of(licence)
            chosen = next((a for a in found if str(a.pk) == request.POST["revoke"]), None)
            if chosen is not None:
                services.authorization_revoke(actor=request.user, authorization=chosen)
                messages.success(request, _("已撤回授权"))
            return redirect("licences:wallet_licence", identifier=licence.identifier)
        values = {k: request.POST.get(k, "").strip() for k in ("department", "purpose",
                                                               "case_number", "days")}
        department = Department.objects.filter(pk=values["department"]).first() if (
            values["department"].isdecimal()) else None
        try:
            services.authorization_grant(
                actor=request.user, licence=licence, department=department,
                purpose=values["purpose"], case_number=values["case_number"],
                days=int(values["days"]) if values["days"].isdecimal() else 0)
        except RuleViolation as refused:
            errors = {p.field: str(p.message) for p in refused.problems}
        else:
            messages.success(request, _("已授权该部门使用本证照"))
            return redirect("licences:wallet_licence", identifier=licence.identifier)
    return _private(render(request, "licences/wallet_licence.html", {
        "licence": licence, "fields": selectors.surface(licence),
        "authorizations": selectors.authorizations_of(licence), "errors": errors,
        "values": values, "departments": Department.objects.order_by("name"),
        "verify_url": documents.verify_url(licence, request)}, status=422 if errors else 200))


@require_roles(Role.OFFICER, Role.HEAD, Role.DATA_OFFICER)
@require_http_methods(["GET", "POST"])
def authorized(request: HttpRequest) -> HttpResponse:
    """用证: licences their holders authorised my department to use; using one records it."""
    used = None
    if request.method == "POST":
        chosen = next((a for a in selectors.authorizations_for(request.user)
                       if str(a.pk) == request.POST.get("authorization", "")), None)
        if chosen is None:
            raise Http404(_("没有该授权"))
        try:
            used = services.licence_use(actor=request.user, authorization=chosen,
                                        case_number=request.POST.get("case_number", ""))
        except (AccessDenied, RuleViolation) as refused:
            messages.error(request, str(refused))
    return _private(render(request, "licences/authorized.html", {
        "authorizations": selectors.authorizations_for(request.user), "used": used,
        "fields": selectors.surface(used) if used else []}))
