"""``tongban export_catalog FILE.xlsx``: write the published catalog in the import template."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from tongban.catalog.workbook import catalog_export_workbook


class Command(BaseCommand):
    help = "把已发布的事项目录导出为导入模板格式的工作簿（工作表：部门、事项、材料）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="要写入的工作簿（.xlsx），已存在则覆盖")
        parser.add_argument("--language", choices=[code for code, _name in settings.LANGUAGES],
                            default="zh-hans", help="输出语言（默认 zh-hans）")

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(options["language"]):
            summary = catalog_export_workbook(options["file"])
            self.stdout.write(_("已导出到 %(file)s：部门 %(d)s 个，事项 %(i)s 个，材料 %(m)s 条") % {
                "file": options["file"], "d": summary.departments, "i": summary.items,
                "m": summary.materials})
