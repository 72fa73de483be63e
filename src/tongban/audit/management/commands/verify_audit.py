"""``tongban verify_audit``: verify the audit chain and its signed checkpoints.

By default from the newest valid checkpoint on (the records before it were verified when each
checkpoint was signed, and every checkpoint's signature is checked); ``--full`` walks the whole
chain in parallel ranges, ``--from-seq N`` from record N.

Prints how many records and checkpoints were checked, how many records no signed checkpoint
covers yet, how many lines of the head file kept outside the database were compared, and "完好"
(intact), or each problem found,
the first one first, naming the record ("记录 #N 内容被修改", …); exits with status 1 when anything
is wrong. ``--json`` prints the same as one JSON object.
"""

from __future__ import annotations

import json
import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from tongban.audit.head import head_path
from tongban.audit.verification import incremental_start, verify_chain


class Command(BaseCommand):
    help = "校验审计日志的哈希链和签名检查点；发现问题时指出第一条有问题的记录并以状态 1 退出"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from-seq", type=int, default=None,
                            help="从该序号的记录开始校验（默认：自最新的有效检查点起）")
        parser.add_argument("--full", action="store_true",
                            help="校验整条链（并行分段校验）")
        parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                            help="--full 时并行校验的进程数（默认 CPU 数）")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出结果")
        parser.add_argument("--language", choices=[code for code, _name in settings.LANGUAGES],
                            default="zh-hans", help="输出语言（默认 zh-hans）")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["from_seq"] is not None and options["from_seq"] < 1:
            raise CommandError(_("--from-seq 须为正整数"))
        with translation.override(options["language"]):
            if options["full"]:
                result = verify_chain(workers=max(1, options["workers"]))
            elif options["from_seq"] is not None:
                result = verify_chain(from_seq=options["from_seq"])
            else:  # incremental: from the newest signed checkpoint, vouched for by the ones before
                result = verify_chain(from_seq=incremental_start())
            if options["json"]:
                self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
            else:
                self.stdout.write(_("已校验 %(records)s 条记录（自 #%(from)s 起）、%(checkpoints)s 个检查点")
                                  % {"records": result.records_checked, "from": result.from_seq,
                                     "checkpoints": result.checkpoints_checked})
                if result.sealed_through is None:
                    self.stdout.write(_("尚无检查点：%(unsealed)s 条记录尚未签署")
                                      % {"unsealed": result.unsealed})
                else:
                    self.stdout.write(_("已签署至记录 #%(sealed)s；其后 %(unsealed)s 条记录尚未签署")
                                      % {"sealed": result.sealed_through,
                                         "unsealed": result.unsealed})
                if result.pending:
                    self.stdout.write(_("%(pending)s 条记录等待封存入链（最早的已等待 %(age)s 秒）")
                                      % {"pending": result.pending,
                                         "age": result.pending_oldest_age_seconds})
                if result.head_entries_checked is None:
                    self.stdout.write(_("链头文件 %(path)s 不存在，未比对") % {"path": head_path()})
                else:
                    self.stdout.write(_("已与链头文件比对 %(lines)s 行")
                                      % {"lines": result.head_entries_checked})
                for problem in result.problems:
                    self.stdout.write(problem.message)
            if not result.intact:
                assert result.first_problem is not None
                raise CommandError(_("审计日志未通过校验：%(problem)s")
                                   % {"problem": result.first_problem.message}, returncode=1)
            if not options["json"]:
                self.stdout.write(_("完好"))
