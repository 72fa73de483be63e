"""``tongban export_resources FILE.xlsx``: write the published elements and resource catalog in
the import template (``tongban import_resources`` takes it back unchanged)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from tongban.exchange.workbook import resources_export_workbook


class Command(BaseCommand):
    help = "导出已发布的数据元和数据资源目录（与导入模板相同）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="输出文件（.xlsx）")

    def handle(self, *args: Any, **options: Any) -> None:
        counts = resources_export_workbook(options["file"])
        self.stdout.write(_("已导出：数据元 %(e)s 个，资源 %(r)s 个，信息项 %(i)s 个") % {
            "e": counts["数据元"], "r": counts["资源目录"], "i": counts["信息项"]})
