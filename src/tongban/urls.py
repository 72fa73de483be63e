from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from tongban.api import api
from tongban.core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("metrics", core_views.metrics_view, name="metrics"),
    path("i18n/setlang/", core_views.set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("accounts/", include("tongban.accounts.urls")),
    path("queue/", include("tongban.queues.urls")),
    path("inspections/", include("tongban.inspections.urls")),
    path("data/", include("tongban.exchange.urls")),
    path("licences/", include("tongban.licences.urls")),
    path("ratings/", include("tongban.ratings.urls")),
    path("supervision/audit/", include("tongban.audit.urls")),
    path("supervision/", include("tongban.supervision.urls")),
    path("decisions/", include("tongban.decisions.urls")),
    path("", include("tongban.cases.urls")),
    path("", include("tongban.catalog.urls")),
]

if settings.BENCH_CEILING:
    # The ceiling views of benchmarks/http_bench.py (tongban.bench), only when asked for.
    from tongban import bench

    urlpatterns += bench.urlpatterns
