"""Printed documents (告知文书) as PDF, each with a QR code that opens a public verification page.

- :func:`verification_token` / :func:`notice_from_token`: a notice's verification code is its id
  signed with the site's secret (``django.core.signing``, salt ``tongban.notice``); a changed code
  fails the signature and finds nothing. Rotating ``SECRET_KEY`` invalidates printed codes unless
  the old key stays in ``SECRET_KEY_FALLBACKS``.
- :func:`verify_url`: the absolute URL of the verification page (``settings.PUBLIC_URL`` when
  set, else the request's host).
- :func:`render_notice_pdf`: the notice's own template rendered into the PDF frame
  (``cases/pdf/notice.html``) by WeasyPrint, fonts Noto Serif/Sans CJK SC embedded.
- :func:`verification`: what the public page shows — the document, the case's public progress
  (status and timeline, no personal data, a person's name masked as ``张*``) and whether the
  document still stands.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tongban.accounts.masking import mask_name
from tongban.clock.deadline import SHANGHAI
from tongban.core.pdf import qr_svg_data_uri, render_pdf

from . import notices
from .models import ApplicantKind, Case, CaseEvent, Notice, Status

SALT = "tongban.notice"

# History events the public may see (no actor, no reason: those may carry personal data).
PUBLIC_EVENTS: dict[str, Any] = {
    "submit": _("提交申请"),
    "request_supplement": _("一次性告知补正"),
    "supply": _("补正材料"),
    "accept": _("受理"),
    "accept_by_law": _("依法视为受理"),
    "refuse": _("不予受理"),
    "suspend": _("特别程序（暂停计时）"),
    "halt": _("中止（暂停计时）"),
    "resume": _("恢复计时"),
    "extend": _("批准延期"),
    "approve": _("准予办理"),
    "deny": _("不予办理"),
    "deliver": _("办理结果已送达"),
    "withdraw": _("申请人撤回"),
    "terminate": _("终止办理"),
}


def verification_token(notice: Notice) -> str:
    """The verification code printed under the QR code, e.g. ``42:Xf3…``."""
    return signing.Signer(salt=SALT).sign(str(notice.pk))


def notice_from_token(token: str) -> Notice | None:
    """The notice a verification code names, or None when the code was altered or is unknown."""
    try:
        pk = signing.Signer(salt=SALT).unsign(token)
    except signing.BadSignature:
        return None
    if not pk.isdecimal():
        return None
    return (Notice.objects.select_related("case", "case__item", "case__item_version",
                                          "case__department", "case__hall")
            .filter(pk=int(pk)).first())


def verify_path(notice: Notice) -> str:
    return reverse("cases:verify", args=[verification_token(notice)])


def verify_url(notice: Notice, request: HttpRequest | None = None) -> str:
    """Absolute URL of the verification page: ``PUBLIC_URL`` if set, else the request's host."""
    path = verify_path(notice)
    base = getattr(settings, "PUBLIC_URL", "")
    if base:
        return base.rstrip("/") + path
    if request is not None:
        return request.build_absolute_uri(path)
    return path


# --- the PDF ----------------------------------------------------------------------------------

def pdf_filename(notice: Notice) -> str:
    return f"{notice.number}.pdf"


def pdf_context(notice: Notice, request: HttpRequest | None) -> dict[str, Any]:
    url = verify_url(notice, request)
    return {**notices.notice_context(notice), "frame": "cases/pdf/notice.html",
            "verify_url": url, "verify_code": verification_token(notice),
            "qr": qr_svg_data_uri(url), "site_name": settings.SITE_NAME}


def render_notice_html(notice: Notice, request: HttpRequest | None = None) -> str:
    """The HTML the PDF is made from (the notice's own template in the print frame)."""
    return render_to_string(notices.notice_template(notice), pdf_context(notice, request))


def render_notice_pdf(notice: Notice, request: HttpRequest | None = None) -> bytes:
    html = render_notice_html(notice, request)
    title = str(Notice.Kind(notice.kind).label)
    return render_pdf(html, title=f"{title} {notice.number}", authors=[notice.case.department.name])


# --- the public verification page -------------------------------------------------------------

@dataclass
class PublicEvent:
    at: dt.datetime
    label: Any
    status: Any


@dataclass
class Verification:
    notice: Notice
    case: Case
    kind: Any
    issued_at: dt.datetime
    department: str
    item_name: str
    applicant: str
    status: Any
    valid: bool
    validity: Any
    events: list[PublicEvent] = field(default_factory=list)
    result_name: str = ""
    due_at: dt.datetime | None = None
    due_provisional: bool = False


def _validity(notice: Notice, case: Case) -> tuple[bool, Any]:
    """Whether the document still stands, and a sentence saying so."""
    status = case.status
    if notice.kind == Notice.Kind.REFUSAL:
        return True, _("有效：本不予受理决定为该申请的最终结果。")
    if notice.kind == Notice.Kind.DECISION:
        if notice.body.get("approved"):
            return True, _("有效：准予办理决定。")
        return True, _("有效：不予办理决定。")
    if status == Status.WITHDRAWN:
        return False, _("该申请已由申请人撤回，本文书所涉事项不再办理。")
    if status == Status.TERMINATED:
        return False, _("该申请已终止办理，本文书所涉事项不再办理。")
    if notice.kind == Notice.Kind.SUPPLEMENT:
        if notice.resolved_at is not None:
            return True, _("有效：所列材料已补正。")
        if status == Status.REFUSED:
            return False, _("该申请已不予受理。")
        return True, _("有效：待申请人补正所列材料。")
    if notice.kind == Notice.Kind.ACCEPTANCE:
        if status in (Status.APPROVED, Status.DELIVERED, Status.DENIED):
            return True, _("有效：该申请已受理并已办结。")
        return True, _("有效：该申请已受理，正在办理。")
    return True, _("有效。")


def _instant(value: dt.datetime) -> dt.datetime:
    return value.astimezone(SHANGHAI)


def verification(notice: Notice) -> Verification:
    case = notice.case
    events = [PublicEvent(at=_instant(e.at), label=PUBLIC_EVENTS[e.action],
                          status=Status(e.to_status).label if e.to_status in Status.values else "")
              for e in CaseEvent.objects.filter(case=case, action__in=PUBLIC_EVENTS)
              .order_by("seq")]
    valid, validity = _validity(notice, case)
    natural = case.applicant_kind == ApplicantKind.NATURAL
    return Verification(
        notice=notice, case=case, kind=Notice.Kind(notice.kind).label,
        issued_at=_instant(notice.issued_at), department=case.department.name,
        item_name=case.item_version.name,
        # A company's name is public (it is on its licence); a person's is not.
        applicant=mask_name(case.applicant_name) if natural else case.applicant_name,
        status=Status(case.status).label, valid=valid, validity=validity, events=events,
        result_name=case.result_name,
        due_at=_instant(case.due_at) if case.due_at and case.status in (
            Status.ACCEPTED, Status.SUSPENDED, Status.HALTED, Status.SUPPLEMENT) else None,
        due_provisional=case.due_provisional)
