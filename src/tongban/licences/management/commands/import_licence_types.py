"""``tongban import_licence_types FILE.json [--dry-run]``: load licence types (证照类型) from a JSON
list, all or nothing: any faulty entry and nothing is saved (docs/licences.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from tongban.accounts.permissions import SYSTEM
from tongban.core.errors import RuleViolation
from tongban.licences.services import licence_types_import


class Command(BaseCommand):
    help = "导入证照类型（JSON列表）；有任何错误则整个文件不导入"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="证照类型文件（.json）")
        parser.add_argument("--dry-run", action="store_true", help="只校验并报告变化，不保存")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("文件不存在：%(path)s") % {"path": path})
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise CommandError(_("“%(name)s”不是有效的JSON：%(error)s") % {
                "name": path.name, "error": exc}) from None
        try:
            counts = licence_types_import(actor=SYSTEM, rows=rows, dry_run=options["dry_run"])
        except RuleViolation as rejected:
            for problem in rejected.problems:
                self.stderr.write(str(problem))
            raise CommandError(_("“%(name)s”有 %(n)s 个错误，整个文件未导入") % {
                "name": path.name, "n": len(rejected.problems)}) from None
        summary = _("证照类型：新增 %(created)s，修改 %(changed)s，未变 %(unchanged)s") % counts
        self.stdout.write((_("（试运行，未保存）") if options["dry_run"] else "") + summary)
