"""秒批 in a real browser: the demo citizen's online application for 城乡居民基本养老保险参保登记
is decided by the demo's published rule set as it is submitted; on a phone and on a desktop he
reads which conditions held and asks for a human review (人工复核) with a reason; the human
resources bureau's head then sees the case back on the deciding step with the rules' findings.
Screenshots go to ``TONGBAN_SCREENSHOTS`` (a folder) when it is set."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.conftest import _context
from tests.cases.conftest import PDF
from tongban.accounts.models import User
from tongban.cases import services
from tongban.cases.materials import case_material_add
from tongban.cases.models import Case, Channel, Status
from tongban.catalog.models import Item
from tongban.decisions.models import AutoDecision, Outcome
from tongban.demo import decisions as demo


def shoot(page: Any, name: str) -> None:
    folder = os.environ.get("TONGBAN_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def decided_case(form: dict[str, Any]) -> Case:
    """张明 applies online and submits; the rules run as the submission commits."""
    citizen = User.objects.get(username="citizen")
    case = services.case_create(
        actor=citizen, item=Item.objects.get(implementation_code=demo.PENSION_ENROLMENT),
        channel=Channel.ONLINE, form_data=form,
        applicant=services.ApplicantData(kind="natural_person", name=citizen.real_name,
                                         id_number=citizen.id_number, phone=citizen.phone))
    for m in case.item_version.materials.all():
        case_material_add(actor=citizen, case=case, material=m, name=m.name,
                          upload=io.BytesIO(PDF), original_name=f"{m.name}.pdf")
    services.case_submit(actor=citizen, case=case)
    return Case.objects.get(pk=case.pk)


def test_an_applicant_reads_the_automatic_decision_and_asks_for_a_human_review(
        browser: Any, phone_page: Any, login: Callable[..., None], live_url: str,
        demo_city: None, axe_violations: Any) -> None:
    case = decided_case(dict(demo.PENSION_FORM))
    assert case.status == Status.DELIVERED
    assert AutoDecision.objects.get(case=case).outcome == Outcome.APPROVED
    url = live_url + reverse("cases:my_case", args=[case.number])

    # On a desktop (1366 px): the explanation, each condition held.
    desktop = _context(browser, viewport={"width": 1366, "height": 900}).new_page()
    login(desktop, "citizen")
    desktop.goto(url)
    panel = desktop.get_by_role("region", name="自动审批（秒批）说明")
    expect(panel).to_contain_text("城乡居民基本养老保险参保登记秒批规则")
    expect(panel).to_contain_text("户籍人口信息中查得参保人，户籍在兰州市")
    expect(panel.get_by_role("button", name="申请人工复核")).to_be_visible()
    assert axe_violations(desktop) == []
    shoot(desktop, "auto-decision-applicant-1366")
    desktop.context.close()

    # On a phone (390 px): no sideways scrolling; he gives a reason and asks for a review.
    page = phone_page
    login(page, "citizen")
    page.goto(url)
    panel = page.get_by_role("region", name="自动审批（秒批）说明")
    expect(panel).to_contain_text("参保人为申请人本人")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(page, "auto-decision-applicant-390")
    panel.get_by_label("复核理由").fill("本人希望由工作人员审查缴费档次")
    panel.get_by_role("button", name="申请人工复核").click()
    expect(page.get_by_text("已申请人工复核，工作人员将重新审查并作出决定。")).to_be_visible()
    panel = page.get_by_role("region", name="自动审批（秒批）说明")
    expect(panel).to_contain_text("上述自动决定已失效")
    expect(panel.get_by_role("button", name="申请人工复核")).to_have_count(0)
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(page, "auto-decision-review-requested-390")
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED

    # The department's head sees the case back on the deciding step, with the findings panel.
    head = _context(browser, viewport={"width": 1366, "height": 900}).new_page()
    login(head, "hr_head", path="/accounts/staff/login/")
    head.goto(live_url + reverse("cases:staff_case", args=[case.number]))
    findings = head.get_by_role("region", name="自动审批（秒批）")
    expect(findings).to_contain_text("城乡居民基本养老保险参保登记秒批规则（第1版）")
    expect(findings).to_contain_text("本人希望由工作人员审查缴费档次")
    findings.get_by_text("规则读取的数据（个人信息已脱敏）").click()
    expect(findings).to_contain_text("6201**********1233")
    expect(findings).not_to_contain_text("620102199001011233")
    assert axe_violations(head) == []
    shoot(head, "auto-decision-staff-1366")
    head.context.close()


def test_the_bureau_sees_its_rule_sets_on_a_phone_and_a_desktop(
        browser: Any, phone_page: Any, login: Callable[..., None], live_url: str,
        demo_city: None, axe_violations: Any) -> None:
    login(phone_page, "admin", path="/accounts/staff/login/")
    phone_page.goto(live_url + reverse("decisions:rule_sets"))
    expect(phone_page.get_by_role("region", name="规则集")).to_contain_text(
        "户口迁入（人才引进、大中专毕业生落户）秒批规则")
    assert axe_violations(phone_page) == []
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(phone_page, "rule-sets-390")
    phone_page.goto(live_url + reverse("decisions:figures"))
    assert axe_violations(phone_page) == []
    shoot(phone_page, "figures-390")
    desktop = _context(browser, viewport={"width": 1366, "height": 900}).new_page()
    login(desktop, "admin", path="/accounts/staff/login/")
    desktop.goto(live_url + reverse("decisions:rule_sets"))
    expect(desktop.get_by_role("button", name="停用")).to_have_count(3)
    expect(desktop.get_by_role("button", name="上传并导入")).to_be_visible()
    shoot(desktop, "rule-sets-1366")
    desktop.context.close()
