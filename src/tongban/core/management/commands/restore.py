"""``tongban restore FILE``: an archive of ``tongban backup`` into a fresh installation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tongban.core.backup import BackupError, restore


class Command(BaseCommand):
    help = "从 tongban backup 的归档恢复到全新的数据库和目录（归档损坏或目标非空时不做任何改动）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", help="tongban backup 生成的归档文件")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["archive"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            manifest = restore(path)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"restored {len(manifest['members'])} members from {path} "
                          f"(made {manifest['created_at']}); run `tongban verify_audit` next")
