"""The dictionary's pages: public list and detail, the bureau's management and code list upload."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.exchange.conftest import publish_demo_elements
from tongban.accounts.models import User
from tongban.exchange.models import CodeList, DataElement, ElementStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def dictionary(db: None) -> None:
    publish_demo_elements("DE00001", "DE00002", "DE00003", "DE00020")


def test_the_public_dictionary(dictionary: None, client: Client) -> None:
    page = client.get("/data/elements/", {"q": "身份"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "DE00002" in text and "公民身份号码" in text and "DE00020" not in text
    detail = client.get("/data/elements/DE00003/").content.decode()
    assert "GB/T 2261.1" in detail and "人的性别代码" in detail
    assert "废止" not in detail
    assert client.get("/data/elements/DE99999/").status_code == 404
    codes = client.get("/data/code-lists/GB/T 2261.1/").content.decode()
    assert "未说明的性别" in codes
    csv = client.get("/data/code-lists/GB/T 2261.1/export/")
    assert csv.content.decode().startswith("代码,名称,英文名称,上级代码")
    xlsx = client.get("/data/code-lists/GB/T 2261.1/export/", {"format": "xlsx"})
    assert xlsx.content[:2] == b"PK"
    assert client.get("/data/elements/manage/").status_code == 302  # to the login
    export = client.get("/data/elements/export.csv").content.decode().splitlines()
    assert export[0].startswith("identifier,name,name_en,definition")
    assert [line.split(",")[0] for line in export[1:]] == ["DE00001", "DE00002", "DE00003",
                                                           "DE00020"]


def test_the_bureau_drafts_publishes_and_retires_on_the_pages(
        dictionary: None, client: Client, bureau_data_officer: User) -> None:
    client.force_login(bureau_data_officer)
    form = {"identifier": "DE09001", "name": "曾用名称", "definition": "主体曾经登记过的名称",
            "data_type": "string", "domain_kind": "free", "max_length": "50",
            "synonyms": "旧名称；原名称"}
    saved = client.post("/data/elements/new/", form)
    assert saved.status_code == 302
    element = DataElement.objects.get(identifier="DE09001")
    assert (element.status, element.synonyms) == (ElementStatus.DRAFT, ["旧名称", "原名称"])
    assert "DE09001" in client.get("/data/elements/manage/").content.decode()
    client.post("/data/elements/DE09001/publish/")
    assert DataElement.objects.get(identifier="DE09001").status == ElementStatus.PUBLISHED
    edited = client.post("/data/elements/DE09001/edit/", {**form, "max_length": "100"})
    assert edited.status_code == 302
    assert DataElement.objects.get(identifier="DE09001").version == 2
    history = client.get("/data/elements/DE09001/").content.decode()
    assert "变更记录" in history and "<code>max_length</code>：50 → 100" in history
    client.post("/data/elements/DE09001/retire/", {"reason": "与DE00001重复"})
    assert DataElement.objects.get(identifier="DE09001").status == ElementStatus.RETIRED
    faulty = client.post("/data/elements/new/", {**form, "identifier": "X"})
    assert "内部标识符应为 DE 加5至8位数字" in faulty.content.decode()


def test_code_list_upload_is_all_or_nothing(
        dictionary: None, client: Client, bureau_data_officer: User,
        police_data_officer: User) -> None:
    client.force_login(police_data_officer)
    assert client.get("/data/code-lists/upload/").status_code == 403
    client.force_login(bureau_data_officer)
    bad = SimpleUploadedFile("sex.csv", "代码,名称\n1,男\n1,女\n".encode())
    page = client.post("/data/code-lists/upload/", {"code": "GB/T 2261.1", "file": bad})
    assert "第2项：代码“1”重复" in page.content.decode()
    assert CodeList.objects.get(code="GB/T 2261.1").version == 1
    good = SimpleUploadedFile("sex.csv", "代码,名称\n1,男\n2,女\n".encode())
    page = client.post("/data/code-lists/upload/", {"code": "GB/T 2261.1", "file": good})
    assert "导入完成" in page.content.decode()
    assert CodeList.objects.get(code="GB/T 2261.1").version == 2


def test_a_department_proposes_on_the_pages(dictionary: None, client: Client,
                                            police_data_officer: User) -> None:
    client.force_login(police_data_officer)
    form = {"identifier": "DE09002", "name": "户籍迁出日期", "definition": "户口迁出登记的日期",
            "data_type": "date", "domain_kind": "free"}
    assert client.post("/data/elements/new/", form).status_code == 302
    detail = client.get("/data/elements/DE09002/").content.decode()
    assert "审核通过并发布" not in detail
    assert client.post("/data/elements/DE09002/publish/").status_code == 403
