"""The element dictionary's API: public reads, the data bureau's writes."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.exchange.conftest import publish_demo_elements
from tongban.accounts.models import User

pytestmark = pytest.mark.django_db

NEW = {"identifier": "DE09001", "name": "曾用名称", "definition": "主体曾经登记过的名称",
       "data_type": "string", "max_length": 50}


@pytest.fixture
def dictionary(db: None) -> None:
    publish_demo_elements("DE00001", "DE00002", "DE00003", "DE00020")


def test_the_public_reads_published_elements_paginated(dictionary: None, client: Client) -> None:
    page = client.get("/api/v1/data-elements", {"limit": 2}).json()
    assert (page["total"], page["limit"], page["offset"]) == (4, 2, 0)
    assert [e["identifier"] for e in page["items"]] == ["DE00001", "DE00002"]
    found = client.get("/api/v1/data-elements", {"q": "身份"}).json()
    assert [e["identifier"] for e in found["items"]] == ["DE00002"]
    sex = client.get("/api/v1/data-elements/DE00003").json()
    assert (sex["code_list"], sex["status"], sex["personal"]) == ("GB/T 2261.1", "published", True)
    assert client.get("/api/v1/data-elements/DE99999").status_code == 404
    bad = client.get("/api/v1/data-elements", {"limit": "0", "status": "x"})
    assert bad.status_code == 422
    assert {p["field"] for p in bad.json()["detail"]} == {"limit", "status"}


def test_code_lists_and_their_entries(dictionary: None, client: Client) -> None:
    lists = client.get("/api/v1/code-lists").json()
    assert {"code": "GB/T 2261.1", "entry_count": 4}.items() <= next(
        c for c in lists if c["code"] == "GB/T 2261.1").items()
    sex = client.get("/api/v1/code-lists/GB/T%202261.1").json()
    assert [e["value"] for e in sex["entries"]] == ["0", "1", "2", "9"]
    file = client.get("/api/v1/code-lists/GB/T%202261.1.csv")
    assert file.status_code == 200
    assert file.content.decode().splitlines()[:2] == ["代码,名称,英文名称,上级代码",
                                                     "0,未知的性别,Unknown,"]
    assert client.get("/api/v1/code-lists/XX").status_code == 404


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, body, content_type="application/json")


def test_the_bureau_drafts_publishes_and_retires(
        dictionary: None, client: Client, bureau_data_officer: User) -> None:
    assert post(client, "/api/v1/data-elements", NEW).status_code == 401
    client.force_login(bureau_data_officer)
    created = post(client, "/api/v1/data-elements", NEW)
    assert created.status_code == 201
    assert created.json()["status"] == "draft"
    drafts = client.get("/api/v1/data-elements", {"status": "draft"}).json()
    assert [e["identifier"] for e in drafts["items"]] == ["DE09001"]
    published = post(client, "/api/v1/data-elements/DE09001/publish", {})
    assert published.json()["status"] == "published"
    assert published.json()["approved_on"]
    refused = post(client, "/api/v1/data-elements/DE09001/retire", {"reason": ""})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["field"] == "reason"
    retired = post(client, "/api/v1/data-elements/DE09001/retire", {"reason": "重复"})
    assert retired.json()["status"] == "retired"
    client.logout()
    assert client.get("/api/v1/data-elements/DE09001").status_code == 404


def test_a_department_proposes_but_may_not_publish(
        dictionary: None, client: Client, police_data_officer: User) -> None:
    client.force_login(police_data_officer)
    created = post(client, "/api/v1/data-elements", NEW)
    assert created.status_code == 201
    assert created.json()["submitting_department"] == "兰州市公安局"
    assert post(client, "/api/v1/data-elements/DE09001/publish", {}).status_code == 403
    invalid = post(client, "/api/v1/data-elements", {**NEW, "identifier": "X1"})
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["field"] == "identifier"
