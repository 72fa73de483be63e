from django.urls import URLPattern, path

from . import views

app_name = "licences"
urlpatterns: list[URLPattern] = [
    path("verify/", views.verify, name="verify"),
    path("mine/", views.wallet, name="wallet"),
    path("mine/<str:identifier>/", views.wallet_licence, name="wallet_licence"),
    path("authorized/", views.authorized, name="authorized"),
    path("<str:identifier>/pdf/", views.licence_pdf, name="pdf"),
    path("<str:identifier>/file/", views.licence_file, name="file"),
]
