"""The comprehensive window in a real browser: the demo clerk accepts a walk-in for a 即收即办
item and completes it in one visit, prints the PDFs, and the QR code's page verifies them; a
walk-in for a 限时办结 item with missing materials gets the one-time supplement notice (on a
phone-sized screen)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.cases.test_documents import flat, pdf_fonts, pdf_links, pdf_text
from tongban.cases.models import Case, Status
from tongban.catalog.models import Item

COMPANY_SETUP = "11620100051317876B3000100113001"  # 企业设立登记, 即收即办
FOOD_BUSINESS = "11620100051317876B3000100139001"  # 食品经营许可（新办）, 限时办结


@pytest.fixture
def scan(tmp_path: Path) -> Path:
    path = tmp_path / "scan.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    return path


def materials(code: str, necessities: tuple[str, ...] = ("required",)) -> list[str]:
    item = Item.objects.select_related("current").get(implementation_code=code)
    assert item.current is not None
    return list(item.current.materials.filter(necessity__in=necessities)
                .order_by("position").values_list("name", flat=True))


def find_item(tab: Any, live_url: str, code: str, name: str) -> None:
    tab.goto(live_url + "/window/")
    tab.get_by_label("查找事项（名称、关键词或实施编码）").fill(code)
    tab.get_by_role("button", name="查找").click()
    tab.get_by_role("link", name=name).click()
    assert tab.get_by_role("heading", level=1).inner_text().startswith("窗口受理")


def collect(tab: Any, names: list[str], scan: Path) -> None:
    for name in names:
        entry = tab.locator("li", has=tab.get_by_role("heading", name=name, exact=True))
        entry.get_by_label(f"扫描件：{name}").set_input_files(str(scan))
        entry.get_by_role("button", name="收取").click()
        tab.wait_for_load_state()
        expect(tab.get_by_text(f"已收取：{name}")).to_be_visible()


def no_sideways_scroll(tab: Any) -> bool:
    return bool(tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def test_walk_in_on_the_spot_item_completes_in_one_visit(
        page: Any, browser: Any, live_url: str, demo_city: None, login: Any, scan: Path,
        axe_violations: Any) -> None:
    login(page, "clerk")
    find_item(page, live_url, COMPANY_SETUP, "企业设立登记")
    page.get_by_label("申请人姓名或单位名称").fill("李华")
    page.get_by_label("证件号码").fill("620102199003077770")
    page.get_by_label("申请人联系电话").fill("13893100009")
    page.get_by_label("企业名称").fill("兰州示例商贸有限公司")
    page.get_by_label("企业类型").select_option("有限责任公司")
    page.get_by_role("textbox", name="法定代表人", exact=True).fill("李华")
    page.get_by_label("法定代表人身份证号").fill("620102199003077770")
    page.get_by_label("住所").fill("兰州市城关区庆阳路100号")
    page.get_by_label("注册资本（万元）").fill("100")
    page.get_by_label("经营范围").fill("日用百货销售")
    page.get_by_role("textbox", name="联系电话", exact=True).fill("0931-8123456")
    page.get_by_role("button", name="登记申请，下一步核对材料").click()

    expect(page.get_by_text("待受理（尚未提交）")).to_be_visible()
    assert axe_violations(page) == []
    collect(page, materials(COMPANY_SETUP), scan)
    page.get_by_role("button", name="受理并当场办结").click()
    state = page.locator("#case-state")
    assert "已办结" in state.inner_text() and "办理结果：营业执照" in state.inner_text()
    assert page.locator("#visits").inner_text().strip() == "已到现场1次，承诺最多1次"
    case = Case.objects.get(applicant_name="李华")
    assert case.status == Status.DELIVERED and case.visits == 1

    # The result (办理决定书) as a PDF: Chinese text in an embedded CJK font, the QR's link.
    href = page.get_by_role("link", name="打印（PDF）：办理决定书").get_attribute("href")
    response = page.request.get(live_url + href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    data = response.body()
    assert data.startswith(b"%PDF-") and any("CJK" in f for f in pdf_fonts(data))
    text = flat(pdf_text(data))
    assert case.number is not None
    assert "办理决定书" in text and "办理结果营业执照" in text and case.number in text
    accepted = page.request.get(live_url + page.get_by_role(
        "link", name="打印（PDF）：受理通知书").get_attribute("href"))
    assert "受理通知书" in flat(pdf_text(accepted.body()))

    # Anyone scanning the QR code sees the case completed, without personal data.
    verify = next(u for u in pdf_links(data) if "/verify/" in u)
    assert verify.startswith(live_url)
    stranger = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    try:
        public = stranger.new_page()
        public.goto(verify)
        body = public.locator("main").inner_text()
        assert "核验通过：本文书由本平台出具。" in body
        assert "已送达" in body and "准予办理" in body and "李*" in body
        assert "620102199003077770" not in body and "李华" not in body
        assert axe_violations(public) == []
        public.goto(verify.replace("/verify/", "/verify/9"))
        expect(public.get_by_role("heading", level=1)).to_have_text("无法核验")
    finally:
        stranger.close()


def test_one_time_supplement_notice_at_the_window_on_a_phone(
        phone_page: Any, live_url: str, demo_city: None, login: Any, scan: Path,
        axe_violations: Any) -> None:
    tab = phone_page
    login(tab, "clerk")
    find_item(tab, live_url, FOOD_BUSINESS, "食品经营许可（新办）")
    assert no_sideways_scroll(tab)
    tab.get_by_role("group", name="申请人类型").get_by_label("法人", exact=True).check()
    tab.get_by_label("申请人姓名或单位名称").fill("兰州示例餐饮有限公司")
    tab.get_by_label("证件号码").fill("91620102MA7123456T")
    tab.get_by_label("经营者名称").fill("兰州示例餐饮有限公司")
    tab.get_by_label("统一社会信用代码").fill("91620102MA7123456T")
    tab.get_by_label("法定代表人（负责人）").fill("李华")
    tab.get_by_label("法定代表人身份证号").fill("620102199003077771")  # wrong check digit
    tab.get_by_label("经营场所").fill("兰州市城关区庆阳路100号")
    tab.get_by_label("经营项目").select_option("热食类食品制售")
    tab.get_by_label("营业面积（平方米）").fill("85")
    tab.get_by_role("textbox", name="联系电话", exact=True).fill("0931-8123456")
    tab.get_by_role("button", name="登记申请，下一步核对材料").click()
    assert "末位校验码与前17位不符" in tab.get_by_role("alert").inner_text()
    assert Case.objects.count() == 0
    tab.get_by_label("法定代表人身份证号").fill("620102199003077770")
    tab.get_by_role("button", name="登记申请，下一步核对材料").click()

    names = materials(FOOD_BUSINESS, ("required", "deferrable"))
    collect(tab, names[:3], scan)
    assert no_sideways_scroll(tab)
    # Materials are missing: the one-time notice form is open, each missing one ticked.
    assert tab.locator("details", has_text="一次性告知补正").get_attribute("open") is not None
    tab.get_by_label(f"补正原因：{names[3]}").fill("未提交设备布局和操作流程文件")
    tab.get_by_role("button", name="出具一次性告知书").click()
    assert "待补正" in tab.locator("#case-state").inner_text()
    assert tab.locator("#visits").inner_text().strip() == "已到现场1次，承诺最多1次"
    assert axe_violations(tab) == []
    assert no_sideways_scroll(tab)

    href = tab.get_by_role("link", name="打印（PDF）：一次性告知书").get_attribute("href")
    text = flat(pdf_text(tab.request.get(live_url + href).body()))
    assert "一次性告知书" in text and "未提交设备布局和操作流程文件" in text
    for name in names[3:]:
        assert flat(name) in text
