"""The catalog workbook: importing, re-importing, dry runs, exporting, and the two commands.

The fault-by-fault checks are in ``test_workbook_errors.py``; the upload page in
``test_import_page.py``. Both use the helpers defined here.
"""

from __future__ import annotations

import io
import zipfile
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation
from django.utils.translation import gettext
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from tests.conftest import DEMO_WORKBOOK, make_user
from tongban.accounts.models import Role
from tongban.accounts.permissions import SYSTEM
from tongban.audit.models import AuditRecord
from tongban.catalog import search, services
from tongban.catalog.models import (
    Commitment,
    Faq,
    Fee,
    Item,
    ItemVersion,
    Material,
    SearchEntry,
    VersionStatus,
)
from tongban.catalog.rules import check_item
from tongban.catalog.workbook import (
    ImportReport,
    catalog_export_workbook,
    catalog_import_workbook,
)
from tongban.core.errors import AccessDenied
from tongban.organizations.models import Department

# --- helpers shared by the workbook tests ---------------------------------------------------


def import_file(path: Path, *, dry_run: bool = False, actor: Any = SYSTEM) -> ImportReport:
    return catalog_import_workbook(actor=actor, source=path, name=path.name, dry_run=dry_run)


def import_demo() -> ImportReport:
    return import_file(DEMO_WORKBOOK)


def snapshot() -> dict[str, Any]:
    """What an import may write; equal snapshots mean the database did not change."""
    return {
        "departments": list(Department.objects.order_by("pk").values()),
        "items": list(Item.objects.order_by("pk").values_list("implementation_code", "current_id")),
        "versions": list(ItemVersion.objects.order_by("pk").values_list("pk", "status")),
        "materials": Material.objects.count(),
        "audit": list(AuditRecord.objects.order_by("seq").values_list("seq", "hash")),
        "search": SearchEntry.objects.count(),
    }


def counts() -> dict[str, int]:
    return {"departments": Department.objects.count(), "items": Item.objects.count(),
            "versions": ItemVersion.objects.count(), "materials": Material.objects.count(),
            "audit": AuditRecord.objects.count()}


def edited(tmp_path: Path, edit: Callable[[Workbook], None], name: str = "edited.xlsx") -> Path:
    """The demo workbook with ``edit`` applied, saved as a new file."""
    book = openpyxl.load_workbook(DEMO_WORKBOOK)
    edit(book)
    path = tmp_path / name
    book.save(path)
    return path


def column(sheet: Worksheet, header: str) -> int:
    return [c.value for c in sheet[1]].index(header) + 1


def get(sheet: Worksheet, row: int, header: str) -> Any:
    return sheet.cell(row, column(sheet, header)).value


def put(sheet: Worksheet, row: int, header: str, value: Any) -> None:
    sheet.cell(row, column(sheet, header)).value = value


def find(sheet: Worksheet, **wanted: Any) -> int:
    """The first row whose cells hold the wanted values (keyword = column name)."""
    headers = [c.value for c in sheet[1]]
    for number, values in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
        row = dict(zip(headers, values, strict=False))
        if all(row[k] == v for k, v in wanted.items()):
            return number
    raise AssertionError(f"no row with {wanted}")


def cells(path: Path | bytes) -> dict[str, list[tuple[Any, ...]]]:
    """Every sheet's cell values; an empty string counts as an empty cell."""
    book = openpyxl.load_workbook(io.BytesIO(path) if isinstance(path, bytes) else path,
                                  read_only=True)
    try:
        return {ws.title: [tuple(None if v == "" else v for v in row)
                           for row in ws.iter_rows(values_only=True)]
                for ws in book.worksheets}
    finally:
        book.close()


def export_bytes() -> bytes:
    buffer = io.BytesIO()
    catalog_export_workbook(buffer)
    return buffer.getvalue()


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def assert_adds_up(report: ImportReport) -> None:
    """Every row of the summary is accounted for exactly once."""
    r = report.result
    assert report.department_rows == (r.departments_created + r.departments_updated
                                      + r.departments_unchanged)
    assert report.item_rows == r.items_created + r.items_updated + r.items_unchanged
    assert report.material_rows == r.materials_written + r.materials_unchanged


# --- importing the demo -----------------------------------------------------------------------

