"""``tongban verify_draw TASK_ID``: re-run a draw from its stored snapshots and seed.

Prints each check (pool hashes, the re-run draw, the audit records of the draw and of every
result) and "一致" when all agree; otherwise names exactly what differs and exits with status 1.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from tongban.inspections.models import DrawTask
from tongban.inspections.verification import verify_task


class Command(BaseCommand):
    help = "复核一次双随机抽取：按保存的快照和随机种子重新抽取并比对；不一致时退出状态为 1"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("task_id", type=int, help="抽查任务编号")
        parser.add_argument("--language", choices=[code for code, _name in settings.LANGUAGES],
                            default="zh-hans", help="输出语言（默认 zh-hans）")

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(options["language"]):
            task = DrawTask.objects.filter(pk=options["task_id"]).first()
            if task is None:
                raise CommandError(_("抽查任务 %(id)s 不存在") % {"id": options["task_id"]})
            report = verify_task(task)
            self.stdout.write(_("抽查任务 %(id)s：%(name)s") % {"id": task.pk, "name": task.name})
            for line in report.lines():
                self.stdout.write(line)
            if report.directories_unchanged is not None:
                self.stdout.write(_("当前名录与抽取时的快照相同") if report.directories_unchanged
                                  else _("当前名录已与抽取时的快照不同（复核以快照为准）"))
            if not report.ok:
                raise CommandError(_("不一致"))
            self.stdout.write(_("一致"))
