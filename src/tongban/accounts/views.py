"""Account pages: the two login doors (public and staff), self-registration, the provincial
identity provider (OIDC, when switched on), the own-account page, the elder-friendly switch and
the bureau's staff list. Rules live in ``services``; these views only parse and show."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tongban.core.access import public, require_login, require_roles
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.core.forms import add_problems

from . import selectors, services, twofactor
from .forms import (
    REGISTER_FIELD_MAP,
    CitizenRegisterForm,
    CompanyRegisterForm,
    PublicLoginForm,
    StaffLoginForm,
)
from .masking import mask_id_number, mask_phone
from .models import STAFF_ROLES, Role, User

ELDER_COOKIE_MAX_AGE = 365 * 24 * 3600


def _safe_next(request: HttpRequest, value: str | None, default: str = "/") -> str:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()},
                                                 require_https=request.is_secure()):
        return value
    return default


# Where staff land after logging in without a ``next`` page: their daily work (a door that is
# not installed falls back to the home page).
STAFF_HOME: dict[str, str] = {
    Role.CLERK: "cases:window", Role.OFFICER: "cases:workbench", Role.HEAD: "cases:head",
    Role.PROXY_AGENT: "cases:proxy", Role.SUPERVISOR: "catalog:quality",
    Role.ADMIN: "catalog:bureau_items",
}


class _LoginView(auth_views.LoginView):
    def get_default_redirect_url(self) -> str:
        name = STAFF_HOME.get(str(getattr(self.request.user, "role", "")))
        if name:
            try:
                return reverse(name)
            except NoReverseMatch:
                pass
        return super().get_default_redirect_url()


def _staff_only(path: str) -> bool:
    """Whether ``path`` is a page only staff roles may open (its view's access declaration)."""
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return False
    access = str(getattr(match.func, "access", ""))
    roles = set(access.removeprefix("roles:").split(",")) if access.startswith("roles:") else set()
    return bool(roles) and roles <= {str(r) for r in STAFF_ROLES}


def _login_page(request: HttpRequest, *, staff: bool) -> HttpResponseBase:
    return _LoginView.as_view(
        template_name="accounts/login.html",
        authentication_form=StaffLoginForm if staff else PublicLoginForm,
        extra_context={
            "staff_door": staff,
            "oidc_enabled": settings.OIDC_ENABLED and not staff,
            "oidc_failed": request.GET.get("oidc") == "failed" and not staff,
        },
    )(request)


@public
def login_view(request: HttpRequest) -> HttpResponseBase:
    """公众登录: citizens and enterprises (and the provincial identity provider when on).
    Someone sent here on the way to a staff-only page goes to the staff door instead."""
    next_url = request.GET.get("next", "")
    if request.method == "GET" and next_url and _staff_only(next_url):
        return redirect(reverse("accounts:staff_login") + "?" + urlencode({"next": next_url}))
    return _login_page(request, staff=False)


@public
def staff_login_view(request: HttpRequest) -> HttpResponseBase:
    """工作人员登录: every staff role."""
    return _login_page(request, staff=True)


@public
def logout_view(request: HttpRequest) -> HttpResponseBase:
    return auth_views.LogoutView.as_view()(request)


@public
def register(request: HttpRequest, kind: str = "citizen") -> HttpResponse:
    """Self-registration of a natural person (``kind`` citizen) or a company (enterprise)."""
    form_class = CompanyRegisterForm if kind == "enterprise" else CitizenRegisterForm
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"), "")
    if request.user.is_authenticated:
        messages.info(request, _("您已登录，如需注册新账户请先退出。"))
        return redirect(next_url or "accounts:me")
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.account_register(actor=request.user, fields=form.user_fields(),
                                             password=form.cleaned_data["password1"])
        except RuleViolation as exc:
            add_problems(form, exc, field_map=REGISTER_FIELD_MAP)
        except AccessDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        else:
            auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("注册成功，您已登录。"))
            return redirect(next_url or "/")
    return render(request, "accounts/register.html", {
        "form": form, "kind": "enterprise" if kind == "enterprise" else "citizen", "next": next_url,
    }, status=400 if request.method == "POST" else 200)


# --- the provincial identity provider (OIDC) -------------------------------------------------

def _oidc_on() -> None:
    if not settings.OIDC_ENABLED:
        raise Http404(_("未启用统一身份认证登录"))


@public
def oidc_authenticate(request: HttpRequest) -> HttpResponseBase:
    """Sends the visitor to the provider's login (mozilla-django-oidc's view)."""
    _oidc_on()
    from mozilla_django_oidc.views import OIDCAuthenticationRequestView

    return OIDCAuthenticationRequestView.as_view()(request)


@public
def oidc_callback(request: HttpRequest) -> HttpResponseBase:
    """The provider sends the visitor back here; the backend maps the claims to an account."""
    _oidc_on()
    from mozilla_django_oidc.views import OIDCAuthenticationCallbackView

    return OIDCAuthenticationCallbackView.as_view()(request)


# --- the own account, elder mode, the staff list ---------------------------------------------

@require_login
def me(request: HttpRequest) -> HttpResponse:
    """The logged-in person's own account; identifiers masked even here (shoulder-surfing)."""
    user = request.user
    assert isinstance(user, User)  # require_login let only authenticated users in
    staff = twofactor.may_enrol(user)
    return render(request, "accounts/me.html", {
        "account": user, "id_number": mask_id_number(user.id_number), "phone": mask_phone(user.phone),
        "legal_representative_id_number": mask_id_number(user.legal_representative_id_number),
        "two_factor": {"enrolled": twofactor.enrolled(user),
                       "required": twofactor.required_for(user),
                       "codes_left": twofactor.recovery_codes_left(user)} if staff else None,
    })


@public
@require_POST
def elder_mode(request: HttpRequest) -> HttpResponseBase:
    """The header's 适老化模式 switch: remembers the choice in a cookie and goes back."""
    on = request.POST.get("elder") == "on"
    target = _safe_next(request, request.POST.get("next"), reverse("catalog:home"))
    response: Any = HttpResponseRedirect(target)
    if on:
        response.set_cookie(settings.ELDER_MODE_COOKIE, "1", max_age=ELDER_COOKIE_MAX_AGE,
                            samesite="Lax", secure=settings.SESSION_COOKIE_SECURE, httponly=True)
    else:
        response.delete_cookie(settings.ELDER_MODE_COOKIE, samesite="Lax")
    return response


@require_roles(Role.ADMIN)
def staff(request: HttpRequest) -> HttpResponse:
    """The bureau's list of staff accounts and where each works."""
    rows = [{"user": u, "phone": mask_phone(u.phone)} for u in selectors.staff_list()]
    return render(request, "accounts/staff.html", {"rows": rows})
