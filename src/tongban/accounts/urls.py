from django.urls import path

from . import twofactor_views, views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("staff/login/", views.staff_login_view, name="staff_login"),
    path("logout/", views.logout_view, name="logout"),
    path("register/", views.register, name="register"),
    path("register/company/", views.register, {"kind": "enterprise"}, name="register_company"),
    path("oidc/authenticate/", views.oidc_authenticate, name="oidc_authenticate"),
    path("oidc/callback/", views.oidc_callback, name="oidc_callback"),
    path("me/", views.me, name="me"),
    path("elder-mode/", views.elder_mode, name="elder_mode"),
    path("staff/", views.staff, name="staff"),
    path("2fa/setup/", twofactor_views.setup, name="2fa_setup"),
    path("2fa/verify/", twofactor_views.verify, name="2fa_verify"),
    path("2fa/disable/", twofactor_views.disable, name="2fa_disable"),
]