@pytest.mark.django_db
def test_importing_the_demo_workbook_loads_the_whole_catalog() -> None:
    report = import_demo()

    r = report.result
    assert (r.departments_created, r.departments_updated) == (44, 0)
    assert (r.items_created, r.items_updated, r.items_unchanged) == (288, 0, 0)
    assert (report.department_rows, report.item_rows, report.material_rows) == (44, 288, 1201)
    assert (r.departments_unchanged, r.materials_written, r.materials_unchanged) == (0, 1201, 0)
    assert_adds_up(report)
    assert counts() == {"departments": 44, "items": 288, "versions": 288, "materials": 1201,
                        "audit": 44 + 1}
    published = ItemVersion.objects.filter(status=VersionStatus.PUBLISHED)
    assert Counter(published.values_list("commitment", flat=True)) == {
        Commitment.ON_THE_SPOT: 88, Commitment.SAME_DAY: 57, Commitment.TIME_LIMITED: 114,
        Commitment.PROXY: 29}
    assert Item.objects.filter(current__status=VersionStatus.PUBLISHED).count() == 288
    assert SearchEntry.objects.count() == 288
    levels = Counter(Department.objects.values_list("level", flat=True))
    assert levels == {"city": 26, "county": 12, "township": 6}


@pytest.mark.django_db
def test_imported_values_are_the_models_codes() -> None:
    import_demo()
    item = Item.objects.get(implementation_code="11620100051317876B3000100113001")
    v = item.current
    assert v is not None
    assert (v.name, v.item_type, v.level, v.commitment) == ("企业设立登记", "01", "city", "on_the_spot")
    assert (v.legal_limit, v.legal_limit_unit, v.committed_limit, v.committed_limit_unit) == (
        3, "working_days", 0, "working_days")
    assert (v.required_visits, v.online_depth, v.charges_fee) == (0, 4, False)
    assert v.handling_forms == ["online", "window"]
    assert (v.service_objects, v.topics, v.result_type) == (["legal_person"], ["设立变更"], "licence")
    assert (v.visit_reason, v.fee_standard, v.receiving_unit_id) == ("", "", None)
    assert item.department.name == "兰州市市场监督管理局"
    first = v.materials.get(position=1)
    assert (first.name, first.material_type, first.form, first.necessity, first.source) == (
        "《公司登记（备案）申请书》", "original", "both", "required", "applicant")
    assert (first.original_copies, first.copy_copies, first.licence_type) == (1, 0, "")
    proxied = ItemVersion.objects.filter(commitment=Commitment.PROXY)
    assert proxied.filter(receiving_unit__isnull=True).count() == 0
    street = Department.objects.get(name="城关区皋兰路街道便民服务中心")
    assert (street.level, street.division.code, street.parent.name if street.parent else None) == (
        "township", "620102", "城关区政务服务中心")


@pytest.mark.django_db
def test_the_import_is_audited_as_the_acting_user() -> None:
    import_demo()
    actions = Counter(AuditRecord.objects.values_list("action", "actor_name"))
    assert actions == {("department.created", "system"): 44, ("catalog.imported", "system"): 1}
    record = AuditRecord.objects.get(action="catalog.imported")
    assert record.detail == {"source": "demo-catalog.xlsx", "created": 288, "updated": 0,
                             "unchanged": 0}


@pytest.mark.django_db
def test_importing_the_same_file_twice_changes_nothing() -> None:
    import_demo()
    before = snapshot()

    report = import_demo()

    r = report.result
    assert (r.departments_created, r.departments_updated, r.departments_unchanged) == (0, 0, 44)
    assert (r.items_created, r.items_updated, r.items_unchanged, r.materials_written) == (
        0, 0, 288, 0)
    assert r.materials_unchanged == 1201
    assert_adds_up(report)
    assert snapshot() == before


