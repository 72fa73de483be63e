"""Case pages. The printable notices (告知文书) are for the applicant's side of the case and the
staff who may view it (``policies.can_view``); anyone else gets 404, as if there were none."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control

from tongban.core.access import require_login

from .. import notices


@require_login
def notice_detail(request: HttpRequest, number: str, notice_number: str) -> HttpResponse:
    notice = notices.visible_notice(request.user, case_number=number, notice_number=notice_number)
    if notice is None:
        raise Http404
    response = render(request, notices.notice_template(notice), notices.notice_context(notice))
    # Personal data: never kept by shared caches or the browser's back-forward cache.
    patch_cache_control(response, private=True, no_store=True)
    return response
