"""``tongban rotate_keys``: re-encrypt personal data under the current keys (docs/privacy.md)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tongban.accounts.permissions import SYSTEM
from tongban.core import crypto, encrypted


class Command(BaseCommand):
    help = "用当前密钥重新加密个人信息（身份证号、手机号、材料文件）并重算盲索引"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--new-data-key", action="store_true",
                            help="先在密钥文件中加入一个新的数据密钥（SM4）并设为当前密钥")
        parser.add_argument("--new-index-key", action="store_true",
                            help="先在密钥文件中加入一个新的盲索引密钥并设为当前密钥")

    def handle(self, *args: Any, **options: Any) -> None:
        added = False
        for kind in ("data", "index"):
            if options[f"new_{kind}_key"]:
                version = crypto.add_key(kind)
                added = True
                self.stdout.write(f"{kind} key {version} added to {crypto.key_path()}")
        if added:
            # Running processes look at the key file again within this time; what they write
            # after it is under the new key, so the pass below leaves nothing behind.
            time.sleep(crypto.KEY_RECHECK_SECONDS + 0.5)
        counts = encrypted.rotate_keys(actor=SYSTEM)
        ring = crypto.keys()
        for label, count in counts.items():
            self.stdout.write(f"{label}: {count} rewritten")
        self.stdout.write(self.style.SUCCESS(
            f"current keys: data {ring.current_data_version}, index {ring.current_index_version}; "
            f"older keys may now be removed from {crypto.key_path()}"))
