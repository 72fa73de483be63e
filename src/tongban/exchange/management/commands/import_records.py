"""``tongban import_records RESOURCE_CODE FILE [--dry-run] [--upsert]``: load a 库表/文件
resource's held records from a CSV or XLSX (columns: data item keys or names).

Runs as the system actor (a scheduled import from the provider's export). Every value is checked
by its data element; a file with any fault is refused whole: every fault is printed (row and
column) and the exit status is 1. By default the file replaces the resource's records;
``--upsert`` updates and adds by subject and keeps the others.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from tongban.accounts.permissions import SYSTEM
from tongban.core.errors import RuleViolation
from tongban.exchange.models import Resource
from tongban.exchange.services.sharing_records import records_import


class Command(BaseCommand):
    help = "导入数据资源的记录（CSV或XLSX，列为信息项字段名或名称）；有任何错误则整个文件不导入"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("resource_code", help="资源代码，如 LZ-GA-0001")
        parser.add_argument("file", help="记录文件（.csv 或 .xlsx）")
        parser.add_argument("--dry-run", action="store_true", help="只校验并报告，不保存")
        parser.add_argument("--upsert", action="store_true",
                            help="按主体标识更新或新增，保留文件中没有的记录（默认整体替换）")
        parser.add_argument("--language", choices=[code for code, _name in settings.LANGUAGES],
                            default="zh-hans", help="输出语言（默认 zh-hans）")

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(options["language"]):
            path = Path(options["file"])
            if not path.is_file():
                raise CommandError(_("文件不存在：%(path)s") % {"path": path})
            resource = Resource.objects.filter(code=options["resource_code"]).first()
            if resource is None:
                raise CommandError(_("资源不存在：%(code)s") % {"code": options["resource_code"]})
            try:
                result = records_import(actor=SYSTEM, resource=resource,
                                        content=path.read_bytes(), file_name=path.name,
                                        replace=not options["upsert"],
                                        dry_run=options["dry_run"])
            except RuleViolation as refused:
                for problem in refused.problems:
                    self.stderr.write(str(problem))
                first = str(refused.problems[0]) if refused.problems else ""
                raise CommandError(_("“%(name)s”有 %(n)s 个错误，整个文件未导入：%(first)s") % {
                    "name": path.name, "n": len(refused.problems), "first": first}) from None
            verb = _("校验通过（未保存）") if result.dry_run else _("已导入")
            self.stdout.write(_("%(verb)s：%(rows)s 条记录，新增 %(c)s，更新 %(u)s，移除 %(r)s") % {
                "verb": verb, "rows": result.rows, "c": result.created, "u": result.updated,
                "r": result.removed})
