"""One way to publish a version: the review (admin action, bureau page, API) and the bureau's
workbook all go through ``services.versions_publish``, with its checks and its audit."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from openpyxl.workbook.workbook import Workbook

from tests.catalog.bureau_factories import item_data, with_changes
from tests.catalog.test_bureau_api import Api
from tests.catalog.test_workbook import DEMO_WORKBOOK, edited, find, import_file, put, snapshot
from tongban.accounts.models import User
from tongban.audit.models import AuditRecord
from tongban.catalog import services
from tongban.catalog.models import Item, ItemVersion, VersionStatus
from tongban.catalog.rules import ItemData, check_item
from tongban.catalog.workbook import WorkbookRejected
from tongban.core.errors import Problem
from tongban.organizations.models import Department

S = VersionStatus


@pytest.fixture
def publications(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """The version ids of each call of ``versions_publish`` (which still does its work)."""
    calls: list[list[int]] = []
    real = services.versions_publish

    def spy(**kwargs: Any) -> None:
        calls.append(sorted(kwargs["contents"]))
        real(**kwargs)

    monkeypatch.setattr(services, "versions_publish", spy)
    return calls


def under_review(actor: User, dept: Department, sequence: int) -> ItemVersion:
    draft = services.item_save_draft(actor=actor, data=item_data(dept, sequence=sequence))
    return services.version_submit(actor=actor, version=draft)


def test_the_admin_and_the_api_publish_through_one_service(
        client: Client, bureau: User, dept: Department, publications: list[list[int]]) -> None:
    first, second = under_review(bureau, dept, 1), under_review(bureau, dept, 2)
    client.force_login(bureau)
    client.post(reverse("admin:catalog_itemversion_changelist"), {
        "action": "publish_versions", ACTION_CHECKBOX_NAME: [first.pk], "index": "0"})
    response = Api(client, bureau).post(
        f"/items/{second.item.implementation_code}/review", {"approve": True, "note": "同意"})
    assert response.status_code == 200
    assert publications == [[first.pk], [second.pk]]
    for version, note in ((first, ""), (second, "同意")):
        version.refresh_from_db()
        assert (version.status, version.published_by, version.review_note,
                version.item.current_id) == (S.PUBLISHED, bureau, note, version.pk)
        record = AuditRecord.objects.get(action="catalog.published",
                                         object_id=version.item.implementation_code)
        assert record.detail == {"version": 1, "note": note}


def test_every_door_refuses_what_the_rules_refuse_now(
        client: Client, bureau: User, dept: Department, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = under_review(bureau, dept, 1), under_review(bureau, dept, 2)
    # A rule tightened after the versions were submitted.
    monkeypatch.setattr(services, "check_item",
                        lambda data: [Problem(field="legal_basis", message="须填写设定依据")])
    catalog_records = AuditRecord.objects.filter(action__startswith="catalog.")
    before = catalog_records.count()
    client.force_login(bureau)
    page = client.post(reverse("admin:catalog_itemversion_changelist"), {
        "action": "publish_versions", ACTION_CHECKBOX_NAME: [first.pk], "index": "0"})
    assert [str(m) for m in get_messages(page.wsgi_request)] == [f"{first}：须填写设定依据"]
    response = Api(client, bureau).post(
        f"/items/{second.item.implementation_code}/review", {"approve": True})
    assert (response.status_code, response.json()["detail"]) == (
        422, [{"field": "legal_basis", "message": "须填写设定依据"}])
    assert set(ItemVersion.objects.values_list("status", flat=True)) == {S.UNDER_REVIEW}
    assert catalog_records.count() == before


@pytest.mark.django_db
def test_a_workbook_publishes_through_the_same_service(publications: list[list[int]]) -> None:
    import_file(DEMO_WORKBOOK)
    published = sorted(ItemVersion.objects.filter(status=S.PUBLISHED).values_list("pk", flat=True))
    assert publications == [published]
    assert len(published) == Item.objects.count() == 288
    assert not Item.objects.exclude(current_id__in=published).exists()
    assert AuditRecord.objects.filter(action="catalog.published").count() == 0  # one import record
    assert AuditRecord.objects.filter(action="catalog.imported").count() == 1


@pytest.mark.django_db
def test_a_workbook_runs_the_rules_once_per_item_and_still_refuses_a_bad_row(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The importer checks every item (pointing each fault at its cell); publishing the file's
    versions does not run the same rules over the same contents again."""
    checked: Counter[str] = Counter()

    def spy(data: ItemData) -> list[Problem]:
        checked[data.implementation_code] += 1
        return check_item(data)

    monkeypatch.setattr("tongban.catalog.workbook.importing.check_item", spy)
    monkeypatch.setattr(services, "check_item", spy)
    import_file(DEMO_WORKBOOK)
    assert len(checked) == 288 and set(checked.values()) == {1}

    code = "11620100051317876B3000100113001"
    checked.clear()

    def moved(book: Workbook) -> None:
        put(book["事项"], find(book["事项"], 实施编码=code), "办理地点", "兰州市政务服务中心九楼")

    report = import_file(edited(tmp_path, moved, "moved.xlsx"))
    assert report.result.items_updated == 1
    assert len(checked) == 288 and set(checked.values()) == {1}

    # A bad row is still refused, with its message at its cell, and nothing changes.
    before = snapshot()
    at: list[int] = []

    def broken(book: Workbook) -> None:
        at.append(find(book["事项"], 承诺类别="即收即办"))
        put(book["事项"], at[0], "承诺办结时限", 1)

    with pytest.raises(WorkbookRejected) as failure:
        import_file(edited(tmp_path, broken, "broken.xlsx"))
    assert [(p.sheet, p.row, p.column, str(p.message)) for p in failure.value.problems] == [
        ("事项", at[0], "承诺办结时限", "即收即办事项的承诺办结时限须为0（当场办结）")]
    assert snapshot() == before


def test_a_version_not_under_review_is_refused_with_its_state(
        bureau: User, dept: Department) -> None:
    draft = services.item_save_draft(actor=bureau, data=item_data(dept))
    try:
        services.versions_publish(actor=bureau, contents={draft.pk: with_changes(item_data(dept))})
    except services.RuleViolation as exc:
        assert [str(p.message) for p in exc.problems] == ["版本状态“草稿”不能变为“已发布”"]
    else:
        raise AssertionError("a draft was published without review")
    draft.refresh_from_db()
    assert draft.status == S.DRAFT
