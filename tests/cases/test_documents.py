"""Printed notices as PDF (WeasyPrint, CJK fonts embedded) with a QR code to the public
verification page, and that page: genuine or not, the case's public progress, no personal data.

The PDFs are read back from their bytes: the objects are parsed, the streams inflated and the
text decoded through each font's ToUnicode map (:func:`pdf_text`), so the assertions are about
what a reader of the PDF sees."""

from __future__ import annotations

import io
import re
import zlib
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.cases.conftest import ON_THE_SPOT, PDF, TIME_LIMITED, form, item
from tongban.accounts.models import User
from tongban.cases import documents, services
from tongban.cases.materials import case_material_add
from tongban.cases.models import Case, Channel, Notice
from tongban.cases.services import ApplicantData, SupplementItem
from tongban.clock.deadline import SHANGHAI

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path)


# --- reading a PDF back (no PDF library needed: WeasyPrint's output is plain PDF 1.7) ----------

def _objects(data: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    """Object number → (dictionary, inflated stream or None), object streams unpacked."""
    objs: dict[int, tuple[bytes, bytes | None]] = {}
    header = re.compile(rb"(\d+) 0 obj\s*")
    pos = 0
    while (m := header.search(data, pos)) is not None:
        start = m.end()
        end = data.find(b"endobj", start)
        stream_at = data.find(b"stream", start, end)
        if stream_at != -1:
            head = data[start:stream_at]
            length_match = re.search(rb"/Length (\d+)", head)
            assert length_match is not None
            length = int(length_match[1])
            body = stream_at + len(b"stream")
            body += 2 if data[body:body + 2] == b"\r\n" else 1
            raw = data[body:body + length]
            if b"/FlateDecode" in head:
                raw = zlib.decompress(raw)
            objs[int(m[1])] = (head, raw)
            if b"/ObjStm" in head:
                first_match = re.search(rb"/First (\d+)", head)
                assert first_match is not None
                first = int(first_match[1])
                nums = [int(x) for x in raw[:first].split()]
                pairs = list(zip(nums[::2], nums[1::2], strict=True))
                for i, (num, off) in enumerate(pairs):
                    stop = pairs[i + 1][1] if i + 1 < len(pairs) else len(raw) - first
                    objs[num] = (raw[first + off:first + stop], None)
            pos = data.find(b"endobj", body + length) + 6
        else:
            objs[int(m[1])] = (data[start:end], None)
            pos = end + 6
    return objs


def _cmap(raw: bytes) -> dict[bytes, str]:
    out: dict[bytes, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", raw, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            out[src.lower()] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", raw, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>",
                                      block):
            base = int(dst, 16)
            for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                out[f"{code:0{len(lo)}x}".encode()] = chr(base + i)
    return out


def pdf_text(data: bytes) -> str:
    """The text a PDF viewer shows (each text object on a line of its own)."""
    objs = _objects(data)
    fonts = {}
    for num, (head, _raw) in objs.items():
        ref = re.search(rb"/ToUnicode (\d+) 0 R", head)
        if ref and b"/Font" in head:
            fonts[num] = _cmap(objs.get(int(ref[1]), (b"", None))[1] or b"")
    names = {name: fonts[int(ref)] for head, _raw in objs.values()
             for name, ref in re.findall(rb"/([A-Za-z0-9+_-]+) (\d+) 0 R", head) if int(ref) in fonts}
    token = re.compile(rb"/([A-Za-z0-9+_-]+) [\d.]+ Tf|\[(.*?)\]\s*TJ|<([0-9A-Fa-f]*)>\s*Tj|(ET)",
                       re.S)
    text: list[str] = []
    for head, raw in objs.values():
        if raw is None or b"/ObjStm" in head or b"BT" not in raw:
            continue
        cmap: dict[bytes, str] = {}
        for m in token.finditer(raw):
            if m[1]:
                cmap = names.get(m[1], {})
            elif m[4]:
                text.append("\n")
            else:
                for h in re.findall(rb"<([0-9A-Fa-f]*)>", m[2]) if m[2] is not None else [m[3]]:
                    step = len(next(iter(cmap), b"0000"))
                    text.extend(cmap.get(h[i:i + step].lower(), "") for i in range(0, len(h), step))
    return "".join(text)


def pdf_fonts(data: bytes) -> list[str]:
    """Names of the fonts embedded (with a font file) in the PDF."""
    objs = _objects(data)
    return sorted({m.decode() for head, _raw in objs.values() if b"/FontFile" in head
                   for m in re.findall(rb"/FontName /([^\s/<>]+)", head)})


def pdf_links(data: bytes) -> list[str]:
    return [u.decode() for head, _raw in _objects(data).values()
            for u in re.findall(rb"/URI \(([^)]*)\)", head)]


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- cases --------------------------------------------------------------------------------------

def applicant(user: User) -> ApplicantData:
    return ApplicantData(kind="natural_person", name=user.real_name, id_number=user.id_number,
                         phone=user.phone)


def submitted(user: User, code: str = TIME_LIMITED, *, skip: set[str] | None = None) -> Case:
    case = services.case_create(actor=user, item=item(code), channel=Channel.ONLINE,
                                applicant=applicant(user), form_data=form())
    for m in case.item_version.materials.all():
        if m.name not in (skip or set()):
            case_material_add(actor=user, case=case, material=m, name="", upload=io.BytesIO(PDF),
                              original_name="a.pdf")
    services.case_submit(actor=user, case=case)
    case.refresh_from_db()
    return case


def pdf_url(notice: Notice) -> str:
    return f"/cases/{notice.case.number}/notices/{notice.number}/pdf/"


def test_acceptance_notice_pdf_reads_as_the_formal_document(people: dict[str, User],
                                                            client: Client) -> None:
    citizen, officer = people["citizen"], people["officer"]
    case = submitted(citizen)
    services.case_accept(actor=officer, case=case)
    case.refresh_from_db()
    notice = case.notices.get(kind=Notice.Kind.ACCEPTANCE)
    client.force_login(citizen)
    response = client.get(pdf_url(notice))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{notice.number}.pdf"'
    assert "no-store" in response["Cache-Control"]
    data = response.content
    assert data.startswith(b"%PDF-")
    fonts = pdf_fonts(data)
    assert any("Noto-Serif-CJK-SC" in f for f in fonts), fonts
    assert any("Noto-Sans-CJK-SC" in f for f in fonts), fonts
    text = flat(pdf_text(data))
    due = case.due_at.astimezone(SHANGHAI)  # type: ignore[union-attr]
    issued = notice.issued_at.astimezone(SHANGHAI)
    for expected in ("兰州市市场监督管理局", "受理通知书", f"文书编号：{notice.number}",
                     f"办件编号{case.number}", "申请事项食品经营许可（新办）", "申请人张三（自然人）",
                     "公民身份号码6201**********7770", "本机关决定予以受理",
                     f"{due.year}年{due.month}月{due.day}日{due:%H:%M}",
                     "（印章）", f"{issued.year}年{issued.month}月{issued.day}日",
                     f"核验码：{documents.verification_token(notice)}"):
        assert expected in text, expected
    assert "620102199003077770" not in text  # the person's ID is masked on paper too
    verify = f"http://testserver/verify/{documents.verification_token(notice)}/"
    assert verify in pdf_links(data)  # the QR code is a link to the verification page too
    assert flat(verify) in text


def test_the_qr_code_encodes_the_verification_url(people: dict[str, User]) -> None:
    import segno

    citizen, clerk = people["citizen"], people["clerk"]
    case = services.case_create(actor=clerk, item=item(ON_THE_SPOT), channel=Channel.WINDOW,
                                applicant=applicant(citizen), form_data=form())
    services.case_submit(actor=clerk, case=case)
    notice = services.case_refuse(actor=clerk, case=case, reason="不属于本机关管辖")
    url = documents.verify_url(notice)
    html = documents.render_notice_html(notice)
    # The image is segno's code of exactly that URL (decoding it gives the URL back).
    qr = re.search(r'<img src="([^"]+)" alt="核验二维码">', html)
    assert qr is not None
    assert qr[1] == segno.make(url, error="m").svg_data_uri(scale=4, border=2)
    assert segno.make(url, error="m").designator  # a real symbol, not a placeholder


def test_verify_url_uses_public_url_when_set(people: dict[str, User], settings: Any) -> None:
    citizen, clerk = people["citizen"], people["clerk"]
    case = services.case_create(actor=clerk, item=item(ON_THE_SPOT), channel=Channel.WINDOW,
                                applicant=applicant(citizen), form_data=form())
    services.case_submit(actor=clerk, case=case)
    notice = services.case_refuse(actor=clerk, case=case, reason="不属于本机关管辖")
    settings.PUBLIC_URL = "https://zwfw.lanzhou.gov.cn"
    assert documents.verify_url(notice) == (
        f"https://zwfw.lanzhou.gov.cn/verify/{documents.verification_token(notice)}/")


def test_supplement_refusal_and_decision_pdfs(people: dict[str, User], client: Client) -> None:
    citizen, officer, clerk = people["citizen"], people["officer"], people["clerk"]
    case = submitted(citizen, skip={"营业执照"})
    supplement = services.case_request_supplement(actor=officer, case=case, items=[
        SupplementItem(name="营业执照", reason="未提交营业执照复印件")])
    client.force_login(citizen)
    text = flat(pdf_text(client.get(pdf_url(supplement)).content))
    assert "一次性告知书" in text and "营业执照未提交营业执照复印件" in text
    assert "除上述内容外，不再要求补正其他材料。" in text

    walk_in = services.case_create(actor=clerk, item=item(ON_THE_SPOT), channel=Channel.WINDOW,
                                   applicant=applicant(citizen), form_data=form())
    services.case_submit(actor=clerk, case=walk_in)
    refusal = services.case_refuse(actor=clerk, case=walk_in, reason="不属于本机关管辖")
    client.force_login(clerk)
    text = flat(pdf_text(client.get(pdf_url(refusal)).content))
    assert "不予受理通知书" in text and "理由：不属于本机关管辖" in text
    assert "依法申请行政复议" in text


def test_decision_pdf_names_the_result(people: dict[str, User], client: Client) -> None:
    clerk, citizen = people["clerk"], people["citizen"]
    case = services.case_create(actor=clerk, item=item(ON_THE_SPOT), channel=Channel.WINDOW,
                                applicant=applicant(citizen), form_data=form())
    for m in case.item_version.materials.all():
        case_material_add(actor=clerk, case=case, material=m, name="", upload=io.BytesIO(PDF),
                          original_name="a.pdf")
    services.case_submit(actor=clerk, case=case)
    services.case_accept(actor=clerk, case=case)
    case.refresh_from_db()
    decision = case.notices.get(kind=Notice.Kind.DECISION)
    client.force_login(clerk)
    text = flat(pdf_text(client.get(pdf_url(decision)).content))
    assert "办理决定书" in text and "准予办理" in text and "办理结果营业执照" in text


def test_a_stranger_gets_404_for_a_notice_pdf(people: dict[str, User], client: Client) -> None:
    citizen = people["citizen"]
    case = submitted(citizen)
    services.case_accept(actor=people["officer"], case=case)
    notice = case.notices.get(kind=Notice.Kind.ACCEPTANCE)
    for stranger in (people["other"], people["hr_officer"], people["proxy"]):
        client.force_login(stranger)
        assert client.get(pdf_url(notice)).status_code == 404
    client.logout()
    assert client.get(pdf_url(notice)).status_code == 302  # to the login page
    client.force_login(citizen)
    assert client.get(f"/cases/{case.number}/notices/XX{case.number}-1/pdf/").status_code == 404


# --- the verification page ----------------------------------------------------------------------

def test_verification_page_shows_the_document_and_public_progress(people: dict[str, User],
                                                                  client: Client) -> None:
    citizen, officer = people["citizen"], people["officer"]
    case = submitted(citizen)
    services.case_accept(actor=officer, case=case)
    notice = case.notices.get(kind=Notice.Kind.ACCEPTANCE)
    response = client.get(documents.verify_path(notice))  # anyone, not logged in
    assert response.status_code == 200
    page = response.content.decode()
    text = flat(re.sub(r"<[^>]+>", " ", page))
    for expected in ("核验通过：本文书由本平台出具。", "有效：该申请已受理，正在办理。",
                     "文书类型受理通知书", f"文书编号{notice.number}", "出具机关兰州市市场监督管理局",
                     "申请事项食品经营许可（新办）", f"办件编号{case.number}", "申请人张*",
                     "当前状态已受理（办理中）", "提交申请", "受理"):
        assert expected in text, expected
    for personal in ("张三", "620102199003077770", "7770", "13893100001", people["officer"].real_name):
        assert personal not in page


def test_verification_of_a_withdrawn_case_says_the_acceptance_no_longer_stands(
        people: dict[str, User], client: Client) -> None:
    citizen = people["citizen"]
    case = submitted(citizen)
    services.case_accept(actor=people["officer"], case=case)
    services.case_withdraw(actor=citizen, case=case, reason="不再需要")
    notice = case.notices.get(kind=Notice.Kind.ACCEPTANCE)
    text = flat(re.sub(r"<[^>]+>", " ", client.get(documents.verify_path(notice)).content.decode()))
    assert "本文书由本平台出具，但已不再有效" in text
    assert "该申请已由申请人撤回" in text and "当前状态已撤回" in text


def test_a_tampered_code_cannot_be_verified(people: dict[str, User], client: Client) -> None:
    citizen = people["citizen"]
    case = submitted(citizen)
    services.case_accept(actor=people["officer"], case=case)
    notice = case.notices.get(kind=Notice.Kind.ACCEPTANCE)
    token = documents.verification_token(notice)
    pk, signature = token.split(":", 1)
    for bad in (f"{int(pk) + 1}:{signature}", token[:-1] + ("A" if token[-1] != "A" else "B"),
                "nonsense"):
        response = client.get(f"/verify/{bad}/")
        assert response.status_code == 404
        assert "无法核验" in response.content.decode()
        assert case.number is not None
        assert case.number not in response.content.decode()