@pytest.mark.django_db
def test_a_changed_item_gets_a_new_published_version(tmp_path: Path) -> None:
    import_demo()
    code = "11620100051317876B3000100113001"
    old = Item.objects.get(implementation_code=code).current
    assert old is not None
    # The last number so far (numbers are a PostgreSQL sequence, not the count of records).
    audit_before = AuditRecord.objects.order_by("-seq").values_list("seq", flat=True).first() or 0

    def edit(book: Workbook) -> None:
        row = find(book["事项"], 实施编码=code)
        put(book["事项"], row, "受理条件", "申请材料齐全、符合法定形式。")
        put(book["部门"], find(book["部门"], 部门名称="兰州市公安局"), "办公地址", "兰州市城关区新地址1号")

    report = import_file(edited(tmp_path, edit))

    r = report.result
    assert (r.departments_created, r.departments_updated, r.departments_unchanged) == (0, 1, 43)
    assert (r.items_created, r.items_updated, r.items_unchanged) == (0, 1, 287)
    assert_adds_up(report)
    item = Item.objects.get(implementation_code=code)
    assert item.current is not None
    assert (item.current.number, item.current.status, item.current.conditions) == (
        2, VersionStatus.PUBLISHED, "申请材料齐全、符合法定形式。")
    assert item.current.change_note == "目录导入：edited.xlsx"
    old.refresh_from_db()
    assert old.status == VersionStatus.SUPERSEDED
    assert list(item.current.materials.values_list("name", flat=True)) == list(
        old.materials.values_list("name", flat=True))
    assert ItemVersion.objects.count() == 289
    assert Department.objects.get(name="兰州市公安局").address == "兰州市城关区新地址1号"
    new_records = AuditRecord.objects.filter(seq__gt=audit_before)
    assert sorted(new_records.values_list("action", "object_id")) == [
        ("catalog.imported", "edited.xlsx"), ("department.updated", "11620100MB202820XH")]


@pytest.mark.django_db
def test_fields_the_template_lacks_survive_a_reimport() -> None:
    import_demo()
    code = "11620100051317876B3000100113001"
    version = Item.objects.get(implementation_code=code).current
    assert version is not None
    # Set on the catalog pages, not in the workbook: an import must keep them.
    ItemVersion.objects.filter(pk=version.pk).update(process="受理—审核—发证",
                                                     review_route="向兰州市人民政府申请行政复议")
    version.materials.filter(position=1).update(legal_basis="《市场主体登记管理条例》第十六条")
    before = snapshot()

    report = import_demo()

    assert report.result.items_updated == 0
    assert snapshot() == before


@pytest.mark.django_db
def test_fees_and_faqs_carry_over_to_the_version_a_reimport_publishes(tmp_path: Path) -> None:
    import_demo()
    code = "11620100051317876B3000100113001"
    version = Item.objects.get(implementation_code=code).current
    assert version is not None
    Fee.objects.create(version=version, name="营业执照副本工本费", amount="10.00", unit="本",
                       basis="《国家发展改革委 财政部关于工本费的通知》")
    Faq.objects.create(version=version, position=1, question="可以网上办理吗？",
                       answer="可以，全程网办。")

    def edit(book: Workbook) -> None:
        put(book["事项"], find(book["事项"], 实施编码=code), "受理条件", "申请材料齐全。")

    import_file(edited(tmp_path, edit))

    current = Item.objects.get(implementation_code=code).current
    assert current is not None and current.number == 2
    assert list(current.fees.values_list("name", "amount", "unit")) == [
        ("营业执照副本工本费", Decimal("10.00"), "本")]
    assert list(current.faqs.values_list("question", "answer")) == [("可以网上办理吗？", "可以，全程网办。")]
    # The superseded version keeps its own rows.
    assert version.fees.count() == 1 and version.faqs.count() == 1


@pytest.mark.django_db
def test_a_dry_run_reports_the_changes_and_writes_nothing() -> None:
    before = snapshot()

    report = catalog_import_workbook(actor=SYSTEM, source=DEMO_WORKBOOK, name="demo.xlsx",
                                     dry_run=True)

    assert report.dry_run
    assert (report.result.departments_created, report.result.items_created) == (44, 288)
    assert report.result.materials_written == 1201
    assert snapshot() == before


