"""Code list files: import (CSV, XLSX; all or nothing, row-level errors; dry run) and export."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tongban.audit.models import AuditRecord
from tongban.exchange.models import CodeList

pytestmark = pytest.mark.django_db

SEX = "代码,名称,英文名称,上级代码\n0,未知的性别,Unknown,\n1,男性,Male,\n2,女性,Female,\n"


def test_import_a_csv_then_export_it_as_csv_and_xlsx(tmp_path: Path) -> None:
    source = tmp_path / "sex.csv"
    source.write_text(SEX, encoding="utf-8")
    call_command("import_code_list", "GB/T 2261.1", str(source), "--name", "人的性别代码",
                 "--standard", "GB/T 2261.1-2003", verbosity=0)
    sex = CodeList.objects.get(code="GB/T 2261.1")
    assert (sex.name, sex.standard, sex.entries.count()) == ("人的性别代码", "GB/T 2261.1-2003", 3)
    out = tmp_path / "out.csv"
    call_command("export_code_list", "GB/T 2261.1", str(out), verbosity=0)
    assert out.read_text("utf-8") == SEX
    xlsx = tmp_path / "out.xlsx"
    call_command("export_code_list", "GB/T 2261.1", str(xlsx), verbosity=0)
    # The workbook reads back as the same list: importing it changes nothing.
    records = AuditRecord.objects.count()
    call_command("import_code_list", "GB/T 2261.1", str(xlsx), verbosity=0)
    assert AuditRecord.objects.count() == records
    assert CodeList.objects.get(code="GB/T 2261.1").version == 1


def test_a_faulty_file_is_refused_whole_naming_rows(tmp_path: Path) -> None:
    source = tmp_path / "sex.csv"
    source.write_text(SEX, encoding="utf-8")
    call_command("import_code_list", "GB/T 2261.1", str(source), "--name", "人的性别代码",
                 verbosity=0)
    bad = tmp_path / "bad.csv"
    bad.write_text("代码,名称,英文名称,上级代码\n1,男,,\n1,女,,\n3,,,\n", encoding="utf-8")
    with pytest.raises(CommandError, match="2 个错误"):
        call_command("import_code_list", "GB/T 2261.1", str(bad), verbosity=0)
    assert list(CodeList.objects.get(code="GB/T 2261.1").entries.values_list("label", flat=True)
                ) == ["未知的性别", "男性", "女性"]


def test_dry_run_reports_without_saving(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    source = tmp_path / "sex.csv"
    source.write_text(SEX, encoding="utf-8")
    call_command("import_code_list", "GB/T 2261.1", str(source), "--name", "人的性别代码",
                 "--dry-run")
    assert "新增 3" in capsys.readouterr().out
    assert not CodeList.objects.exists()


def test_a_new_list_needs_a_name_and_the_header(tmp_path: Path) -> None:
    source = tmp_path / "x.csv"
    source.write_text(SEX, encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import_code_list", "X", str(source), verbosity=0)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("value,label\n1,a\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import_code_list", "X", str(wrong), "--name", "x", verbosity=0)
    assert not CodeList.objects.exists()
