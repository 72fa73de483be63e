from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponseBase

from tongban.core.access import public


@public
def login_view(request: HttpRequest) -> HttpResponseBase:
    return auth_views.LoginView.as_view(template_name="accounts/login.html")(request)


@public
def logout_view(request: HttpRequest) -> HttpResponseBase:
    return auth_views.LogoutView.as_view()(request)
