from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.i18n import set_language as django_set_language

from .access import public


@public
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for load balancers and the start script."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception:  # any database failure means "not healthy", whatever its type
        database = "unavailable"
    status = 200 if database == "ok" else 503
    return JsonResponse({"status": "ok" if status == 200 else "error", "database": database},
                        status=status)


@public
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch between 简体中文 and English (Django's view, declared public)."""
    return django_set_language(request)
