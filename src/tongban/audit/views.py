"""The supervisors' audit log pages (/supervision/audit/) and the public checkpoint key page.

Reading the log is itself recorded (``audit.view``) through ``services.audit_log_viewed``.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from tongban.core.access import public, require_roles
from tongban.core.errors import AccessDenied

from . import selectors, services
from .forms import RecordFilterForm
from .models import AuditVerification, VerificationStatus
from .policies import READERS

PAGE_SIZE = 50


def _viewed(request: HttpRequest, **what: Any) -> None:
    try:
        services.audit_log_viewed(actor=request.user, **what)
    except AccessDenied as exc:
        raise PermissionDenied from exc


def _seq(value: str | None) -> int | None:
    return int(value) if value and value.isdecimal() and len(value) < 19 else None


@require_roles(*READERS)
@require_GET
def record_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.copy()
    for position in ("page", "before", "after"):
        query.pop(position, None)
    form = RecordFilterForm(query or None)
    page = None
    if form.is_bound and not form.is_valid():
        _viewed(request, what="list")
    else:
        record_filter = form.record_filter() if form.is_bound else selectors.RecordFilter()
        # Read the page before recording the reading, so that the reading is not on it.
        page = selectors.records_page(record_filter, before=_seq(request.GET.get("before")),
                                      after=_seq(request.GET.get("after")), size=PAGE_SIZE)
        _viewed(request, what="list", filters=record_filter.as_dict())
    return render(request, "audit/record_list.html", {
        "form": form, "page": page, "query": query.urlencode(),
        "object_types": selectors.object_types(),
        "verifications": selectors.verifications_recent(3),
    })


@require_roles(*READERS)
@require_GET
def record_detail(request: HttpRequest, seq: int) -> HttpResponse:
    record = selectors.record_get(seq)
    if record is None:
        raise Http404
    _viewed(request, what="record", seq=seq)
    return render(request, "audit/record_detail.html", {
        "record": record,
        "detail_text": json.dumps(record.detail, ensure_ascii=False, indent=2, sort_keys=True),
    })


@require_roles(*READERS)
@require_POST
def verify_now(request: HttpRequest) -> HttpResponse:
    try:
        verification = services.audit_verification_request(actor=request.user)
    except AccessDenied as exc:
        raise PermissionDenied from exc
    return redirect("audit:verification", pk=verification.pk)


@require_roles(*READERS)
@require_GET
def verification_detail(request: HttpRequest, pk: int) -> HttpResponse:
    verification = get_object_or_404(AuditVerification.objects.select_related("requested_by"), pk=pk)
    context = {
        "verification": verification,
        "messages_found": selectors.verification_messages(verification),
        "pending": verification.status in {VerificationStatus.QUEUED, VerificationStatus.RUNNING},
    }
    template = ("audit/_verification.html" if request.headers.get("HX-Request")
                else "audit/verification.html")
    return render(request, template, context)


@public
@require_GET
def public_key(request: HttpRequest) -> HttpResponse:
    current, retired = selectors.published_keys()
    return render(request, "audit/public_key.html", {
        "current": current, "retired": retired, "checkpoints": selectors.checkpoints_latest(20),
    })
