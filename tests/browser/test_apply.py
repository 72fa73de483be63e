"""The issue's main journey in a real browser: the demo citizen applies online for the 限时办结
item 食品经营许可（新办）, is asked once for a missing material, supplies it; the market
bureau's officer accepts it and passes the review step, the head decides, the officer delivers
the result online — each on the workbench pages in their own browser — and the citizen
downloads the decision notice and opens its verification page.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.test_workbench import as_user, claim_and_pass
from tongban.accounts.models import User
from tongban.cases import documents
from tongban.cases.models import Case, Notice, Status

FOOD_LICENCE = "11620100051317876B3000100139001"  # 食品经营许可（新办）, 限时办结
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
FIRST_MATERIAL = "《食品经营许可申请书》"


def pdf_file(name: str) -> dict[str, Any]:
    return {"name": name, "mimeType": "application/pdf", "buffer": PDF}


def staff(username: str) -> User:
    return User.objects.get(username=username)


def no_sideways_scroll(tab: Any) -> bool:
    return bool(tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def test_citizen_applies_online_supplies_and_downloads_the_result(
        browser: Any, page: Any, phone_page: Any, live_url: str, demo_city: None, login: Any,
        axe_violations: Any) -> None:
    login(page, "citizen")

    # 1. The application form, generated from the item's form definition.
    page.goto(f"{live_url}/apply/{FOOD_LICENCE}/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("食品经营许可（新办）")
    assert axe_violations(page) == []
    page.get_by_label("经营者名称").fill("兰州示例餐饮有限公司")
    page.get_by_label("统一社会信用代码").fill("91620102MA7123456T")
    page.get_by_label("法定代表人（负责人）").fill("张明")
    assert page.get_by_label("法定代表人身份证号").input_value() == "620102199001011233"
    page.get_by_label("经营场所").fill("兰州市城关区庆阳路100号")
    page.get_by_label("经营项目").select_option("热食类食品制售")
    page.get_by_label("营业面积（平方米）").fill("85")
    assert page.get_by_label(re.compile("^联系电话")).input_value() == "13812345678"
    page.get_by_label("计划开业日期").fill("2026-12-01")
    page.get_by_role("button", name="保存草稿，下一步：上传材料").click()

    # 2. Materials: everything but the application letter.
    page.get_by_text("草稿已保存").wait_for()
    assert "每个文件不超过 10MB" in page.inner_text("main")
    names = [n.strip() for n in page.locator(".slot-name").all_inner_texts()]
    assert names[0] == FIRST_MATERIAL and len(names) == 7
    for name in names[1:]:
        page.get_by_label(f"选择文件：{name}").set_input_files(pdf_file(f"{name[:6]}.pdf"))
    page.get_by_role("button", name="上传所选文件").click()
    page.get_by_text("已上传：").first.wait_for()
    assert axe_violations(page) == []
    page.get_by_role("link", name="下一步：核对并提交").click()

    # 3. Review and submit (the warning names the missing material).
    assert "尚缺 1 项材料：《食品经营许可申请书》" in page.inner_text("main")
    assert "热食类食品制售" in page.inner_text("main")
    page.get_by_role("button", name="确认提交申请").click()
    page.get_by_text("申请已提交，办件编号").wait_for()
    number = page.url.rstrip("/").rsplit("/", 1)[-1]
    case = Case.objects.get(number=number)
    assert case.status == Status.SUBMITTED and case.applicant == staff("citizen")

    # 4. The market bureau's officer finds it under 待受理 and sends the one-time notice.
    officer = as_user(browser, login, "officer")
    officer.goto(live_url + "/workbench/")
    officer.get_by_role("link", name=number).click()
    officer.get_by_role("button", name="受理", exact=True).click()  # not yet: a material is missing
    assert "材料不齐全，不能受理" in officer.inner_text("main")
    officer.get_by_role("checkbox", name=FIRST_MATERIAL).check()
    officer.get_by_label(f"“{FIRST_MATERIAL}”的补正原因").fill("未上传申请书，请上传签字后的扫描件")
    officer.get_by_role("button", name="出具一次性告知书").click()
    officer.get_by_text("已一次性告知申请人补正").wait_for()
    assert axe_violations(officer) == []
    page.reload()
    expect(page.locator(".status").first).to_have_text("待补正")
    assert "补正原因：未上传申请书，请上传签字后的扫描件" in page.inner_text("#needed")
    page.get_by_label(f"选择文件：{FIRST_MATERIAL}").set_input_files(pdf_file("申请书.pdf"))
    page.get_by_role("button", name="上传补正材料").click()
    page.get_by_text("已上传：").first.wait_for()
    page.get_by_role("button", name="补正完成").click()
    page.get_by_text("补正材料已提交").wait_for()
    expect(page.locator(".status").first).to_have_text("已提交")
    page.reload()
    assert axe_violations(page) == []

    # 5. Accepted, reviewed (officer), decided (head) and delivered online (officer).
    officer.goto(f"{live_url}/workbench/cases/{number}/")
    officer.get_by_role("button", name="受理", exact=True).click()
    officer.get_by_text("已受理，开始计时").wait_for()
    claim_and_pass(officer, live_url, number)
    head = as_user(browser, login, "head")
    claim_and_pass(head, live_url, number)
    officer.goto(f"{live_url}/workbench/cases/{number}/")
    officer.get_by_label("网上送达").check()
    officer.get_by_role("button", name="送达", exact=True).click()
    officer.get_by_text("办理结果已送达").wait_for()
    case.refresh_from_db()
    assert case.status == Status.DELIVERED and case.delivery == "online"
    page.reload()
    assert "您的申请已准予办理。" in page.inner_text("#needed")
    timeline = page.locator(".timeline").inner_text()
    for step in ("提交", "一次性告知补正", "补正材料", "受理", "准予办理", "送达"):
        assert step in timeline
    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载办理决定书（PDF）").click()
    download = download_info.value
    decision = case.notices.get(kind=Notice.Kind.DECISION)
    assert download.suggested_filename == f"{decision.number}.pdf"
    with open(download.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"

    # 6. The verification page the decision's QR code points to.
    page.goto(live_url + documents.verify_path(decision))
    main = page.inner_text("main")
    assert "核验通过" in main and decision.number in main and number in main
    assert "食品经营许可（新办）" in main and "已送达" in main

    # The same pages on a phone: no sideways scrolling.
    login(phone_page, "citizen")
    for path in ("/my/cases/", f"/my/cases/{number}/", f"/apply/{FOOD_LICENCE}/", "/my/messages/"):
        phone_page.goto(live_url + path)
        assert no_sideways_scroll(phone_page), path
