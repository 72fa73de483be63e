"""The sharing pages and the demand API: who sees what, the actions through the pages, uploads."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tongban.accounts.models import User
from tongban.exchange.models import Credential, DataRequest, Grant, RequestStatus, Resource

ZHANG = "620102199001011233"


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_demand_journey_through_the_pages(
        market_data_officer: User, bureau_data_officer: User, police_data_officer: User,
        people_resource: Resource) -> None:
    market = logged_in(market_data_officer)
    assert market.get("/data/sharing/").status_code == 200
    response = market.post("/data/sharing/requests/new/", {
        "resource": "LZ-GA-0001", "field_keys": "name, id_number", "purpose": "核验身份",
        "legal_basis": "《食品经营许可和备案管理办法》"})
    demand = DataRequest.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{demand.number}/")
    page = market.get(f"/data/sharing/requests/{demand.number}/").content.decode()
    assert "数据管理部门审核中" in page and "dl-mark" in page and "撤回需求" in page
    assert '<dd id="demand-items">姓名、公民身份号码</dd>' in page  # by name, not by key

    bad = market.post("/data/sharing/requests/new/", {
        "resource": "LZ-GA-0001", "field_keys": "salary", "purpose": "x", "legal_basis": "y"})
    assert bad.status_code == 400 and "salary" in bad.content.decode()

    bureau = logged_in(bureau_data_officer)
    assert demand.number in bureau.get("/data/sharing/").content.decode()
    bureau.post(f"/data/sharing/requests/{demand.number}/act/", {"action": "check"})
    demand.refresh_from_db()
    assert demand.status == RequestStatus.AT_PROVIDER

    police = logged_in(police_data_officer)
    answer = police.get(f"/data/sharing/requests/{demand.number}/").content.decode()
    assert 'value="id_number"> 公民身份号码</label>' in answer  # masked items chosen by name
    # The provider must give reasons and a basis to refuse: the page says so, nothing changes.
    police.post(f"/data/sharing/requests/{demand.number}/act/", {"action": "refuse"})
    demand.refresh_from_db()
    assert demand.status == RequestStatus.AT_PROVIDER
    police.post(f"/data/sharing/requests/{demand.number}/act/",
                {"action": "approve", "masked_keys": ["id_number"], "calls_per_minute": "30"})
    demand.refresh_from_db()
    assert demand.status == RequestStatus.GRANTED
    grant = Grant.objects.get()
    assert grant.masked_keys == ["id_number"] and grant.calls_per_minute == 30

    # The provider may not issue the consumer's key; the consumer sees the key once.
    assert police.post(f"/data/sharing/grants/{grant.pk}/", {"action": "issue"}).status_code == 403
    shown = market.post(f"/data/sharing/grants/{grant.pk}/", {"action": "issue", "days": "30"})
    assert shown.status_code == 200 and "tbx_" in shown.content.decode()
    credential = Credential.objects.get()
    again = market.get(f"/data/sharing/grants/{grant.pk}/").content.decode()
    assert "姓名、公民身份号码" in again  # the granted items by name, not by key
    assert "<dd>公民身份号码</dd>" in again  # the masked ones too
    assert credential.prefix in again and 'id="new-key"' not in again


def test_an_outsider_sees_nothing(market_data_officer: User, police_data_officer: User,
                                  people_resource: Resource, citizen: User) -> None:
    from tongban.exchange.services import sharing

    demand = sharing.data_request_file(actor=market_data_officer, resource=people_resource,
                                       field_keys=["name"], purpose="x", legal_basis="y")
    assert logged_in(citizen).get("/data/sharing/").status_code == 403
    assert logged_in(citizen).get("/data/census/").status_code == 403
    # The provider sees demands on its resources; the census is the bureau's.
    assert logged_in(police_data_officer).get(
        f"/data/sharing/requests/{demand.number}/").status_code == 200
    assert logged_in(police_data_officer).get("/data/census/").status_code == 403


def test_the_upload_page_refuses_a_bad_file_whole(police_data_officer: User,
                                                  market_data_officer: User,
                                                  people_resource: Resource) -> None:
    police = logged_in(police_data_officer)
    url = "/data/sharing/resources/LZ-GA-0001/records/"
    assert logged_in(market_data_officer).get(url).status_code == 404
    bad = SimpleUploadedFile("p.csv", f"id_number,name,birth_date\n{ZHANG},张明,1990-13-01\n".encode())
    response = police.post(url, {"file": bad})
    assert response.status_code == 422
    assert "第2行" in response.content.decode()
    good = SimpleUploadedFile("p.csv", f"id_number,name,sex\n{ZHANG},张明,1\n".encode())
    response = police.post(url, {"file": good})
    assert response.status_code == 200 and "已导入" in response.content.decode()
    assert logged_in(police_data_officer).get("/data/sharing/usage/").status_code == 200


def test_the_demand_api(market_data_officer: User, bureau_data_officer: User,
                        police_data_officer: User, people_resource: Resource,
                        issue_token: Callable[[User], str]) -> None:
    def post(user: User, path: str, body: dict[str, object]) -> object:
        return Client().post(path, json.dumps(body), content_type="application/json",
                             headers={"Authorization": f"Bearer {issue_token(user)}"})

    filed = post(market_data_officer, "/api/v1/data-requests", {
        "resource": "LZ-GA-0001", "field_keys": ["name", "address"], "purpose": "核验",
        "legal_basis": "依据"})
    assert filed.status_code == 201, filed.content  # type: ignore[attr-defined]
    number = filed.json()["number"]  # type: ignore[attr-defined]
    assert filed.json()["mark"] == "green"  # type: ignore[attr-defined]
    bad = post(market_data_officer, "/api/v1/data-requests", {"purpose": "", "legal_basis": ""})
    assert bad.status_code == 422  # type: ignore[attr-defined]
    assert post(police_data_officer, f"/api/v1/data-requests/{number}/check",
                {}).status_code == 403  # type: ignore[attr-defined]
    checked = post(bureau_data_officer, f"/api/v1/data-requests/{number}/check", {})
    assert checked.json()["status"] == "at_provider"  # type: ignore[attr-defined]
    answered = post(police_data_officer, f"/api/v1/data-requests/{number}/answer",
                    {"approve": True})
    grant_id = answered.json()["grant_id"]  # type: ignore[attr-defined]
    assert answered.json()["status"] == "granted" and grant_id  # type: ignore[attr-defined]
    key = post(market_data_officer, f"/api/v1/data-grants/{grant_id}/keys", {"days": 7})
    assert key.status_code == 201 and key.json()["key"].startswith("tbx_")  # type: ignore[attr-defined]
    listed = Client().get("/api/v1/data-grants",
                          headers={"Authorization": f"Bearer {issue_token(market_data_officer)}"})
    assert [g["id"] for g in listed.json()] == [grant_id]


def test_the_records_api(police_data_officer: User, market_data_officer: User,
                         people_resource: Resource,
                         issue_token: Callable[[User], str]) -> None:
    def upload(user: User, content: str, **form: str) -> object:
        return Client().post(
            "/api/v1/data-resources/LZ-GA-0001/records",
            {"file": SimpleUploadedFile("p.csv", content.encode()), **form},
            headers={"Authorization": f"Bearer {issue_token(user)}"})

    good = f"id_number,name\n{ZHANG},张明\n"
    assert upload(market_data_officer, good).status_code == 403  # type: ignore[attr-defined]
    bad = upload(police_data_officer, f"id_number,name\n{ZHANG}X,张明\n")
    assert bad.status_code == 422  # type: ignore[attr-defined]
    problem = bad.json()["detail"][0]  # type: ignore[attr-defined]
    assert (problem["row"], problem["column"]) == (2, "id_number")
    dry = upload(police_data_officer, good, dry_run="true")
    assert dry.json() == {"rows": 1, "created": 1, "updated": 0, "removed": 0,  # type: ignore[attr-defined]
                          "dry_run": True}
    done = upload(police_data_officer, good)
    assert done.json()["created"] == 1  # type: ignore[attr-defined]
