"""E-licences in a real browser: 张明 opens his wallet (证照夹) from the demo and downloads a
licence as PDF and as its signed file; the public verification page says the licence is valid,
and says tampered when a changed copy of the file is uploaded; the issuing department's list.

Screenshots of the wallet, the verification page and the department's licence page at 1366 px
and 390 px go to ``TONGBAN_SCREENSHOTS`` (a directory) when set, else to the test's own
temporary directory.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

STAFF_DOOR = "/accounts/staff/login/"


def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("TONGBAN_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _fits(page: Any, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_wallet_download_and_verification(demo_city: None, page: Any, phone_page: Any,
                                          live_url: str, login: Any, axe_violations: Any,
                                          tmp_path: Path) -> None:
    folder = shots(tmp_path)
    page.set_viewport_size({"width": 1366, "height": 900})
    login(page, "citizen")
    page.goto(f"{live_url}/licences/mine/")
    card = page.locator(".licence-card").filter(has_text="居民身份证")
    expect(card).to_be_visible()
    expect(page.locator(".licence-card")).to_have_count(3)
    assert axe_violations(page) == []
    page.screenshot(path=str(folder / "wallet-1366.png"), full_page=True)

    # The PDF, and the signed machine-readable file.
    with page.expect_download() as pdf:
        card.get_by_role("link", name="下载PDF").click()
    assert Path(pdf.value.path()).read_bytes()[:5] == b"%PDF-"
    with page.expect_download() as signed:
        card.get_by_role("link", name="机读文件").click()
    document = json.loads(Path(signed.value.path()).read_text(encoding="utf-8"))
    identifier = document["licence"]["identifier"]

    # The public verification page: valid (no login needed).
    page.context.clear_cookies()
    page.goto(f"{live_url}/licences/verify/?id={identifier}")
    expect(page.locator("#verify-result [data-outcome]")).to_have_attribute("data-outcome", "valid")
    expect(page.locator("#verify-result")).to_contain_text("张*")
    assert axe_violations(page) == []
    page.screenshot(path=str(folder / "verify-1366.png"), full_page=True)

    # A copy of the file changed in one value: tampered.
    document["licence"]["holder"]["name"] = "李明"
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    page.get_by_label("电子证照机读文件").set_input_files(str(changed))
    page.get_by_role("button", name="上传并核验").click()
    expect(page.locator("#verify-result [data-outcome]")).to_have_attribute(
        "data-outcome", "tampered")
    page.screenshot(path=str(folder / "verify-tampered-1366.png"), full_page=True)

    # The issuing department's list (兰州市市场监督管理局: the demo company's licences).
    login(page, "officer", path=STAFF_DOOR)
    page.goto(f"{live_url}/licences/issued/")
    expect(page.locator("#issued")).to_contain_text("兰州示例餐饮有限公司")
    assert axe_violations(page) == []
    page.screenshot(path=str(folder / "issued-1366.png"), full_page=True)
    page.locator("#issued").get_by_role("link", name="食品经营许可证").last.click()
    expect(page.locator("#revoke")).to_be_visible()
    expect(page.get_by_label("经营场所")).to_have_value("兰州市城关区张掖路88号")
    assert axe_violations(page) == []
    page.screenshot(path=str(folder / "issued-licence-1366.png"), full_page=True)
    licence_url = page.url

    # The same pages on a phone: nothing wider than the screen.
    login(phone_page, "citizen")
    phone_page.goto(f"{live_url}/licences/mine/")
    expect(phone_page.locator(".licence-card")).to_have_count(3)
    _fits(phone_page, 390)
    phone_page.screenshot(path=str(folder / "wallet-390.png"), full_page=True)
    phone_page.goto(f"{live_url}/licences/verify/?id={identifier}")
    expect(phone_page.locator("#verify-result [data-outcome]")).to_have_attribute(
        "data-outcome", "valid")
    _fits(phone_page, 390)
    phone_page.screenshot(path=str(folder / "verify-390.png"), full_page=True)
    phone_page.context.clear_cookies()
    login(phone_page, "officer", path=STAFF_DOOR)
    phone_page.goto(f"{live_url}/licences/issued/")
    expect(phone_page.locator("#issued")).to_contain_text("兰州示例餐饮有限公司")
    _fits(phone_page, 390)
    phone_page.screenshot(path=str(folder / "issued-390.png"), full_page=True)
    phone_page.goto(licence_url)
    expect(phone_page.locator("#change")).to_be_visible()
    _fits(phone_page, 390)
    phone_page.screenshot(path=str(folder / "issued-licence-390.png"), full_page=True)
