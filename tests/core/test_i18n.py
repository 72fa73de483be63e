"""The English catalog: msgids are the Chinese text; missing English falls back to Chinese.

The compiled ``django.mo`` is committed (machines without gettext must still show English), so
these tests also catch a ``.po`` edited without recompiling.
"""

from __future__ import annotations

import ast
import gettext
from pathlib import Path

from django.utils import translation

LOCALE = Path(__file__).resolve().parents[2] / "src" / "tongban" / "locale" / "en" / "LC_MESSAGES"


def po_entries() -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) of each singular entry of the .po file (plurals are skipped)."""
    entries: list[tuple[str, str, bool]] = []
    current: dict[str, str] = {}
    key = ""
    fuzzy = False

    def flush() -> None:
        if "msgid" in current and "msgid_plural" not in current and current["msgid"]:
            entries.append((current["msgid"], current.get("msgstr", ""), fuzzy))

    for line in (LOCALE / "django.po").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            flush()
            current, key, fuzzy = {}, "", False
        elif line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            current[key] += ast.literal_eval(line)
        else:
            key, _space, value = line.partition(" ")
            current[key] = ast.literal_eval(value)
    flush()
    return entries


def test_po_holds_the_chinese_interface_text() -> None:
    msgids = {msgid for msgid, _str, _fuzzy in po_entries()}
    assert {"用户名或密码错误", "需要登录或有效的访问令牌", "工作人员账户",
            "非综合窗口须至少选择一个受理部门"} <= msgids


def test_compiled_catalog_is_utf8_and_matches_the_po() -> None:
    with (LOCALE / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    assert compiled.info()["content-type"] == "text/plain; charset=UTF-8"
    assert compiled.info()["language"] == "en"
    for msgid, msgstr, fuzzy in po_entries():
        expected = msgstr if msgstr and not fuzzy else msgid
        assert compiled.gettext(msgid) == expected, f"django.mo is stale for {msgid!r}: run scripts/i18n.sh"


def test_untranslated_text_shows_in_chinese_never_blank() -> None:
    untranslated = [msgid for msgid, msgstr, _fuzzy in po_entries() if not msgstr and "%" not in msgid]
    with translation.override("en"):
        for msgid in untranslated[:50]:
            assert translation.gettext(msgid) == msgid
