"""Case pages. The printable notices (告知文书) are for the applicant's side of the case and the
staff who may view it (``policies.can_view``); anyone else gets 404, as if there were none.
Each notice is a page (``cases:notice``) and a PDF with its verification QR code
(``cases:notice_pdf``, made by ``cases.documents``). A notice names its applicant (and agent):
a member of staff opening the page or the PDF is audited (``case.notice_viewed``,
``case.notice_downloaded``) like any read of the case's personal data."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control

from tongban.core.access import require_login

from .. import documents, notices, services


@require_login
def notice_detail(request: HttpRequest, number: str, notice_number: str) -> HttpResponse:
    notice = notices.visible_notice(request.user, case_number=number, notice_number=notice_number)
    if notice is None:
        raise Http404
    services.case_data_access_record(actor=request.user, case=notice.case, what="notice_viewed",
                                     detail={"notice": notice.number})
    context = {**notices.notice_context(notice),
               "verify_url": documents.verify_url(notice, request)}
    response = render(request, notices.notice_template(notice), context)
    # Personal data: never kept by shared caches or the browser's back-forward cache.
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_login
def notice_pdf(request: HttpRequest, number: str, notice_number: str) -> HttpResponse:
    """The notice as a PDF (opens in the browser's viewer; saved under the notice's number)."""
    notice = notices.visible_notice(request.user, case_number=number, notice_number=notice_number)
    if notice is None:
        raise Http404
    services.case_data_access_record(actor=request.user, case=notice.case,
                                     what="notice_downloaded", detail={"notice": notice.number})
    response = HttpResponse(documents.render_notice_pdf(notice, request),
                            content_type="application/pdf")
    disposition = "attachment" if request.GET.get("download") else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{documents.pdf_filename(notice)}"'
    patch_cache_control(response, private=True, no_store=True)
    return response
