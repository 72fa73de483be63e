"""The catalog's public part (portal and API) and the staff pages of the resource catalog."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tongban.accounts.models import User
from tongban.exchange.models import DataElement, ResourceStatus, ResourceVersion
from tongban.exchange.services.resources import (
    ItemData,
    ResourceData,
    resource_save_draft,
    resource_version_review,
    resource_version_submit,
)
from tongban.organizations.models import Department

pytestmark = pytest.mark.usefixtures("person_elements")


def population(provider: Department, code: str = "LZ-GA-0001", **extra: object) -> ResourceData:
    return ResourceData(
        code=code, name="户籍人口基本信息", provider=provider, classification="basic",
        category_code="101001", summary="全市户籍人口的基本信息", format="数据库表",
        share_type="conditional", share_condition="用于政务服务办理", share_method="table",
        update_cycle="daily",
        items=[ItemData("id_number", "公民身份号码", "DE00002", is_subject=True),
               ItemData("name", "姓名", "DE00001", is_source=True)], **extra)  # type: ignore[arg-type]


@pytest.fixture
def published(police: Department, police_data_officer: User,
              bureau_data_officer: User) -> ResourceVersion:
    version = resource_save_draft(actor=police_data_officer, data=population(police))
    resource_version_submit(actor=police_data_officer, version=version)
    return resource_version_review(actor=bureau_data_officer, version=version, approve=True)


def test_public_list_detail_and_api(client: Client, published: ResourceVersion,
                                    police: Department) -> None:
    page = client.get("/data/resources/", {"q": "户籍"})
    assert page.status_code == 200 and "户籍人口基本信息" in page.content.decode()
    assert "户籍人口基本信息" not in client.get("/data/resources/",
                                          {"share_type": "none"}).content.decode()
    detail = client.get("/data/resources/LZ-GA-0001/").content.decode()
    assert "兰州市公安局" in detail and "DE00002" in detail
    assert client.get("/data/resources/LZ-XX-0001/").status_code == 404
    listed = client.get("/api/v1/data-resources", {"provider": police.uscc}).json()
    assert listed["total"] == 1 and listed["items"][0]["code"] == "LZ-GA-0001"
    one = client.get("/api/v1/data-resources/LZ-GA-0001").json()
    assert [i["key"] for i in one["items"]] == ["id_number", "name"]
    assert "records" not in one
    assert client.get("/api/v1/data-resources/NOPE").status_code == 404
    assert client.get("/api/v1/data-resources", {"limit": 0}).status_code == 422


def test_officer_drafts_and_submits_through_the_api_and_the_bureau_reviews(
        client: Client, police: Department, police_data_officer: User,
        bureau_data_officer: User) -> None:
    payload = {"code": "LZ-GA-0002", "name": "居民身份证信息", "provider": police.uscc,
               "classification": "basic", "category_code": "101002", "summary": "身份证",
               "format": "数据库表", "share_type": "conditional", "share_method": "table",
               "update_cycle": "daily",
               "items": [{"key": "id_number", "name": "公民身份号码", "element": "DE00002",
                          "is_subject": True}]}
    client.force_login(police_data_officer)
    refused = client.post("/api/v1/data-resources/drafts", json.dumps(payload),
                          content_type="application/json")
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["field"] == "share_condition"
    payload["share_condition"] = "办理政务服务"
    draft = client.post("/api/v1/data-resources/drafts", json.dumps(payload),
                        content_type="application/json").json()
    assert draft["status"] == "draft"
    mine = client.get("/data/resources/mine/").content.decode()
    assert "居民身份证信息" in mine
    submitted = client.post(f"/data/resources/versions/{draft['id']}/submit/")
    assert submitted.status_code == 302
    assert client.get("/data/resources/review/").status_code == 403
    client.force_login(bureau_data_officer)
    assert "居民身份证信息" in client.get("/data/resources/review/").content.decode()
    reviewed = client.post(f"/api/v1/data-resources/versions/{draft['id']}/review",
                           json.dumps({"approve": True}), content_type="application/json")
    assert reviewed.json()["status"] == ResourceStatus.PUBLISHED
    template = client.get("/data/resources/template.xlsx")
    assert template.status_code == 200 and template.content[:2] == b"PK"


def test_the_bureau_confirms_a_contested_source_on_the_conflicts_page(
        client: Client, police: Department, police_data_officer: User, market: Department,
        market_data_officer: User, bureau_data_officer: User) -> None:
    for officer, department, code in ((police_data_officer, police, "LZ-GA-0001"),
                                      (market_data_officer, market, "LZ-SC-0009")):
        version = resource_save_draft(actor=officer, data=population(department, code=code))
        resource_version_submit(actor=officer, version=version)
    client.force_login(bureau_data_officer)
    page = client.get("/data/resources/conflicts/").content.decode()
    assert "DE00001" in page and "兰州市市场监督管理局" in page
    client.post("/data/resources/conflicts/DE00001/confirm/",
                {"department": police.pk, "reason": "户籍登记为姓名的法定来源"})
    assert DataElement.objects.get(identifier="DE00001").source_department == police
    assert "DE00001" not in client.get("/data/resources/conflicts/").content.decode()
    client.force_login(market_data_officer)
    mine = client.get("/data/resources/mine/").content.decode()
    assert "已确认兰州市公安局为数源" in mine


def test_an_officers_workbook_makes_drafts_of_its_own_department_only(
        client: Client, police: Department, market: Department,
        police_data_officer: User) -> None:
    import io

    from tongban.exchange import workbook

    def book(provider: str) -> io.BytesIO:
        resource = ["LZ-GA-0002", "居民身份证信息", provider, "基础信息资源", "101002", "身份证",
                    "数据库表", "有条件共享", "办理政务服务", None, "库表", None, "不予开放", None,
                    "每日", "电子政务外网", None, None]
        items = [["LZ-GA-0002", "id_number", "公民身份号码", "DE00002", "是", "否"]]
        buffer = io.BytesIO()
        workbook._write(buffer, {workbook.SHEET_ELEMENTS: [],
                                 workbook.SHEET_RESOURCES: [resource],
                                 workbook.SHEET_ITEMS: items})
        buffer.seek(0)
        buffer.name = "mine.xlsx"
        return buffer

    client.force_login(police_data_officer)
    refused = client.post("/data/resources/import/", {"file": book(market.name)}, follow=True)
    assert "只能导入本部门的资源" in refused.content.decode()
    assert not ResourceVersion.objects.exists()
    client.post("/data/resources/import/", {"file": book(police.name)})
    version = ResourceVersion.objects.get()
    assert version.status == ResourceStatus.DRAFT and version.resource.provider == police


def test_the_api_review_queue_and_source_confirmation(
        client: Client, police: Department, police_data_officer: User, market: Department,
        market_data_officer: User, bureau_data_officer: User) -> None:
    for officer, department, code in ((police_data_officer, police, "LZ-GA-0001"),
                                      (market_data_officer, market, "LZ-SC-0009")):
        version = resource_save_draft(actor=officer, data=population(department, code=code))
        resource_version_submit(actor=officer, version=version)
    client.force_login(market_data_officer)
    assert client.get("/api/v1/data-resources/review-queue").status_code == 403
    denied = client.post("/api/v1/data-elements/DE00001/source",
                         json.dumps({"department": market.uscc, "reason": "x"}),
                         content_type="application/json")
    assert denied.status_code == 403
    client.force_login(bureau_data_officer)
    queue = client.get("/api/v1/data-resources/review-queue").json()
    assert {v["code"] for v in queue} == {"LZ-GA-0001", "LZ-SC-0009"}
    refused = client.post(f"/api/v1/data-resources/versions/{queue[1]['id']}/review",
                          json.dumps({"approve": True}), content_type="application/json")
    assert refused.status_code == 422 and "数源尚未确认" in refused.json()["detail"][0]["message"]
    confirmed = client.post("/api/v1/data-elements/DE00001/source",
                            json.dumps({"department": police.uscc, "reason": "户籍登记"}),
                            content_type="application/json")
    assert confirmed.json() == {"identifier": "DE00001", "source_department": "兰州市公安局",
                                "reason": "户籍登记"}
