"""``tongban audit_checkpoint``: sign the audit chain's end now (the worker does it hourly).

Verifies the records since the previous checkpoint first; refuses (status 1) when they do not
verify. Prints the checkpoint written, or that the chain has not grown since the last one.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from tongban.audit.models import AuditCheckpoint
from tongban.audit.services import ChainBroken, audit_checkpoint_write


class Command(BaseCommand):
    help = "为审计日志当前末尾签署检查点（先校验自上一检查点以来的记录）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--language", choices=[code for code, _name in settings.LANGUAGES],
                            default="zh-hans", help="输出语言（默认 zh-hans）")

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(options["language"]):
            before = AuditCheckpoint.objects.count()
            try:
                checkpoint = audit_checkpoint_write()
            except ChainBroken as exc:
                raise CommandError(_("未签署检查点：%(problem)s") % {"problem": exc}, returncode=1) from exc
            if checkpoint is None:
                self.stdout.write(_("审计日志为空，无需检查点"))
            elif AuditCheckpoint.objects.count() == before:
                self.stdout.write(_("自上一检查点（记录 #%(seq)s）以来没有新记录") % {"seq": checkpoint.seq})
            else:
                self.stdout.write(_("已签署检查点：记录 #%(seq)s，%(count)s 条记录，密钥 %(key)s（%(alg)s）")
                                  % {"seq": checkpoint.seq, "count": checkpoint.count,
                                     "key": checkpoint.key_id, "alg": checkpoint.signature_algorithm})
