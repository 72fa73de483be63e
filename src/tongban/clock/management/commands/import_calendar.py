from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tongban.accounts.permissions import SYSTEM
from tongban.clock.services import calendar_import_csv
from tongban.core.errors import RuleViolation


class Command(BaseCommand):
    help = "Load a year's official holidays and make-up working days from a CSV (date,kind,name)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        try:
            result = calendar_import_csv(actor=SYSTEM, content=path.read_text(encoding="utf-8"),
                                         source=path.name)
        except RuleViolation as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError("日历文件有错误，未导入任何内容") from exc
        years = ", ".join(map(str, result["years"]))
        self.stdout.write(f"已导入 {result['rows']} 天（{years} 年）")
