"""``tongban import_code_list CODE FILE --name NAME [--standard S] [--dry-run]``: replace (or
create) a code list from a CSV or XLSX file, whole; any faulty row and nothing is saved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from tongban.accounts.permissions import SYSTEM
from tongban.core.errors import RuleViolation
from tongban.exchange.codelist_files import code_list_import, entries_from_file


class Command(BaseCommand):
    help = "导入代码集文件（CSV或XLSX，列：代码、名称、英文名称、上级代码）；有任何错误则整个文件不导入"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="代码集标识，如 GB/T 2260")
        parser.add_argument("file", help="代码集文件（.csv 或 .xlsx）")
        parser.add_argument("--name", default="", help="代码集名称（新代码集必填）")
        parser.add_argument("--name-en", default=None, help="英文名称")
        parser.add_argument("--standard", default=None, help="依据标准，如 GB/T 2260-2007")
        parser.add_argument("--dry-run", action="store_true", help="只校验并报告变化，不保存")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("文件不存在：%(path)s") % {"path": path})
        try:
            report = code_list_import(
                actor=SYSTEM, code=options["code"], entries=entries_from_file(path),
                name=options["name"], name_en=options["name_en"],
                standard=options["standard"], dry_run=options["dry_run"])
        except RuleViolation as rejected:
            for problem in rejected.problems:
                self.stderr.write(str(problem))
            raise CommandError(_("“%(name)s”有 %(n)s 个错误，整个文件未导入，代码集未作任何改动") % {
                "name": path.name, "n": len(rejected.problems)}) from None
        summary = _("%(code)s：%(n)s 个代码，新增 %(added)s，删除 %(removed)s，修改 %(changed)s") % {
            "code": report.code, "n": report.entries, "added": report.added,
            "removed": report.removed, "changed": report.changed}
        if report.dry_run:
            self.stdout.write(_("（试运行，未保存）") + summary)
        else:
            self.stdout.write(summary + _("；现为第 %(v)s 版") % {"v": report.version})
