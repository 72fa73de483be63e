"""The printable e-licence (PDF) and the address its QR code opens.

The PDF is the licence's surface in the frame ``licences/pdf/licence.html`` (A4 landscape, the
issuer's red head, the identifier, the validity, a QR code to the public verification page and
the signature's key id). A type's own ``template`` (Django template syntax, kept by the data
bureau) replaces the standard surface table; it sees ``surface`` (key → value), ``fields``
(name and value in order), ``holder_name``, ``issuer`` and ``licence``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template as django_template
from django.conf import settings
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe

from tongban.core.pdf import qr_svg_data_uri, render_pdf

from . import selectors
from .models import Licence, Status


def verify_path(identifier: str) -> str:
    return reverse("licences:verify") + "?" + urlencode({"id": identifier})


def verify_url(licence: Licence, request: HttpRequest | None = None) -> str:
    """Absolute URL of the public verification page: ``PUBLIC_URL`` if set, else the request's."""
    path = verify_path(licence.identifier)
    base = getattr(settings, "PUBLIC_URL", "")
    if base:
        return base.rstrip("/") + path
    if request is not None:
        return request.build_absolute_uri(path)
    return path


def _surface_block(licence: Licence, fields: list[dict[str, Any]]) -> str:
    """The type's own template rendered, or "" for the standard table."""
    if not licence.type.template:
        return ""
    compiled = django_template.engines["django"].from_string(licence.type.template)
    return str(compiled.render({
        "surface": {f["key"]: f["value"] for f in fields}, "fields": fields,
        "holder_name": licence.holder_name, "issuer": licence.issuer.name,
        "licence": {"identifier": licence.identifier, "valid_from": licence.valid_from,
                    "valid_until": licence.valid_until, "version": licence.version}}))


def pdf_context(licence: Licence, request: HttpRequest | None) -> dict[str, Any]:
    url = verify_url(licence, request)
    fields = selectors.surface(licence)
    return {"licence": licence, "type": licence.type, "issuer": licence.issuer,
            "fields": fields, "custom": mark_safe(_surface_block(licence, fields)),
            "verify_url": url, "qr": qr_svg_data_uri(url), "site_name": settings.SITE_NAME,
            "standing": licence.status != Status.VALID}


def render_licence_html(licence: Licence, request: HttpRequest | None = None) -> str:
    return render_to_string("licences/pdf/licence.html", pdf_context(licence, request))


def render_licence_pdf(licence: Licence, request: HttpRequest | None = None) -> bytes:
    return render_pdf(render_licence_html(licence, request),
                      title=f"{licence.type.name} {licence.identifier}",
                      authors=[licence.issuer.name])


def pdf_filename(licence: Licence) -> str:
    return f"{licence.type.code}-{licence.serial}-{licence.version:03d}.pdf"
