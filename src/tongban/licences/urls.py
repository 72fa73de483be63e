from django.urls import URLPattern, path

from . import views, views_staff

app_name = "licences"
urlpatterns: list[URLPattern] = [
    path("verify/", views.verify, name="verify"),
    path("mine/", views.wallet, name="wallet"),
    path("mine/<str:identifier>/", views.wallet_licence, name="wallet_licence"),
    path("authorized/", views.authorized, name="authorized"),
    path("issued/", views_staff.issued, name="issued"),
    path("issued/<str:identifier>/", views_staff.issued_licence, name="issued_licence"),
    path("types/", views_staff.types, name="types"),
    path("types/new/", views_staff.type_edit, name="type_new"),
    path("types/<str:code>/", views_staff.type_edit, name="type_edit"),
    path("<str:identifier>/pdf/", views.licence_pdf, name="pdf"),
    path("<str:identifier>/file/", views.licence_file, name="file"),
]
