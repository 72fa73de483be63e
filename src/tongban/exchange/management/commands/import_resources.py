"""``tongban import_resources FILE.xlsx [--dry-run]``: load a data resource workbook.

Runs as the system actor, which holds the data bureau's powers: new and changed entries are
published at once. A workbook with any fault is rejected whole: every fault is printed and the
exit status is 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from tongban.accounts.permissions import SYSTEM
from tongban.catalog.workbook import WorkbookRejected, problem_line
from tongban.exchange.workbook import report_lines, resources_import_workbook


class Command(BaseCommand):
    help = "导入数据资源目录工作簿（工作表：数据元、资源目录、信息项）；有任何错误则整个文件不导入"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="数据资源目录工作簿（.xlsx）")
        parser.add_argument("--dry-run", action="store_true",
                            help="只校验并报告将会发生的变化，不保存")
        parser.add_argument("--language", choices=[code for code, _name in settings.LANGUAGES],
                            default="zh-hans", help="输出语言（默认 zh-hans）")

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(options["language"]):
            path = Path(options["file"])
            if not path.is_file():
                raise CommandError(_("文件不存在：%(path)s") % {"path": path})
            try:
                report = resources_import_workbook(actor=SYSTEM, source=path, name=path.name,
                                                   dry_run=options["dry_run"])
            except WorkbookRejected as rejected:
                for problem in rejected.problems:
                    self.stderr.write(problem_line(problem))
                if rejected.unlisted:
                    self.stderr.write(_("……另有 %(n)s 个错误未列出") % {"n": rejected.unlisted})
                raise CommandError(_("“%(name)s”有 %(n)s 个错误，整个文件未导入，数据库未作任何改动") % {
                    "name": path.name, "n": rejected.total}) from None
            for line in report_lines(report):
                self.stdout.write(line)
