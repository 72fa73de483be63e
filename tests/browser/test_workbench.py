"""The department workbench in a real browser: the 代办服务 journey from a street centre to the
city department, and an officer of the market bureau claiming and passing a 限时办结 step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import _context
from tests.cases.conftest import DEMO_FORM_DATA, PDF
from tongban.cases import services
from tongban.cases.materials import case_material_add
from tongban.cases.models import Case, Channel, Status
from tongban.catalog.models import Item

PROXY = "11620100051760018C3002000165004"  # 城乡居民基本养老保险参保登记
TIME_LIMITED = "11620100051317876B3000100139001"  # 食品经营许可（新办）
STAFF_LOGIN = "/accounts/staff/login/"


def as_user(browser: Any, login: Callable[..., None], username: str, **viewport: int) -> Any:
    context = _context(browser, viewport=viewport or {"width": 1280, "height": 900})
    tab = context.new_page()
    login(tab, username, path=STAFF_LOGIN)
    return tab


def claim_and_pass(tab: Any, live_url: str, number: str) -> None:
    """From the inbox's 待认领 tab: claim the case's step, open the case, pass the step."""
    tab.goto(live_url + "/workbench/")
    tab.get_by_role("link", name="待认领").click()
    row = tab.get_by_role("row").filter(has_text=number)
    row.get_by_role("button", name="认领").click()
    tab.get_by_text("已认领").first.wait_for()
    tab.get_by_role("link", name="我的").click()
    tab.get_by_role("link", name=number).click()
    tab.get_by_role("button", name="通过", exact=True).click()
    tab.get_by_text("已办理：通过").wait_for()


def test_proxy_application_received_at_a_street_centre_and_decided_by_the_city(
        browser: Any, page: Any, login: Callable[..., None], live_url: str, demo_city: None,
        axe_violations: Any) -> None:
    version = Item.objects.select_related("current").get(implementation_code=PROXY).current
    assert version is not None
    materials = [m.name for m in version.materials.all()]

    # The street centre's proxy agent receives a walk-in resident's application.
    login(page, "proxy", path=STAFF_LOGIN)
    page.get_by_role("link", name="代办服务").first.click()
    page.get_by_role("link", name="受理居民的代办申请").click()
    page.get_by_role("link", name="城乡居民基本养老保险参保登记").click()
    page.get_by_label("申请人姓名").fill("王五")
    page.get_by_label("申请人公民身份号码").fill("620102199003070018")
    page.get_by_label("申请人手机号码").fill("13893100009")
    page.get_by_label("参保人姓名").fill("王五")
    page.get_by_label("参保人身份证号").fill("620102199003070018")
    page.get_by_label("户籍地址").fill("兰州市城关区皋兰路街道")
    page.get_by_label("缴费档次（元/年）").select_option("500")
    page.get_by_label("联系电话").fill("13893100009")
    for name in materials:
        page.get_by_label(name, exact=True).set_input_files(
            {"name": "scan.pdf", "mimeType": "application/pdf", "buffer": PDF})
    assert axe_violations(page) == []
    page.get_by_role("button", name="核验材料并受理").click()
    page.get_by_text("已受理：办件编号").wait_for()
    case = Case.objects.get(item__implementation_code=PROXY)
    assert case.status == Status.ACCEPTED and case.number
    number = case.number
    # It is forwarded to the competent department from the case page.
    page.get_by_role("button", name="转交主管部门").click()
    page.get_by_text("已办理：转交主管部门").wait_for()
    page.get_by_role("link", name="代办服务").first.click()
    expect(page.get_by_role("row").filter(has_text=number).get_by_text("已转交")).to_be_visible()

    # The city department's officer reviews it, its head decides.
    officer = as_user(browser, login, "hr_officer")
    claim_and_pass(officer, live_url, number)
    head = as_user(browser, login, "hr_head")
    claim_and_pass(head, live_url, number)
    expect(head.get_by_text("准予办理").first).to_be_visible()
    case.refresh_from_db()
    assert case.status == Status.APPROVED
    for tab in (officer, head):
        tab.context.close()


def test_market_officer_claims_and_passes_a_time_limited_step_on_a_phone(
        browser: Any, login: Callable[..., None], live_url: str, demo_city: None,
        axe_violations: Any) -> None:
    from tongban.accounts.models import User

    citizen, officer = User.objects.get(username="citizen"), User.objects.get(username="officer")
    item = Item.objects.select_related("current").get(implementation_code=TIME_LIMITED)
    case = services.case_create(
        actor=citizen, item=item, channel=Channel.ONLINE, form_data=dict(DEMO_FORM_DATA[TIME_LIMITED]),
        applicant=services.ApplicantData(kind="natural_person", name=citizen.real_name,
                                         id_number=citizen.id_number, phone=citizen.phone))
    assert item.current is not None
    for m in item.current.materials.all():
        import io

        case_material_add(actor=citizen, case=case, material=m, name=m.name,
                          upload=io.BytesIO(PDF), original_name="scan.pdf")
    services.case_submit(actor=citizen, case=case)
    services.case_accept(actor=officer, case=case)
    case.refresh_from_db()
    number = case.number
    assert number

    tab = as_user(browser, login, "officer", width=390, height=844)
    tab.goto(live_url + "/workbench/?tab=unclaimed")
    row = tab.get_by_role("row").filter(has_text=number)
    expect(row.get_by_text("绿·正常")).to_be_visible()
    assert "6201**********1233" in row.inner_text()
    assert axe_violations(tab) == []
    assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    claim_and_pass(tab, live_url, number)
    expect(tab.get_by_role("heading", name="决定")).to_be_visible()
    assert axe_violations(tab) == []
    assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    case.refresh_from_db()
    assert case.tasks.get(status="open").step_key == "decide"
    tab.context.close()
