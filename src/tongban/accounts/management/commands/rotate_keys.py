"""``tongban rotate_keys``: re-encrypt personal data under the current keys (docs/privacy.md).

Here, not in core: the command acts as the system actor, an account-level notion."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from tongban.accounts.permissions import SYSTEM
from tongban.core import crypto, encrypted


class Command(BaseCommand):
    help = "用当前密钥重新加密个人信息（身份证号、手机号、申请表、材料文件）并重算盲索引"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--new-data-key", action="store_true",
                            help="先在密钥文件中加入一个新的数据密钥（SM4）并设为当前密钥")
        parser.add_argument("--new-index-key", action="store_true",
                            help="先在密钥文件中加入一个新的盲索引密钥并设为当前密钥")
        parser.add_argument("--language", choices=[code for code, _name in settings.LANGUAGES],
                            default="zh-hans", help="输出语言（默认 zh-hans）")

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(options["language"]):
            kinds = {"data": _("数据密钥"), "index": _("盲索引密钥")}
            added = False
            for kind, label in kinds.items():
                if options[f"new_{kind}_key"]:
                    version = crypto.add_key(kind)
                    added = True
                    self.stdout.write(_("已在 %(path)s 中加入%(kind)s %(version)s") % {
                        "path": crypto.key_path(), "kind": label, "version": version})
            if added:
                # Running processes look at the key file again within this time; what they
                # write after it is under the new key, so the pass below leaves nothing behind.
                time.sleep(crypto.KEY_RECHECK_SECONDS + 0.5)
            counts = encrypted.rotate_keys(actor=SYSTEM)
            ring = crypto.keys()
            for label, count in counts.items():
                self.stdout.write(_("%(model)s：重新加密 %(count)s 项") % {"model": label,
                                                                        "count": count})
            self.stdout.write(self.style.SUCCESS(
                _("当前密钥：数据密钥 %(data)s，盲索引密钥 %(index)s；旧密钥现在可以从 %(path)s 中删除") % {
                    "data": ring.current_data_version, "index": ring.current_index_version,
                    "path": crypto.key_path()}))
