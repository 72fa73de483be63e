"""``tongban export_code_list CODE FILE``: write a code list as CSV (or XLSX for a .xlsx name),
in the columns ``import_code_list`` reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from tongban.exchange.codelist_files import code_list_export
from tongban.exchange.models import CodeList


class Command(BaseCommand):
    help = "导出代码集（.csv 或 .xlsx，列：代码、名称、英文名称、上级代码）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="代码集标识，如 GB/T 2261.1")
        parser.add_argument("file", help="输出文件（.csv 或 .xlsx）")

    def handle(self, *args: Any, **options: Any) -> None:
        code_list = CodeList.objects.filter(code=options["code"]).first()
        if code_list is None:
            raise CommandError(_("没有标识为“%(code)s”的代码集") % {"code": options["code"]})
        path = Path(options["file"])
        code_list_export(code_list, path)
        self.stdout.write(_("已导出 %(code)s（第 %(v)s 版，%(n)s 个代码）到 %(path)s") % {
            "code": code_list.code, "v": code_list.version, "n": code_list.entries.count(),
            "path": path})
