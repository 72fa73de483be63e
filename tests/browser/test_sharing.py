"""The demand-to-exchange journey in a real browser: the data officer of 兰州市市场监督管理局 files
a demand for 户籍人口基本信息, the data bureau checks it, the provider 兰州市公安局 approves, the
consumer issues a key, a program calls the exchange with it, and the citizen sees the read on
their own page 我的数据使用记录."""

from __future__ import annotations

import io
import json
import re
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.cases.conftest import DEMO_FORM_DATA, PDF, TIME_LIMITED
from tongban.accounts.models import User
from tongban.cases import services
from tongban.cases.materials import case_material_add
from tongban.cases.models import Channel
from tongban.catalog.models import Item
from tongban.exchange.models import DataRequest, RequestStatus

STAFF_DOOR = "/accounts/staff/login/"


def submitted_case() -> str:
    """张明's online application for 食品经营许可（新办）, submitted: a case of the market bureau."""
    citizen = User.objects.get(username="citizen")
    case = services.case_create(
        actor=citizen, item=Item.objects.get(implementation_code=TIME_LIMITED),
        channel=Channel.ONLINE, form_data=dict(DEMO_FORM_DATA[TIME_LIMITED]),
        applicant=services.ApplicantData(kind="natural_person", name=citizen.real_name,
                                         id_number=citizen.id_number, phone=citizen.phone))
    for m in case.item_version.materials.all():
        case_material_add(actor=citizen, case=case, material=m, name=m.name,
                          upload=io.BytesIO(PDF), original_name=f"{m.name}.pdf")
    return str(services.case_submit(actor=citizen, case=case).number)


@pytest.mark.django_db(transaction=True)
def test_demand_to_exchange_journey(demo_city: None, page: Any, live_url: str, login: Any,
                                    axe_violations: Any) -> None:
    # The demo's data officers: market_data (兰州市市场监督管理局) and police_data (兰州市公安局).
    # The consumer's data officer files the demand.
    login(page, "market_data", path=STAFF_DOOR)
    page.goto(f"{live_url}/data/sharing/requests/new/")
    page.get_by_label("资源代码").fill("LZ-GA-0001")
    page.get_by_label("所需信息项（字段名，逗号分隔）").fill("name,id_number,address")
    page.get_by_label("用途").fill("食品经营许可（新办）核验申请人身份")
    page.get_by_label("依据", exact=True).fill("《食品经营许可和备案管理办法》第十四条")
    page.get_by_role("button", name="提交需求").click()
    expect(page.get_by_text("需求已提交")).to_be_visible()
    demand = DataRequest.objects.filter(requester__name="兰州市市场监督管理局").order_by("-pk")[0]
    assert demand.status == RequestStatus.CHECKING
    expect(page.locator("#demand-status")).to_contain_text("数据管理部门审核中")
    expect(page.locator("#demand-status .dl-mark")).to_be_visible()
    assert axe_violations(page) == []
    demand_url = f"{live_url}/data/sharing/requests/{demand.number}/"

    # The data bureau checks it: conditional sharing goes to the provider.
    page.context.clear_cookies()
    login(page, "data", path=STAFF_DOOR)
    page.goto(demand_url)
    page.get_by_role("button", name="审核办理").click()
    expect(page.locator("#demand-status")).to_contain_text("提供方答复中")

    # The provider approves, the ID number masked.
    page.context.clear_cookies()
    login(page, "police_data", path=STAFF_DOOR)
    page.goto(demand_url)
    page.get_by_label("公民身份号码").check()  # the items by name (f6b5e51)
    page.get_by_role("button", name="同意共享").click()
    expect(page.locator("#demand-status")).to_contain_text("已授权")

    # The consumer issues a key (shown once) ...
    page.context.clear_cookies()
    login(page, "market_data", path=STAFF_DOOR)
    page.goto(demand_url)
    page.locator("#grant-link").click()
    page.get_by_role("button", name="签发新密钥").click()
    key = page.locator("#new-key").inner_text().strip()
    assert re.fullmatch(r"tbx_\S+", key)

    # ... and a program calls the exchange with it, for a case the market bureau handles (a
    # case number given with a call must be one: f6b5e51).
    number = submitted_case()
    request = urllib.request.Request(
        f"{live_url}/api/v1/exchange/LZ-GA-0001?subject=620102199001011233&case={number}",
        headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.loads(response.read())
    assert body["items"]["name"] == "张明"
    assert body["items"]["id_number"] == "6201**********1233"

    # The citizen sees the read under their account.
    page.context.clear_cookies()
    login(page, "citizen")
    page.goto(live_url + "/")
    page.get_by_role("link", name="我的数据使用记录").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("我的数据使用记录")
    row = page.locator("#data-uses tr", has_text=number)
    expect(row).to_contain_text("兰州市市场监督管理局")
    expect(row).to_contain_text("姓名")
    assert axe_violations(page) == []
