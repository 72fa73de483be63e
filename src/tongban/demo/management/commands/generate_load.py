"""``tongban generate_load --cases N [--seed S] [--years 2]``: fill the database with N generated
cases and their histories, for measuring pages at a province's size (``tongban.demo.load``).

Run after ``migrate`` and ``load_demo``. It adds: running it again adds N more cases. Refuses
unless ``TONGBAN_DEBUG`` is on (the demo accounts it builds on share one published password).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from tongban.demo.load import NoCatalog, generate


class Command(BaseCommand):
    help = "生成 N 个办件及其办理记录（压力测试用，需先运行 load_demo）；重复运行会再追加 N 个"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cases", type=int, required=True, help="生成的办件数")
        parser.add_argument("--seed", type=int, default=1, help="随机种子（默认 1）")
        parser.add_argument("--years", type=float, default=2.0, help="办件分布的年数（默认 2）")

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()  # progress shows even when the output goes to a file

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(_("generate_load 仅用于开发和压力测试：请设置 TONGBAN_DEBUG=1"))
        if options["cases"] < 1:
            raise CommandError(_("--cases 须为正整数"))
        if options["years"] <= 0:
            raise CommandError(_("--years 须大于 0"))
        try:
            generate(options["cases"], seed=options["seed"], years=options["years"],
                     progress=self._say)
        except NoCatalog as exc:
            raise CommandError(_("数据库中没有演示事项目录和工作人员：请先运行 tongban migrate 和 "
                                 "tongban load_demo")) from exc
