"""Where a workbook import may use other processes and pause the cycle collector: in the
``import_catalog`` command (its own process), never on the upload page (a thread of a web
worker, where a fork could inherit another thread's held lock and the pause would hold back the
other threads' garbage). Either way the catalog and its search index come out the same."""

from __future__ import annotations

import gc
import io
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from tests.conftest import DEMO_WORKBOOK
from tongban.accounts.models import User
from tongban.accounts.permissions import SYSTEM
from tongban.catalog import search, segmentation
from tongban.catalog.models import Item, SearchEntry
from tongban.catalog.workbook import WorkbookRejected, catalog_import_workbook, read_workbook, reading

from .test_import_page import upload
from .test_workbook import import_file, snapshot


@pytest.fixture
def eager(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two cores and every size threshold at its lowest: the demo workbook would use processes
    wherever they are allowed."""
    monkeypatch.setattr(segmentation, "PARALLEL_MIN", 1)
    monkeypatch.setattr(segmentation, "workers_available", lambda: 2)
    monkeypatch.setattr(reading, "PROCESS_SHEET_BYTES", 0)


@pytest.fixture
def collector_states(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether the cycle collector was running when the search entries were written."""
    states: list[bool] = []
    real = search.reindex_items

    def spy(item_ids: Any) -> None:
        states.append(gc.isenabled())
        real(item_ids)

    monkeypatch.setattr(search, "reindex_items", spy)
    return states


def entries() -> list[tuple[int, str, str]]:
    return list(SearchEntry.objects.order_by("item_id").values_list("item_id", "name_tokens", "tokens"))


@pytest.mark.django_db
def test_the_upload_page_neither_forks_nor_pauses_the_collector(
        client: Client, admin_user: User, eager: None, collector_states: list[bool],
        monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork() -> int:
        raise AssertionError("the upload page forked a process")

    monkeypatch.setattr(os, "fork", no_fork)
    client.force_login(admin_user)
    response = upload(client, DEMO_WORKBOOK.read_bytes())
    assert response.status_code == 200
    assert collector_states == [True]
    assert Item.objects.count() == SearchEntry.objects.count() == 288


@pytest.mark.django_db
def test_the_command_uses_other_processes_and_gets_the_same_catalog(
        eager: None, collector_states: list[bool], monkeypatch: pytest.MonkeyPatch) -> None:
    forks: list[int] = []
    real_fork = os.fork

    def counted() -> int:
        forks.append(1)
        return real_fork()

    monkeypatch.setattr(os, "fork", counted)
    assert gc.isenabled()
    call_command("import_catalog", str(DEMO_WORKBOOK), stdout=io.StringIO())
    # A sheet read in one process, the entries segmented in two more; the collector paused
    # while the import ran and running again after it.
    assert len(forks) == 3
    assert collector_states == [False] and gc.isenabled()
    indexed = entries()
    assert len(indexed) == 288

    # What the workers read and segmented is what this process reads and segments alone.
    monkeypatch.setattr(os, "fork", real_fork)
    report = import_file(DEMO_WORKBOOK)
    assert (report.result.items_unchanged, report.result.materials_unchanged) == (288, 1201)
    search.reindex_items(Item.objects.values_list("pk", flat=True))
    assert entries() == indexed
    assert collector_states == [False, True]  # the unchanged file wrote nothing to index


def test_a_sheet_read_in_another_process_is_the_sheet_read_here() -> None:
    here = read_workbook(DEMO_WORKBOOK)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reading, "PROCESS_SHEET_BYTES", 0)
        there = read_workbook(DEMO_WORKBOOK, processes=True)
    assert there["材料"]._pending is not None  # the largest sheet, still on its way
    for name, sheet in here.items():
        assert (there[name].index, there[name].rows) == (sheet.index, sheet.rows)


def broken_at_the_end(tmp_path: Path) -> Path:
    """The demo workbook with its largest sheet's XML broken after its first rows."""
    path = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(DEMO_WORKBOOK) as source, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        largest = max((i for i in source.infolist() if i.filename.startswith("xl/worksheets/")),
                      key=lambda i: i.file_size)
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == largest.filename:
                content = content.replace(b"</sheetData>", b"</sheetDat>")
            target.writestr(info, content)
    return path


@pytest.mark.django_db
@pytest.mark.parametrize("standalone", [False, True])
def test_a_sheet_broken_after_its_header_is_refused_either_way(
        tmp_path: Path, eager: None, standalone: bool) -> None:
    catalog_import_workbook(actor=SYSTEM, source=DEMO_WORKBOOK, name="demo.xlsx")
    before = snapshot()
    with pytest.raises(WorkbookRejected) as failure:
        catalog_import_workbook(actor=SYSTEM, source=broken_at_the_end(tmp_path),
                                name="broken.xlsx", standalone=standalone)
    assert [str(p.message) for p in failure.value.problems] == [
        "无法读取文件：不是有效的 Excel 工作簿（.xlsx）"]
    assert snapshot() == before
