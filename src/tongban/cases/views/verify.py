"""The public verification page a printed notice's QR code opens (``/verify/<code>/``): anyone
may check that a document is genuine and follow the case's public progress, without personal
data. An altered or unknown code gets the "无法核验" page with status 404.

The PDF of a notice is listed here too (its URL sits under the case, next to the HTML notice)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.cache import patch_cache_control

from tongban.core.access import public

from .. import documents
from . import notices


@public
def verify(request: HttpRequest, token: str) -> HttpResponse:
    notice = documents.notice_from_token(token)
    if notice is None:
        response = render(request, "cases/verify_failed.html", {"token": token}, status=404)
    else:
        response = render(request, "cases/verify.html", {"v": documents.verification(notice)})
    # The progress changes: never served stale from a cache.
    patch_cache_control(response, no_cache=True, max_age=0)
    response["X-Robots-Tag"] = "noindex"
    return response


urlpatterns: list[URLPattern] = [
    path("verify/<str:token>/", verify, name="verify"),
    path("cases/<str:number>/notices/<str:notice_number>/pdf/", notices.notice_pdf,
         name="notice_pdf"),
]