@pytest.mark.django_db
def test_a_failure_while_writing_leaves_nothing_half_saved(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("disk full")

    # Departments are written first; the item step then fails.
    monkeypatch.setattr("tongban.catalog.workbook.importing.catalog_apply", broken)
    with pytest.raises(RuntimeError):
        import_demo()
    assert counts() == {"departments": 0, "items": 0, "versions": 0, "materials": 0, "audit": 0}


@pytest.mark.django_db
def test_a_failure_after_every_row_is_written_leaves_nothing_half_saved(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Items, versions, materials and search entries all written, then the import fails: the
    one transaction takes them all back, on a first import and on a re-import that changes."""
    written: list[int] = []
    real = search.reindex_items

    def then_broken(item_ids: Any) -> None:
        real(item_ids)
        written.append(SearchEntry.objects.count())
        raise RuntimeError("disk full")

    monkeypatch.setattr(search, "reindex_items", then_broken)
    with pytest.raises(RuntimeError):
        import_demo()
    assert written == [288]
    assert counts() == {"departments": 0, "items": 0, "versions": 0, "materials": 0, "audit": 0}
    assert SearchEntry.objects.count() == 0

    monkeypatch.setattr(search, "reindex_items", real)
    import_demo()
    before = snapshot()
    code = "11620100051317876B3000100113001"

    def edit(book: Workbook) -> None:
        put(book["事项"], find(book["事项"], 实施编码=code), "办理地点", "兰州市政务服务中心九楼")

    changed = edited(tmp_path, edit)
    monkeypatch.setattr(search, "reindex_items", then_broken)
    with pytest.raises(RuntimeError):
        import_file(changed)
    assert snapshot() == before
    current = Item.objects.get(implementation_code=code).current
    assert current is not None and current.location != "兰州市政务服务中心九楼"


@pytest.mark.django_db
def test_only_the_bureau_may_import(tmp_path: Path) -> None:
    import_demo()
    officer = make_user("officer", Role.OFFICER, department=Department.objects.get(name="兰州市公安局"))
    before = snapshot()
    with pytest.raises(AccessDenied):
        import_file(DEMO_WORKBOOK, actor=officer)
    assert snapshot() == before


@pytest.mark.django_db
def test_full_width_separators_and_whitespace_are_accepted(tmp_path: Path) -> None:
    import_demo()
    code = "11620100051317876B3000100113001"

    def edit(book: Workbook) -> None:
        row = find(book["事项"], 实施编码=code)
        put(book["事项"], row, "办理形式", " 网上办理；窗口办理 ")
        put(book["事项"], row, "网上办理深度", "Ⅳ 全程网办")
        put(book["事项"], row, "法定办结时限", "3")

    report = import_file(edited(tmp_path, edit))
    assert report.result.items_updated == 0  # the same content, written differently


# --- exporting --------------------------------------------------------------------------------

@pytest.mark.django_db
def test_exporting_the_imported_demo_gives_the_demo_workbook_back() -> None:
    import_demo()
    data = export_bytes()

    assert cells(data) == cells(DEMO_WORKBOOK)
    # Byte for byte too, apart from the document properties (author and dates).
    exported, demo = members(data), members(DEMO_WORKBOOK.read_bytes())
    assert list(exported) == list(demo)
    assert {n for n in demo if exported[n] != demo[n]} == {"docProps/core.xml"}


@pytest.mark.django_db
def test_export_import_export_gives_identical_files(tmp_path: Path) -> None:
    import_demo()
    first = tmp_path / "first.xlsx"
    call_command("export_catalog", str(first), stdout=io.StringIO())

    report = import_file(first)
    second = tmp_path / "second.xlsx"
    call_command("export_catalog", str(second), stdout=io.StringIO())

    assert report.result.items_unchanged == 288 and not report.result.changed
    assert cells(second) == cells(first)
    assert second.read_bytes() == first.read_bytes()


@pytest.mark.django_db
def test_the_export_holds_published_versions_only() -> None:
    import_demo()
    item = Item.objects.get(implementation_code="11620100051317876B3000100113001")
    services.item_cancel(actor=SYSTEM, item=item, reason="事项已取消")

    sheets = cells(export_bytes())

    assert len(sheets["事项"]) == 1 + 287
    assert all(row[0] != item.implementation_code for row in sheets["材料"])
    assert [c.value for c in openpyxl.load_workbook(DEMO_WORKBOOK)["事项"][1]] == list(sheets["事项"][0])


@pytest.mark.django_db
def test_an_empty_catalog_exports_the_bare_template(tmp_path: Path) -> None:
    target = tmp_path / "empty.xlsx"
    summary = catalog_export_workbook(target)
    sheets = cells(target)
    assert (summary.departments, summary.items, summary.materials) == (0, 0, 0)
    assert [len(rows) for rows in sheets.values()] == [1, 1, 1]
    assert sheets["事项"][0][:3] == ("实施编码", "基本编码", "事项名称")


# --- the commands -----------------------------------------------------------------------------

@pytest.mark.django_db
def test_import_command_prints_a_summary() -> None:
    out = io.StringIO()
    call_command("import_catalog", str(DEMO_WORKBOOK), stdout=out, stderr=io.StringIO())
    assert out.getvalue().splitlines() == [
        "已导入“demo-catalog.xlsx”",
        "部门：44 行，新增 44，更新 0，未变 0",
        "事项：288 行，新增 288，更新 0，未变 0",
        "材料：1201 行，写入 1201 条，未变 0 条",
    ]
    assert AuditRecord.objects.filter(actor_name="system").count() == 45


@pytest.mark.django_db
def test_import_command_dry_run_saves_nothing() -> None:
    out = io.StringIO()
    call_command("import_catalog", str(DEMO_WORKBOOK), "--dry-run", stdout=out)
    assert out.getvalue().splitlines()[0] == (
        "试运行：已校验“demo-catalog.xlsx”，以下为将会发生的变化（未保存）")
    assert "事项：288 行，新增 288，更新 0，未变 0" in out.getvalue()
    assert counts() == {"departments": 0, "items": 0, "versions": 0, "materials": 0, "audit": 0}


@pytest.mark.django_db
def test_import_command_lists_errors_and_fails(tmp_path: Path) -> None:
    import_demo()
    before = snapshot()
    holder: dict[str, int] = {}

    def edit(book: Workbook) -> None:
        items = book["事项"]
        row = holder["row"] = find(items, 承诺类别="限时办结", 法定时限单位="工作日", 承诺时限单位="工作日")
        put(items, row, "法定办结时限", 20)
        put(items, row, "承诺办结时限", 30)

    path = edited(tmp_path, edit, "bad.xlsx")
    err = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("import_catalog", str(path), stdout=io.StringIO(), stderr=err)

    assert err.getvalue().splitlines() == [
        f"[事项 第{holder['row']}行 承诺办结时限] 承诺办结时限（30）不得超过法定办结时限（20）"]
    assert str(failure.value) == "“bad.xlsx”有 1 个错误，整个文件未导入，数据库未作任何改动"
    assert failure.value.returncode == 1
    assert snapshot() == before


@pytest.mark.django_db
def test_import_command_refuses_a_missing_file_and_an_unknown_language(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="文件不存在"):
        call_command("import_catalog", str(tmp_path / "none.xlsx"))
    with pytest.raises(CommandError, match="invalid choice: 'fr'"):
        call_command("import_catalog", str(DEMO_WORKBOOK), "--language", "fr")
    assert counts()["departments"] == 0


@pytest.mark.django_db
def test_import_command_speaks_the_chosen_language(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    languages: list[str | None] = []

    def spy(data: Any) -> Any:
        languages.append(translation.get_language())
        return check_item(data)

    monkeypatch.setattr("tongban.catalog.workbook.importing.check_item", spy)

    def edit(book: Workbook) -> None:
        put(book["事项"], 2, "承诺类别", "马上办")

    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_catalog", str(edited(tmp_path, edit)), "--language", "en",
                     stderr=err)

    # The rules ran, and the messages were made, in English; sheet and column names are the
    # template's own in every language.
    assert set(languages) == {"en"}
    with translation.override("en"):
        where = gettext("%(sheet)s 第%(row)s行 %(column)s") % {
            "sheet": "事项", "row": 2, "column": "承诺类别"}
        message = gettext("“%(value)s”不是有效的%(column)s，可选：%(options)s") % {
            "value": "马上办", "column": "承诺类别", "options": "即收即办、当日办结、限时办结、代办服务"}
    assert err.getvalue().splitlines() == [f"[{where}] {message}"]
    assert translation.get_language() != "en"  # switched back afterwards


@pytest.mark.django_db
def test_export_command_prints_what_it_wrote(tmp_path: Path) -> None:
    import_demo()
    out = io.StringIO()
    target = tmp_path / "catalog.xlsx"
    call_command("export_catalog", str(target), stdout=out)
    assert out.getvalue().strip() == f"已导出到 {target}：部门 44 个，事项 288 个，材料 1201 条"
    assert cells(target) == cells(DEMO_WORKBOOK)

