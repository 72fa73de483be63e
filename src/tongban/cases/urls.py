"""Case pages. Each door keeps its own URL lists next to its views (``views/``): the portal
(``/apply/…``, ``/my/…``: ``portal``, ``portal_materials``, ``portal_cases``), ``/window/…``,
the workbench (``/workbench/…``: ``workbench``, ``workbench_head``, ``proxy_desk``), ``/verify/…``."""

from django.urls import path

from .views import (
    notices,
    portal,
    portal_cases,
    portal_materials,
    proxy_desk,
    verify,
    window,
    workbench,
    workbench_head,
)

app_name = "cases"
urlpatterns = [
    path("cases/<str:number>/notices/<str:notice_number>/", notices.notice_detail, name="notice"),
    *portal.urlpatterns,
    *portal_materials.urlpatterns,
    *portal_cases.urlpatterns,
    *window.urlpatterns,
    *workbench.urlpatterns,
    *workbench_head.urlpatterns,
    *proxy_desk.urlpatterns,
    *verify.urlpatterns,
]
