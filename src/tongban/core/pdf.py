"""Printed documents: a QR code as a vector image and an HTML page rendered to PDF (WeasyPrint,
fonts Noto Serif/Sans CJK SC embedded). Used by the case notices and the e-licences."""

from __future__ import annotations


def qr_svg_data_uri(url: str) -> str:
    """The QR code of ``url`` as an SVG data URI (vector: sharp on paper at any size)."""
    import segno

    return str(segno.make(url, error="m").svg_data_uri(scale=4, border=2))


def render_pdf(html: str, *, title: str, authors: list[str]) -> bytes:
    """The PDF of ``html`` with its title and authors in the document's metadata."""
    from weasyprint import HTML

    document = HTML(string=html, base_url=None).render()
    document.metadata.title = title
    document.metadata.authors = authors
    return bytes(document.write_pdf())
