"""The stack's own ceiling, for ``benchmarks/http_bench.py``: two bare Django views served through the
same middleware, workers and threads as the platform, mounted only when ``TONGBAN_BENCH_CEILING``
is on (never in production by default).

- ``/_bench/constant``: a constant JSON answer, no database;
- ``/_bench/one-row?id=N``: one catalog item read by primary key through the ORM, as JSON.

A page's requests per second divided by these is the share of the stack's ceiling it reaches,
measured in the same run on the same (busy) machine.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, path

from tongban.catalog.models import Item
from tongban.core.access import public


@public
def constant(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True, "name": "tongban"})


@public
def one_row(request: HttpRequest) -> JsonResponse:
    try:
        pk = int(request.GET.get("id", "1"))
    except ValueError:
        pk = 1
    item = Item.objects.filter(pk=pk).only("pk", "implementation_code", "basic_code").first()
    if item is None:
        return JsonResponse({"error": "no such item"}, status=404)
    return JsonResponse({"id": item.pk, "implementation_code": item.implementation_code,
                         "basic_code": item.basic_code})


urlpatterns: list[URLPattern] = [
    path("_bench/constant", constant, name="bench_constant"),
    path("_bench/one-row", one_row, name="bench_one_row"),
]
