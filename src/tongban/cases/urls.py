"""Case pages. Each door keeps its own URL list next to its views (``views/<door>.py``):
``/apply/…`` and ``/my/…`` (portal), ``/window/…``, ``/workbench/…``, ``/verify/…``."""

from django.urls import path

from .views import notices, portal, verify, window, workbench

app_name = "cases"
urlpatterns = [
    path("cases/<str:number>/notices/<str:notice_number>/", notices.notice_detail, name="notice"),
    *portal.urlpatterns,
    *window.urlpatterns,
    *workbench.urlpatterns,
    *verify.urlpatterns,
]
