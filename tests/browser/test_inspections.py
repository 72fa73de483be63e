"""双随机一公开 in a real browser: a citizen on a phone reads the published draw, its results and
its verification; the officer draws the waiting demo task, the head publishes it, and the
officer records a result of an entity they were drawn for."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tongban.demo.inspections import DRAFT_TASK, PUBLISHED_TASK
from tongban.inspections.models import DrawnEntity, DrawTask, TaskStatus


@pytest.mark.django_db(transaction=True)
def test_public_page_verification_draw_publish_and_result(
        demo_city: None, page: Any, phone_page: Any, live_url: str, login: Any,
        axe_violations: Any) -> None:
    # A citizen on a phone, not logged in.
    phone_page.goto(f"{live_url}/inspections/")
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("双随机一公开")
    assert axe_violations(phone_page) == []
    phone_page.get_by_role("link", name=PUBLISHED_TASK).click()
    expect(phone_page.get_by_role("heading", level=1)).to_have_text(PUBLISHED_TASK)
    expect(phone_page.get_by_text("发现问题已责令整改")).to_be_visible()
    expect(phone_page.get_by_role("heading", name="如何复核")).to_be_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert axe_violations(phone_page) == []
    phone_page.get_by_role("link", name="在线复核本次抽取").click()
    expect(phone_page.get_by_text("复核结论：一致")).to_be_visible()
    assert axe_violations(phone_page) == []

    # The officer draws the waiting task.
    login(page, "officer", path="/accounts/staff/login/?next=/inspections/staff/")
    page.goto(f"{live_url}/inspections/staff/")
    page.get_by_role("link", name=DRAFT_TASK).click()
    expect(page.get_by_text(re.compile(r"符合条件的市场主体 \d+ 户"))).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("button", name="立即抽取").click()
    expect(page.get_by_text("已抽取，结果已记录且不可更改")).to_be_visible()
    expect(page.get_by_text("复核结论：一致")).to_be_visible()
    assert page.get_by_role("button", name="公示").count() == 0
    task = DrawTask.objects.get(name=DRAFT_TASK)
    assert task.status == TaskStatus.DRAWN and task.drawn.count() == 4

    # The head publishes it.
    page.context.clear_cookies()
    login(page, "head", path=f"/accounts/staff/login/?next=/inspections/staff/tasks/{task.pk}/")
    page.goto(f"{live_url}/inspections/staff/tasks/{task.pk}/")
    page.get_by_role("button", name="公示").click()
    expect(page.get_by_text("已公示").first).to_be_visible()
    phone_page.goto(f"{live_url}/inspections/")
    expect(phone_page.get_by_role("link", name=DRAFT_TASK)).to_be_visible()

    # The officer records the result still open in the published demo task.
    page.context.clear_cookies()
    login(page, "officer", path="/accounts/staff/login/?next=/inspections/staff/")
    published = DrawTask.objects.get(name=PUBLISHED_TASK)
    open_one = DrawnEntity.objects.get(task=published, result="",
                                       inspectors__inspector__user__username="officer")
    page.goto(f"{live_url}/inspections/staff/tasks/{published.pk}/")
    page.get_by_role("link", name=re.compile(f"^录入结果\\s*：{open_one.name}$")).click()
    assert axe_violations(page) == []
    page.get_by_label("未发现问题").check()
    page.get_by_role("button", name="保存结果").click()
    expect(page.get_by_text(re.compile("^检查日期："))).to_be_visible()  # required
    page.get_by_label("检查日期").fill(str(timezone.localdate()))
    page.get_by_role("button", name="保存结果").click()
    expect(page.get_by_text(f"已录入 {open_one.name} 的检查结果")).to_be_visible()
    open_one.refresh_from_db()
    assert open_one.result == "no_problem"
