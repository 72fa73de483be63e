"""好差评 in a real browser: a citizen gives a bad review on a phone, the market bureau puts it
right (fix, callback), the citizen rates the fix, and the public monthly report shows the
figures without naming anyone."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from django.urls import reverse
from django.utils import timezone

from tests.browser.conftest import _context
from tests.cases.conftest import DEMO_FORM_DATA, ON_THE_SPOT, PDF
from tongban.accounts.models import User
from tongban.cases import services
from tongban.cases.materials import case_material_add
from tongban.cases.models import Case, Channel
from tongban.catalog.models import Item
from tongban.ratings.models import RatingTag, RectificationTicket


def completed_case() -> Case:
    """The demo citizen's online 即收即办 application, completed by the demo clerk at the hall."""
    citizen, clerk = User.objects.get(username="citizen"), User.objects.get(username="clerk")
    case = services.case_create(
        actor=citizen, item=Item.objects.get(implementation_code=ON_THE_SPOT),
        channel=Channel.ONLINE, form_data=dict(DEMO_FORM_DATA[ON_THE_SPOT]),
        applicant=services.ApplicantData(kind="natural_person", name=citizen.real_name,
                                         id_number=citizen.id_number, phone=citizen.phone))
    for m in case.item_version.materials.all():
        case_material_add(actor=citizen, case=case, material=m, name=m.name,
                          upload=io.BytesIO(PDF), original_name=f"{m.name}.pdf")
    services.case_submit(actor=citizen, case=case)
    services.case_accept(actor=clerk, case=Case.objects.get(pk=case.pk), hall=clerk.hall,
                         in_person=True)
    return Case.objects.get(pk=case.pk)


def test_bad_review_put_right_and_published(
        browser: Any, phone_page: Any, login: Callable[..., None], live_url: str,
        demo_city: None, axe_violations: Any) -> None:
    if not RatingTag.objects.exists():  # a flush emptied the seeded tags
        import importlib

        from django.apps import apps

        importlib.import_module("tongban.ratings.migrations.0002_seed_tags_and_schedule").seed(
            apps, None)
    case = completed_case()
    citizen_name = User.objects.get(username="citizen").real_name

    # The citizen, on a phone, opens the case and rates it: 非常不满意, with a national tag.
    page = phone_page
    login(page, "citizen")
    page.goto(live_url + reverse("cases:my_case", args=[case.number]))
    page.get_by_role("link", name="评价本次办事").click()
    assert axe_violations(page) == []
    page.get_by_role("group", name="总体评价").get_by_label("非常不满意").check()
    for indicator in ("办事效率", "办事指南精确度", "办事便捷度", "平台操作性"):
        page.get_by_role("group", name=indicator).get_by_label("不满意", exact=False).first.check()
    page.get_by_label("需提供办事指南之外的申报材料").check()
    page.get_by_label("意见或建议").fill("窗口要求额外提供房屋产权证明")
    page.get_by_role("button", name="提交评价").click()
    page.get_by_role("heading", name="您的评价").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    ticket = RectificationTicket.objects.get(rating__case=case)

    # The market bureau's officer sees the ticket with the rater named, and fixes it.
    officer_context = _context(browser, viewport={"width": 1280, "height": 900})
    officer = officer_context.new_page()
    login(officer, "officer")
    officer.goto(live_url + "/ratings/tickets/")
    officer.get_by_role("link", name=f"#{ticket.pk}").click()
    officer.get_by_text(citizen_name).first.wait_for()
    officer.get_by_label("立行立改").check()
    officer.get_by_label("整改情况或解释说明").fill("已向窗口重申一次性告知，不得要求指南外材料")
    officer.get_by_role("button", name="提交整改情况").click()
    officer.get_by_text("已整改/说明，待回访").wait_for()
    officer.get_by_label("已联系上").check()
    officer.get_by_label("回访记录").fill("电话回访，申请人已知悉")
    officer.get_by_role("button", name="保存回访记录").click()
    officer.get_by_text("已回访，待评价人评价整改").wait_for()
    officer_context.close()

    # The citizen rates the fix.
    page.reload()
    page.get_by_label("满意", exact=True).check()
    page.get_by_role("button", name="提交整改评价").click()
    page.get_by_text("您对整改结果表示满意。").wait_for()
    ticket.refresh_from_db()
    assert (ticket.state, ticket.fix_satisfied, ticket.rectified_on_time) == ("closed", True, True)

    # Anyone reads this month's report: the figures, the tag, no rater.
    reader_context = _context(browser, viewport={"width": 390, "height": 844})
    reader = reader_context.new_page()
    reader.goto(live_url + "/ratings/report/")
    month = timezone.localdate().strftime("%Y-%m")
    reader.get_by_role("link", name=f"{month} 月度通报").click()
    reader.get_by_role("heading", name=f"{month} 好差评月度通报").wait_for()
    text = reader.inner_text("main")
    assert "需提供办事指南之外的申报材料：1" in text
    assert citizen_name not in text and "房屋产权证明" not in text
    assert axe_violations(reader) == []
    reader_context.close()
