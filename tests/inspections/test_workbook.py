"""Importing the directories workbook: whole or nothing, faults named by cell, idempotent."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tongban.accounts.models import User
from tongban.accounts.permissions import SYSTEM
from tongban.audit.models import AuditRecord
from tongban.catalog.workbook import WorkbookRejected
from tongban.core.errors import AccessDenied
from tongban.inspections import services
from tongban.inspections.models import Conflict, InspectionItem, Inspector, MarketEntity, RiskLevel

from .conftest import MARKET, build_workbook, certificate, entity_rows, entity_uscc


def where(rejected: WorkbookRejected) -> list[tuple[str | None, int | None, str | None, str]]:
    return [(p.sheet, p.row, p.column, str(p.message)) for p in rejected.problems]


def test_a_clean_workbook_is_loaded_and_loading_it_again_changes_nothing(
        directory: dict[str, Any]) -> None:
    counts = directory["report"].counts
    assert vars(counts["市场主体"]) == {"created": 30, "updated": 0, "unchanged": 0}
    assert vars(counts["检查人员"]) == {"created": 7, "updated": 0, "unchanged": 0}
    assert vars(counts["回避关系"]) == {"created": 2, "updated": 0, "unchanged": 0}
    assert vars(counts["检查事项"]) == {"created": 3, "updated": 0, "unchanged": 0}
    entity = MarketEntity.objects.get(uscc=entity_uscc(3))
    assert (entity.name, entity.entity_type, entity.risk_level, entity.division.code,
            entity.department.name) == ("兰州测试03号餐饮有限公司", "limited_company", RiskLevel.LOW,
                                        "620102", MARKET)
    officer = User.objects.get(username="officer")
    assert Inspector.objects.get(certificate_number=certificate(1)).user == officer
    assert Inspector.objects.get(certificate_number=certificate(7)).active is False
    audits = AuditRecord.objects.filter(action="inspection_directory.imported").count()
    assert audits == 1

    again = services.directory_import(actor=SYSTEM, source=build_workbook({
        "市场主体": directory["entities"], "检查人员": directory["inspectors"]}), name="again.xlsx")
    assert not again.changed
    assert vars(again.counts["市场主体"]) == {"created": 0, "updated": 0, "unchanged": 30}
    assert AuditRecord.objects.filter(action="inspection_directory.imported").count() == audits


def test_a_changed_row_is_updated(directory: dict[str, Any]) -> None:
    rows = directory["entities"]
    rows[0][6] = "高"
    report = services.directory_import(actor=SYSTEM, source=build_workbook({"市场主体": rows}))
    assert vars(report.counts["市场主体"]) == {"created": 0, "updated": 1, "unchanged": 29}
    assert MarketEntity.objects.get(uscc=entity_uscc(1)).risk_level == RiskLevel.HIGH


def test_faults_are_named_by_cell_and_nothing_is_saved(people: dict[str, User]) -> None:
    rows = entity_rows(4)
    rows[1][0] = "91620102MA00000021"  # wrong check character
    rows[2][4] = "999999"
    rows[2][6] = "极高"
    rows[3][0] = rows[0][0]
    inspectors = [[certificate(1), "", MARKET, "也许", "nobody"]]
    conflicts = [[certificate(9), entity_uscc(1), "亲属"]]
    items = [["SJ-1", "事项", "不存在的局", "依据", "现场检查"]]
    with pytest.raises(WorkbookRejected) as exc:
        services.directory_import(actor=SYSTEM, source=build_workbook({
            "市场主体": rows, "检查人员": inspectors, "回避关系": conflicts, "检查事项": items}))
    assert where(exc.value) == [
        ("市场主体", 3, "统一社会信用代码",
         "统一社会信用代码“91620102MA00000021”无效（须为18位且校验码正确）"),
        ("市场主体", 4, "区划代码", "行政区划代码“999999”不存在"),
        ("市场主体", 4, "风险等级", "“极高”不是有效的风险等级，可选：低、中、高"),
        ("市场主体", 5, "统一社会信用代码", f"“{rows[0][0]}”与第2行重复"),
        ("检查人员", 2, "姓名", "姓名不能为空"),
        ("检查人员", 2, "在岗", "在岗须为“是”或“否”，当前为“也许”"),
        ("检查人员", 2, "平台账户", "平台账户“nobody”不存在"),
        ("回避关系", 2, "执法证号", f"执法证号“{certificate(9)}”不在检查人员名录中"),
        ("检查事项", 2, "部门", "部门“不存在的局”不存在"),
    ]
    assert exc.value.total == 9
    assert MarketEntity.objects.count() == Inspector.objects.count() == 0
    assert Conflict.objects.count() == InspectionItem.objects.count() == 0
    assert not AuditRecord.objects.filter(action="inspection_directory.imported").exists()


def test_missing_columns_and_files_that_are_not_workbooks(people: dict[str, User]) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "市场主体"
    book.active.append(["统一社会信用代码", "名称"])
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    with pytest.raises(WorkbookRejected) as exc:
        services.directory_import(actor=SYSTEM, source=data)
    assert [(p.sheet, p.row, p.column) for p in exc.value.problems] == [
        ("市场主体", 1, c) for c in ("主体类型", "行业", "区划代码", "风险等级", "监管部门")]
    with pytest.raises(WorkbookRejected) as exc:
        services.directory_import(actor=SYSTEM, source=io.BytesIO(b"not a workbook"))
    assert str(exc.value.problems[0].message) == "无法读取文件：不是有效的 Excel 工作簿（.xlsx）"


def test_officers_load_only_their_own_department_and_citizens_nothing(people: dict[str, User]) -> None:
    with pytest.raises(WorkbookRejected) as exc:
        services.directory_import(actor=people["district_officer"],
                                  source=build_workbook({"市场主体": entity_rows(1)}))
    assert where(exc.value) == [("市场主体", 2, "监管部门", f"您无权导入“{MARKET}”的名录")]
    for who in ("citizen", "supervisor"):
        with pytest.raises(AccessDenied):
            services.directory_import(actor=people[who], source=build_workbook({"市场主体": entity_rows(1)}))
    assert MarketEntity.objects.count() == 0
    report = services.directory_import(actor=people["officer"],
                                       source=build_workbook({"市场主体": entity_rows(2)}))
    assert report.counts["市场主体"].created == 2


def test_dry_run_writes_nothing(people: dict[str, User]) -> None:
    report = services.directory_import(actor=SYSTEM, source=build_workbook({"市场主体": entity_rows(3)}),
                                       dry_run=True)
    assert report.counts["市场主体"].created == 3
    assert MarketEntity.objects.count() == 0


def test_the_command_prints_faults_and_fails(people: dict[str, User], tmp_path: Any) -> None:
    rows = entity_rows(2)
    rows[1][2] = "公司"
    path = tmp_path / "bad.xlsx"
    path.write_bytes(build_workbook({"市场主体": rows}).getvalue())
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 个错误"):
        call_command("import_inspection_directories", str(path), stderr=err)
    assert "[市场主体 第3行 主体类型] “公司”不是有效的主体类型" in err.getvalue()
    path.write_bytes(build_workbook({"市场主体": entity_rows(2)}).getvalue())
    out = io.StringIO()
    call_command("import_inspection_directories", str(path), stdout=out)
    assert "市场主体：新增 2，更新 0，未变 0" in out.getvalue()
