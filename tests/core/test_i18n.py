"""The English catalog: msgids are the Chinese text; missing English falls back to Chinese.

The compiled ``django.mo`` is committed (machines without gettext must still show English), so
these tests also catch a ``.po`` edited without recompiling. The page tests read the interface
the way a foreign resident does: language chosen by cookie, by browser or by the switch button.
"""

from __future__ import annotations

import ast
import gettext
import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import translation

from tests.conftest import DEMO_WORKBOOK
from tongban.catalog.models import Item

LOCALE = Path(__file__).resolve().parents[2] / "src" / "tongban" / "locale" / "en" / "LC_MESSAGES"

# %(name)s / %s / %% (Python), {name} (str.format), and HTML tags: all must survive translation.
PLACEHOLDER = re.compile(r"%\([^)]+\)[sdif]|%[sdif%]|\{[A-Za-z_]\w*\}|</?[a-z][^>]*>")
# Han characters, CJK punctuation and full-width forms.
CHINESE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
# Chinese may stay in an English message only between “ ”: words the user must type or find
# as written in Chinese (sheet names of the workbook, search examples, 是/否 cells).
QUOTED = re.compile(r"“[^”]*”")

# 企业设立登记 in the demo workbook: 即收即办, legal limit 3 working days, fully online, 0 visits.
COMPANY_REGISTRATION = "11620100051317876B3000100113001"


@dataclass
class Entry:
    msgid: str
    msgid_plural: str = ""
    msgctxt: str | None = None
    msgstrs: list[str] = field(default_factory=list)  # msgstr, or msgstr[0], msgstr[1], ...
    fuzzy: bool = False


def po_entries() -> list[Entry]:
    """Every entry of the .po file except its header, plural entries included."""
    entries: list[Entry] = []
    fields: dict[str, str] = {}
    key = ""
    fuzzy = False

    def flush() -> None:
        if fields.get("msgid"):
            strs = [fields[k] for k in sorted(fields, key=_form_index) if k.startswith("msgstr")]
            entries.append(Entry(msgid=fields["msgid"], msgid_plural=fields.get("msgid_plural", ""),
                                 msgctxt=fields.get("msgctxt"), msgstrs=strs, fuzzy=fuzzy))

    for line in (LOCALE / "django.po").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            flush()
            fields, key, fuzzy = {}, "", False
        elif line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            fields[key] += ast.literal_eval(line)
        else:
            key, _space, value = line.partition(" ")
            fields[key] = ast.literal_eval(value)
    flush()
    return entries


def _form_index(key: str) -> int:
    match = re.fullmatch(r"msgstr\[(\d+)\]", key)
    return int(match.group(1)) if match else -1


def entry_faults(entry: Entry) -> list[str]:
    """What is wrong with the English of one entry (empty when it is usable as it stands)."""
    faults = []
    if entry.fuzzy:
        faults.append("fuzzy (not used until reviewed)")
    expected_forms = 2 if entry.msgid_plural else 1
    if len(entry.msgstrs) != expected_forms:
        faults.append(f"{len(entry.msgstrs)} translated forms, expected {expected_forms}")
    for msgstr in entry.msgstrs:
        if not msgstr.strip():
            faults.append("no English")
            continue
        source = entry.msgid_plural or entry.msgid
        if Counter(PLACEHOLDER.findall(msgstr)) != Counter(PLACEHOLDER.findall(source)):
            faults.append(f"placeholders or tags differ: {msgstr!r}")
        if CHINESE.search(QUOTED.sub("", msgstr)):
            faults.append(f"Chinese left outside “ ”: {msgstr!r}")
    return faults


def test_po_holds_the_chinese_interface_text() -> None:
    msgids = {entry.msgid for entry in po_entries()}
    assert {"用户名或密码错误", "需要登录或有效的访问令牌", "工作人员账户",
            "非综合窗口须至少选择一个受理部门"} <= msgids


def test_every_message_has_reviewed_english_with_the_same_placeholders() -> None:
    entries = po_entries()
    assert len(entries) > 600
    faults = {entry.msgid: problems for entry in entries if (problems := entry_faults(entry))}
    assert faults == {}, "translate these in django.po, then run scripts/i18n.sh"


def test_the_completeness_check_catches_what_it_should() -> None:
    good = Entry(msgid="共 %(n)s 项", msgid_plural="共 %(n)s 项", msgstrs=["%(n)s item", "%(n)s items"])
    assert entry_faults(good) == []
    assert entry_faults(Entry(msgid="草稿", msgstrs=[""])) == ["no English"]
    assert entry_faults(Entry(msgid="草稿", msgstrs=["Draft"], fuzzy=True)) == [
        "fuzzy (not used until reviewed)"]
    assert entry_faults(Entry(msgid="第%(n)s版", msgstrs=["Version %(number)s"])) == [
        "placeholders or tags differ: 'Version %(number)s'"]
    assert entry_faults(Entry(msgid="已取消", msgstrs=["已取消"])) == [
        "Chinese left outside “ ”: '已取消'"]
    assert entry_faults(Entry(msgid="缺少工作表“%(sheet)s”", msgstrs=["Sheet “部门” is missing"])) == [
        "placeholders or tags differ: 'Sheet “部门” is missing'"]


