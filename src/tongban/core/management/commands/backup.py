"""``tongban backup DIR|FILE``: database, uploads and keys in one archive (``core.backup``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tongban.core.backup import BackupError, backup


class Command(BaseCommand):
    help = "备份数据库、上传文件和密钥到一个归档文件（目录：在其中新建带日期的 .tar.gz）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("target", help="归档文件路径，或存放归档的目录")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            path, manifest = backup(Path(options["target"]))
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        size = sum(int(m["size"]) for m in manifest["members"])
        self.stdout.write(f"{path}: {len(manifest['members'])} members, {size} bytes "
                          f"({manifest['database']['vendor']})")
