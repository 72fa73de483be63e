"""The printed licence: a real PDF (pypdf reads its text), its QR code the verification URL."""

from __future__ import annotations

import io
import os
import re
from typing import Any

import pytest
import segno
from django.test import Client
from pypdf import PdfReader

from tests.licences.conftest import issue_food_licence
from tongban.accounts.models import User
from tongban.licences import documents
from tongban.licences.models import LicenceType

pytestmark = pytest.mark.django_db


def test_the_pdf_reads_as_the_licence_with_its_qr_code(licence_types: dict[str, LicenceType],
                                                       company: User,
                                                       client: Client, settings: Any) -> None:
    settings.PUBLIC_URL = "https://zwfw.lanzhou.gov.cn"
    licence = issue_food_licence(licence_types)
    client.force_login(company)
    response = client.get(f"/licences/{licence.identifier}/pdf/?download=1")
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    data = response.content
    if os.environ.get("TONGBAN_KEEP_LICENCE_PDF"):  # to look at it: pdftoppm, a viewer
        with open(os.environ["TONGBAN_KEEP_LICENCE_PDF"], "wb") as out:
            out.write(data)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    text = re.sub(r"\s+", "", reader.pages[0].extract_text())
    for expected in ("食品经营许可证", "兰州示例餐饮有限公司", "热食类食品制售", "兰州市市场监督管理局",
                     licence.identifier):
        assert expected in text, expected
    url = documents.verify_url(licence)
    assert url == ("https://zwfw.lanzhou.gov.cn/licences/verify/?id="
                   + licence.identifier)
    html = documents.render_licence_html(licence)
    qr = re.search(r'<img src="([^"]+)" alt="核验二维码">', html)
    assert qr is not None and qr[1] == segno.make(url, error="m").svg_data_uri(scale=4, border=2)
    annotations = [a.get_object() for a in reader.pages[0].get("/Annots", [])]
    links = [a["/A"]["/URI"] for a in annotations if "/A" in a and "/URI" in a["/A"]]
    assert url in links  # the QR code links to the verification page too
    assert reader.metadata is not None and str(reader.metadata.title).startswith("食品经营许可证")
