"""The bureau's workbook upload page: who may use it, what it accepts, what it shows."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl.workbook.workbook import Workbook

from tests.conftest import DEMO_WORKBOOK
from tongban.accounts.models import User
from tongban.audit.models import AuditRecord
from tongban.catalog.models import Item

from .test_workbook import counts, edited, find, import_demo, put, snapshot

URL = "/bureau/catalog/import/"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload(client: Client, content: bytes, *, name: str = "catalog.xlsx", dry_run: bool = False,
           **extra: Any) -> Any:
    data: dict[str, Any] = {"file": SimpleUploadedFile(name, content, content_type=XLSX)}
    if dry_run:
        data["dry_run"] = "on"
    return client.post(URL, data, **extra)


def text(response: Any) -> str:
    """The page's visible text, tags removed and whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


@pytest.fixture
def admin_client(client: Client, admin_user: User) -> Client:
    client.force_login(admin_user)
    return client


def test_the_url_is_the_named_route() -> None:
    assert reverse("catalog:import") == URL


@pytest.mark.django_db
def test_the_form_has_a_labelled_file_input_and_the_dry_run_option(admin_client: Client) -> None:
    response = admin_client.get(URL)
    page = response.content.decode()
    assert response.status_code == 200
    assert '<label for="id_file">目录工作簿（.xlsx）</label>' in page
    assert re.search(r'<input type="file" name="file" id="id_file" required', page)
    assert re.search(r'<label for="id_dry_run"><input type="checkbox" name="dry_run" id="id_dry_run">'
                     r'\s*只校验不导入 \(dry run\)</label>', page)
    assert 'enctype="multipart/form-data"' in page
    assert "最大 20 MB，工作表：部门、事项、材料" in text(response)


@pytest.mark.django_db
def test_an_admin_imports_a_valid_workbook(admin_client: Client, admin_user: User) -> None:
    response = upload(admin_client, DEMO_WORKBOOK.read_bytes(), name="demo-catalog.xlsx")

    assert response.status_code == 200
    page = text(response)
    assert "导入完成" in page
    assert "部门：44 行，新增 44，更新 0" in page
    assert "事项：288 行，新增 288，更新 0，未变 0" in page
    assert "材料：1201 行，写入 1201 条" in page
    assert counts() == {"departments": 44, "items": 288, "versions": 288, "materials": 1201,
                        "audit": 45}
    # Done as the logged-in administrator, not as the system.
    assert set(AuditRecord.objects.values_list("actor_id", flat=True)) == {admin_user.pk}
    assert Item.objects.filter(current__published_by=admin_user).count() == 288


@pytest.mark.django_db
def test_a_dry_run_upload_reports_and_saves_nothing(admin_client: Client) -> None:
    response = upload(admin_client, DEMO_WORKBOOK.read_bytes(), dry_run=True)

    assert response.status_code == 200
    page = text(response)
    assert "校验通过（未导入）" in page
    assert "事项：288 行，新增 288，更新 0，未变 0" in page
    assert counts() == {"departments": 0, "items": 0, "versions": 0, "materials": 0, "audit": 0}


@pytest.mark.django_db
def test_an_invalid_workbook_shows_every_fault_in_a_table(admin_client: Client,
                                                          tmp_path: Path) -> None:
    import_demo()
    before = snapshot()
    at: dict[str, int] = {}

    def edit(book: Workbook) -> None:
        items = book["事项"]
        at["row"] = find(items, 承诺类别="限时办结", 法定时限单位="工作日", 承诺时限单位="工作日")
        put(items, at["row"], "法定办结时限", 20)
        put(items, at["row"], "承诺办结时限", 30)
        put(book["部门"], 3, "行政区划代码", "999999")

    response = upload(admin_client, edited(tmp_path, edit).read_bytes(), name="bad.xlsx")

    assert response.status_code == 422
    page = response.content.decode()
    assert "“bad.xlsx”中发现 2 个错误，整个文件未导入，数据未作任何改动。" in text(response)
    assert '<th scope="col">工作表</th>' in page and '<th scope="col">错误说明</th>' in page
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", page)
    assert rows == [
        ("部门", "3", "行政区划代码", "行政区划代码“999999”不存在"),
        ("事项", str(at["row"]), "承诺办结时限", "承诺办结时限（30）不得超过法定办结时限（20）"),
    ]
    assert snapshot() == before


@pytest.mark.django_db
def test_a_file_without_a_sheet_shows_a_row_less_fault(admin_client: Client,
                                                       tmp_path: Path) -> None:
    def edit(book: Workbook) -> None:
        del book["部门"]

    response = upload(admin_client, edited(tmp_path, edit).read_bytes())

    assert response.status_code == 422
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>",
                      response.content.decode())
    assert rows == [("部门", "—", "—", "缺少工作表“部门”")]
    assert counts()["departments"] == 0


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("content", [
    "部门名称,统一社会信用代码\n兰州市公安局,11620100MB202820XH\n".encode(),  # a CSV renamed
    b"PK\x03\x04 not really a zip",
    _zip({"word/document.xml": "<w:document/>"}),  # a zip, but no workbook inside
])
def test_content_that_is_not_an_xlsx_is_refused(admin_client: Client, content: bytes) -> None:
    response = upload(admin_client, content)

    assert response.status_code == 400
    assert "文件不是 Excel 工作簿（.xlsx）" in text(response)
    assert 'aria-invalid="true"' in response.content.decode()
    assert counts() == {"departments": 0, "items": 0, "versions": 0, "materials": 0, "audit": 0}


@pytest.mark.django_db
def test_a_file_over_the_size_limit_is_refused(admin_client: Client,
                                               settings: Any) -> None:
    settings.CATALOG_UPLOAD_MAX_BYTES = 100 * 1024
    content = DEMO_WORKBOOK.read_bytes()
    assert len(content) > settings.CATALOG_UPLOAD_MAX_BYTES

    response = upload(admin_client, content)

    assert response.status_code == 400  # under the early body check, caught by the form
    assert "文件过大（上限 0.1 MB）" in text(response)
    assert counts()["items"] == 0


@pytest.mark.django_db
def test_a_body_declared_too_large_is_refused_before_it_is_read(admin_client: Client,
                                                                 settings: Any) -> None:
    settings.CATALOG_UPLOAD_MAX_BYTES = 1024 * 1024
    response = admin_client.post(URL, b"", content_type="multipart/form-data; boundary=x",
                                 CONTENT_LENGTH=str(5 * 1024 * 1024))
    assert response.status_code == 413
    assert "文件过大（上限 1 MB）" in text(response)


@pytest.mark.django_db
def test_an_anonymous_visitor_is_sent_to_log_in(client: Client) -> None:
    for response in (client.get(URL), upload(client, DEMO_WORKBOOK.read_bytes())):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
    assert counts() == {"departments": 0, "items": 0, "versions": 0, "materials": 0, "audit": 0}


@pytest.mark.django_db
def test_a_citizen_is_refused(client: Client, citizen: User, tmp_path: Path) -> None:
    import_demo()
    before = snapshot()
    client.force_login(citizen)

    def edit(book: Workbook) -> None:
        put(book["部门"], 2, "办公地址", "兰州市城关区另一个地址")

    assert client.get(URL).status_code == 403
    response = upload(client, edited(tmp_path, edit).read_bytes())
    assert response.status_code == 403
    assert snapshot() == before