def test_compiled_catalog_is_utf8_and_matches_the_po() -> None:
    with (LOCALE / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    assert compiled.info()["content-type"] == "text/plain; charset=UTF-8"
    assert compiled.info()["language"] == "en"
    stale = "django.mo is stale for {!r}: run scripts/i18n.sh"
    for entry in po_entries():
        usable = not entry.fuzzy and all(entry.msgstrs)
        if entry.msgid_plural:
            for n, form in ((1, 0), (2, 1)):
                expected = entry.msgstrs[form] if usable else (entry.msgid if n == 1 else entry.msgid_plural)
                if entry.msgctxt is None:
                    got = compiled.ngettext(entry.msgid, entry.msgid_plural, n)
                else:
                    got = compiled.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                assert got == expected, stale.format(entry.msgid)
        else:
            expected = entry.msgstrs[0] if usable else entry.msgid
            got = (compiled.gettext(entry.msgid) if entry.msgctxt is None
                   else compiled.pgettext(entry.msgctxt, entry.msgid))
            assert got == expected, stale.format(entry.msgid)


def test_text_without_english_shows_in_chinese_never_blank() -> None:
    # A wording added after the last translation round (docs/adr/0002: degrade to Chinese).
    with translation.override("en"):
        assert translation.gettext("这句话尚未译成英文") == "这句话尚未译成英文"
        assert translation.gettext("草稿") == "Draft"


# --- pages and API in English -----------------------------------------------------------------

class Page(HTMLParser):
    """The text a reader meets on a page: text nodes and the labels screen readers announce."""

    ANNOUNCED = ("aria-label", "placeholder", "title", "alt")

    def __init__(self, html: str) -> None:
        super().__init__()
        self.lang = ""
        self.texts: list[str] = []
        self._skip = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.lang = values.get("lang") or ""
        if tag in ("script", "style"):
            self._skip += 1
        self.texts.extend(v.strip() for k, v in attrs if k in self.ANNOUNCED and v)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.texts.append(data.strip())


def facts(html: str) -> dict[str, str]:
    """The <dt>/<dd> pairs of a service guide, as plain text."""
    pairs = re.findall(r"<dt>(.*?)</dt><dd[^>]*>(.*?)</dd>", html, flags=re.S)
    return {dt: re.sub(r"<[^>]+>", "", dd).strip() for dt, dd in pairs}


def untranslated(page: Page) -> list[str]:
    """Interface texts of the catalog that the page still shows in Chinese."""
    msgids = {entry.msgid for entry in po_entries()}
    return [text for text in page.texts if text in msgids]


@pytest.fixture
def demo(db: None) -> None:
    call_command("import_catalog", str(DEMO_WORKBOOK), stdout=StringIO())


@pytest.fixture
def english(client: Client) -> Client:
    client.cookies["django_language"] = "en"
    return client


def test_home_page_in_english(demo: None, english: Client) -> None:
    html = english.get("/").content.decode()
    page = Page(html)
    assert page.lang == "en"
    assert '<h2 id="lists-title">The four lists</h2>' in html
    assert "288 government service items published." in page.texts
    tiles = re.findall(r'<span class="tile-name">(.*?)</span>\s*<span class="tile-count">(.*?)</span>',
                       html)
    assert tiles == [("On-the-spot list", "88 items"), ("Same-day list", "57 items"),
                     ("Time-limited list", "114 items"), ("Proxy service list", "29 items")]
    assert {"Find by topic", "Find by department", "Skip to main content",
            "Main navigation"} <= set(page.texts)
    assert "All times are Beijing time" in html
    assert untranslated(page) == []


def test_list_page_in_english(demo: None, english: Client) -> None:
    html = english.get("/lists/on_the_spot/").content.decode()
    page = Page(html)
    assert page.lang == "en"
    assert "<h1>On-the-spot list</h1>" in html
    headers = re.findall(r'<th scope="col">(.*?)</th>', html)
    assert headers[:7] == ["Service item name", "Implementing department", "Item type", "List",
                           "Committed time limit", "Required visits", "Online depth"]
    assert "Administrative licensing" in page.texts
    assert "Completed on the spot" in page.texts
    assert untranslated(page) == []


def test_service_guide_in_english(demo: None, english: Client) -> None:
    html = english.get(f"/items/{COMPANY_REGISTRATION}/").content.decode()
    page = Page(html)
    assert page.lang == "en"
    guide = facts(html)
    assert guide["Service item name"] == "企业设立登记"  # content stays as the bureau wrote it
    assert {k: guide[k] for k in ("Item type", "Exercise level", "Applicant type",
                                  "List (commitment category)", "Legal time limit",
                                  "Committed time limit", "Required visits", "Online depth",
                                  "Fee charged")} == {
        "Item type": "Administrative licensing",
        "Exercise level": "City",
        "Applicant type": "Legal entity",
        "List (commitment category)": "On-the-spot list",
        "Legal time limit": "3 working days",
        "Committed time limit": "0 working days (completed on the spot)",
        "Required visits": "0 visits (no visit needed)",
        "Online depth": "Ⅳ Fully online",
        "Fee charged": "No (free of charge)",
    }
    assert {"Service guide", "Basic information", "Application materials", "Print the service guide",
            "Enquiries, complaints and remedies"} <= set(page.texts)
    assert untranslated(page) == []


def test_api_errors_in_english_for_an_english_client(client: Client, db: None) -> None:
    response = client.get("/api/v1/items", {"limit": "0"}, HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    assert response.status_code == 422
    assert response.json()["detail"] == [{"field": "limit", "message": "limit must be between 1 and 100"}]
    response = client.get("/api/v1/items/0000", HTTP_ACCEPT_LANGUAGE="en")
    assert (response.status_code, response.json()) == (
        404, {"detail": "There is no service item with implementation code “0000”"})
    response = client.get("/api/v1/auth/me", HTTP_ACCEPT_LANGUAGE="en")
    assert (response.status_code, response.json()) == (
        401, {"detail": "Log in or provide a valid access token"})


def test_chinese_is_the_default(demo: None, client: Client) -> None:
    for headers in ({}, {"Accept-Language": "fr-FR,fr;q=0.9"}):
        html = client.get("/", headers=headers).content.decode()
        page = Page(html)
        assert page.lang == "zh-CN"
        assert {"四办四清单", "按主题查找", "跳到正文", "主导航"} <= set(untranslated(page))
        assert '<h2 id="lists-title">四办四清单</h2>' in html
        assert '<span class="tile-name">即收即办清单</span>' in html
    guide = facts(client.get(f"/items/{COMPANY_REGISTRATION}/").content.decode())
    assert guide["法定办结时限"] == "3个工作日"
    response = client.get("/api/v1/items", {"limit": "0"})
    assert response.json()["detail"] == [{"field": "limit", "message": "limit 须在1到100之间"}]


def test_the_language_switch_turns_the_site_english(demo: None, client: Client) -> None:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/lists/"})
    assert response.status_code == 302
    assert response["Location"] == "/lists/"
    assert client.cookies["django_language"].value == "en"
    assert "<h1>The four lists</h1>" in client.get("/lists/").content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/lists/"})
    assert "<h1>四办四清单</h1>" in client.get("/lists/").content.decode()


# --- the workbook import on the command line -------------------------------------------------

def bad_workbook(folder: Path) -> Path:
    """The demo workbook with one fault: a fully online item (row 2) needing a visit."""
    book = openpyxl.load_workbook(DEMO_WORKBOOK)
    items = book["事项"]
    headers = [cell.value for cell in items[1]]
    assert items.cell(2, 1).value == COMPANY_REGISTRATION
    items.cell(2, headers.index("到现场次数") + 1).value = 1
    path = folder / "bad.xlsx"
    book.save(path)
    return path


def test_import_errors_in_english_with_language_en(tmp_path: Path, db: None) -> None:
    path = bad_workbook(tmp_path)
    language_before = translation.get_language()
    errors = StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("import_catalog", str(path), "--language", "en", stderr=errors)
    assert str(failure.value) == (
        "“bad.xlsx” has 2 errors: the whole file was not imported and the database was not changed")
    # Sheet and column names stay as written in the (Chinese) workbook, so they can be found.
    assert errors.getvalue().splitlines() == [
        "[事项, row 2, 到现场次数] A fully online (Ⅳ) item must have 0 required visits",
        "[事项, row 2, 必须现场办理原因] When required visits is not 0, explain why an on-site visit "
        "is required",
    ]
    assert Item.objects.count() == 0
    assert translation.get_language() == language_before  # English ended with the command


def test_import_errors_in_chinese_by_default(tmp_path: Path, db: None) -> None:
    errors = StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("import_catalog", str(bad_workbook(tmp_path)), stderr=errors)
    assert str(failure.value) == "“bad.xlsx”有 2 个错误，整个文件未导入，数据库未作任何改动"
    assert errors.getvalue().splitlines() == [
        "[事项 第2行 到现场次数] 全程网办（Ⅳ）事项的到现场次数须为0",
        "[事项 第2行 必须现场办理原因] 到现场次数不为0时须说明必须现场办理的原因",
    ]
    assert Item.objects.count() == 0
