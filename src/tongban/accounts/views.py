from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render

from tongban.core.access import public, require_login, require_roles

from . import selectors
from .masking import mask_id_number, mask_phone
from .models import Role, User


@public
def login_view(request: HttpRequest) -> HttpResponseBase:
    return auth_views.LoginView.as_view(template_name="accounts/login.html")(request)


@public
def logout_view(request: HttpRequest) -> HttpResponseBase:
    return auth_views.LogoutView.as_view()(request)


@require_login
def me(request: HttpRequest) -> HttpResponse:
    """The logged-in person's own account; identifiers masked even here (shoulder-surfing)."""
    user = request.user
    assert isinstance(user, User)  # require_login let only authenticated users in
    return render(request, "accounts/me.html", {
        "account": user, "id_number": mask_id_number(user.id_number), "phone": mask_phone(user.phone),
    })


@require_roles(Role.ADMIN)
def staff(request: HttpRequest) -> HttpResponse:
    """The bureau's list of staff accounts and where each works."""
    rows = [{"user": u, "phone": mask_phone(u.phone)} for u in selectors.staff_list()]
    return render(request, "accounts/staff.html", {"rows": rows})
