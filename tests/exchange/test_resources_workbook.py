"""The resource workbook: the demo workbook imports through the importer, export gives it
back, a broken workbook is rejected whole with its cells."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command

from tests.conftest import make_department
from tongban.accounts.permissions import SYSTEM
from tongban.exchange.codelists import load_bundled_code_lists
from tongban.exchange.models import DataElement, Resource, ResourceStatus, ResourceVersion
from tongban.exchange.selectors.resources import source_conflicts
from tongban.exchange.workbook import (
    WorkbookRejected,
    empty_template,
    resources_export_workbook,
    resources_import_workbook,
)

DEMO = Path(__file__).resolve().parents[2] / "src/tongban/demo/data/demo-resources.xlsx"
PROVIDERS = ["兰州市公安局", "兰州市市场监督管理局", "兰州市人力资源和社会保障局", "兰州市住房和城乡建设局",
             "兰州市自然资源局", "兰州市民政局", "兰州市卫生健康委员会", "兰州市教育局", "兰州市交通运输局",
             "兰州市生态环境局", "兰州市城市管理委员会", "兰州市文化和旅游局", "兰州市商务局",
             "兰州市农业农村局", "兰州市水务局", "兰州市医疗保障局", "兰州市退役军人事务局",
             "兰州市应急管理局", "兰州市司法局", "兰州市税务局", "兰州市住房公积金管理中心",
             "兰州市残疾人联合会", "兰州市林业和草原局", "兰州市消防救援支队", "兰州市政务服务管理局"]


@pytest.fixture
def city(db: None) -> None:
    from tongban.catalog.models import Item

    for n, name in enumerate(PROVIDERS, start=10):
        department = make_department(name, serial=n)
        if name == "兰州市市场监督管理局":
            Item.objects.create(implementation_code="11620100051317876B3000100139001",
                                basic_code="000100139", department=department)
    make_department("兰州市大数据管理局", serial=9, is_data_bureau=True)
    load_bundled_code_lists(actor=SYSTEM)


def cells(book: openpyxl.Workbook, sheet: str, row: int, header: str, value: object) -> None:
    ws = book[sheet]
    column = [c.value for c in ws[1]].index(header) + 1
    ws.cell(row=row, column=column, value=value)


def saved(book: openpyxl.Workbook) -> io.BytesIO:
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


@pytest.mark.usefixtures("city")
def test_demo_workbook_publishes_and_export_gives_it_back(tmp_path: Path) -> None:
    report = resources_import_workbook(actor=SYSTEM, source=DEMO, name=DEMO.name)
    assert report.elements_created >= 150 and report.resources_created >= 100
    assert Resource.objects.filter(current__isnull=False).count() == report.resources_created
    population = Resource.objects.get(code="LZ-GA-0001")
    assert population.current is not None
    assert list(population.current.fields.values_list("key", flat=True)) == [
        "id_number", "name", "sex", "birth_date", "ethnicity", "address"]
    assert DataElement.objects.get(identifier="DE00001").source_department == population.provider
    exported = tmp_path / "out.xlsx"
    call_command("export_resources", str(exported))
    again = resources_import_workbook(actor=SYSTEM, source=exported, name="out.xlsx")
    assert (again.elements_created, again.elements_updated, again.resources_created,
            again.resources_updated) == (0, 0, 0, 0)
    second = tmp_path / "again.xlsx"
    resources_export_workbook(second)
    assert second.read_bytes() == exported.read_bytes()


@pytest.mark.usefixtures("city")
def test_a_broken_workbook_is_rejected_whole_with_its_cells() -> None:
    book = openpyxl.load_workbook(DEMO)
    cells(book, "资源目录", 2, "共享类型", "随便共享")
    cells(book, "资源目录", 3, "类目编码", "9")
    cells(book, "信息项", 2, "数据元", "DE99999")
    with pytest.raises(WorkbookRejected) as rejected:
        resources_import_workbook(actor=SYSTEM, source=saved(book), name="bad.xlsx")
    where = {(p.sheet, p.row, p.column) for p in rejected.value.problems}
    assert ("资源目录", 2, "共享类型") in where
    # Each faulty cell is reported once (its unreadable value, not again as an empty choice).
    share_type = [str(p.message) for p in rejected.value.problems
                  if (p.sheet, p.row, p.column) == ("资源目录", 2, "共享类型")]
    assert share_type == ["“随便共享”不是有效的共享类型，可选：无条件共享、有条件共享、不予共享"]
    assert ("资源目录", 3, "类目编码") in where
    assert ("信息项", 2, "数据元") in where
    assert not Resource.objects.exists() and not DataElement.objects.exists()


@pytest.mark.usefixtures("city")
def test_open_data_with_personal_items_is_refused_at_its_cell() -> None:
    book = openpyxl.load_workbook(DEMO)
    cells(book, "资源目录", 2, "开放属性", "无条件开放")  # LZ-GA-0001
    with pytest.raises(WorkbookRejected) as rejected:
        resources_import_workbook(actor=SYSTEM, source=saved(book), name="bad.xlsx")
    messages = [str(p.message) for p in rejected.value.problems if p.sheet == "信息项"]
    assert any(m.startswith("开放数据不得包含个人信息") for m in messages)


@pytest.mark.usefixtures("city")
def test_dry_run_writes_nothing_and_the_template_has_the_columns() -> None:
    report = resources_import_workbook(actor=SYSTEM, source=DEMO, name=DEMO.name, dry_run=True)
    assert report.resources_created >= 100 and not Resource.objects.exists()
    buffer = io.BytesIO()
    empty_template(buffer)
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    assert book.sheetnames == ["数据元", "资源目录", "信息项"]
    assert [c.value for c in book["信息项"][1]] == ["资源代码", "字段名", "信息项名称", "数据元",
                                                 "主体标识", "数源"]


@pytest.mark.usefixtures("city")
def test_demo_loader_leaves_two_conflicts_for_the_bureau() -> None:
    from tongban.demo.data_resources import load_data_resources

    load_data_resources()
    assert Resource.objects.filter(current__isnull=False).count() >= 100
    assert {c.element.identifier for c in source_conflicts()} == {"DE00007", "DE00008"}
    assert ResourceVersion.objects.filter(status=ResourceStatus.UNDER_REVIEW).count() == 4


@pytest.mark.usefixtures("city")
def test_a_changed_element_is_updated_and_its_version_bumped() -> None:
    resources_import_workbook(actor=SYSTEM, source=DEMO, name=DEMO.name)
    book = openpyxl.load_workbook(DEMO)
    cells(book, "数据元", 2, "英文名称", "Full name")  # DE00001
    report = resources_import_workbook(actor=SYSTEM, source=saved(book), name="changed.xlsx")
    assert (report.elements_updated, report.resources_created, report.resources_updated) == (
        1, 0, 0)
    element = DataElement.objects.get(identifier="DE00001")
    assert element.name_en == "Full name" and element.version == 2


@pytest.mark.usefixtures("city")
def test_two_departments_claiming_one_source_in_a_workbook_point_at_the_cell() -> None:
    book = openpyxl.load_workbook(DEMO)
    items = book["信息项"]
    header = [c.value for c in items[1]]
    rows = list(items.iter_rows(min_row=2, values_only=True))
    # LZ-RS-0001's name item (DE00001, claimed by 公安局 in LZ-GA-0001) now claims it too.
    number = next(n for n, r in enumerate(rows, start=2)
                  if r[0] == "LZ-RS-0001" and r[1] == "name")
    items.cell(row=number, column=header.index("数源") + 1, value="是")
    with pytest.raises(WorkbookRejected) as rejected:
        resources_import_workbook(actor=SYSTEM, source=saved(book), name="bad.xlsx")
    where = {(p.sheet, p.row, p.column) for p in rejected.value.problems}
    assert ("信息项", number, "数源") in where
