"""The two-factor pages (``twofactor``): enrolment with a QR code, the code after the password,
and switching it off for staff who opted in."""

from __future__ import annotations

import segno
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tongban.core.access import require_login
from tongban.core.errors import RuleViolation

from . import twofactor
from .models import User


def _next(request: HttpRequest) -> str:
    value = request.POST.get("next") or request.GET.get("next") or ""
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()},
                                                 require_https=request.is_secure()):
        return value
    return ""


def _staff(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # require_login let only authenticated users in
    if not twofactor.may_enrol(user):
        raise PermissionDenied(_("只有工作人员账户可以启用双重验证"))
    return user


@require_login
def setup(request: HttpRequest) -> HttpResponse:
    """绑定身份验证器: a QR code (and the key in text) for the app, then one code to confirm.
    An enrolled account that is not yet verified in this session must verify first."""
    user = _staff(request)
    if twofactor.enrolled(user) and not twofactor.verified(request):
        return redirect("accounts:2fa_verify")
    device = twofactor.enrolment_device(user)
    uri = device.config_url
    error = ""
    if request.method == "POST":
        try:
            codes = twofactor.totp_enrol(actor=user, device=device, token=request.POST.get("token", ""))
        except RuleViolation as exc:
            error = "; ".join(str(p.message) for p in exc.problems)
        else:
            from django_otp import login as otp_login

            device.refresh_from_db()
            otp_login(request, device)
            request.session[twofactor.SESSION_NEEDS] = True
            return render(request, "accounts/2fa_codes.html", {"codes": codes, "next": _next(request)})
    secret = _base32(device.bin_key)
    qr = segno.make(uri, error="m").svg_data_uri(scale=5)
    return render(request, "accounts/2fa_setup.html", {
        "qr": qr, "secret": secret, "error": error, "next": _next(request),
        "required": twofactor.required_for(user), "issuer": settings.SITE_NAME,
    }, status=400 if error else 200)


def _base32(key: bytes) -> str:
    from base64 import b32encode

    text = b32encode(key).decode().rstrip("=")
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


@require_login
def verify(request: HttpRequest) -> HttpResponseBase:
    """输入验证码: after the password, the code from the app or a recovery code."""
    user = _staff(request)
    if not twofactor.enrolled(user):
        return redirect("accounts:2fa_setup")
    error = ""
    if request.method == "POST":
        token = request.POST.get("token", "")
        if not twofactor.clean_code(token):
            # Nothing typed: ask again; not a failed login (the lockout counts wrong codes only).
            return render(request, "accounts/2fa_verify.html",
                          {"error": _("请输入验证码"), "next": _next(request)}, status=400)
        if twofactor.verify(request=request, user=user, token=token):
            return redirect(_next(request) or "/")
        error = _("验证码不正确或已过期")
        if getattr(request, "axes_locked_out", False):
            twofactor.end_session(request)  # axes answers with the lockout page
    return render(request, "accounts/2fa_verify.html", {"error": error, "next": _next(request)},
                  status=400 if error else 200)


@require_login
@require_POST
def disable(request: HttpRequest) -> HttpResponseBase:
    """停用双重验证 (only where the role does not require it)."""
    user = _staff(request)
    try:
        twofactor.totp_disable(actor=user, second_factor_passed=twofactor.verified(request))
    except RuleViolation as exc:
        messages.error(request, "; ".join(str(p.message) for p in exc.problems))
    else:
        request.session[twofactor.SESSION_NEEDS] = False
        messages.success(request, _("已停用双重验证"))
    return redirect("accounts:me")
