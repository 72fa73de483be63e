"""``tongban seal_audit``: seal the audit records written since into the chain now (the worker
does it every few seconds). Prints how many were sealed and how many still wait."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from tongban.audit.sealing import audit_seal
from tongban.audit.selectors import unsealed_tail


class Command(BaseCommand):
    help = "将已写入、尚未封存的审计记录封存入哈希链（worker 每隔几秒自动执行）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--language", choices=[code for code, _name in settings.LANGUAGES],
                            default="zh-hans", help="输出语言（默认 zh-hans）")

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(options["language"]):
            sealed = audit_seal()
            waiting, _oldest = unsealed_tail()
            self.stdout.write(_("已封存 %(sealed)s 条审计记录；%(waiting)s 条等待封存")
                              % {"sealed": sealed, "waiting": waiting})
