"""``tongban reset_2fa USERNAME``: remove a staff account's second factor (lost phone and recovery
codes); audited as the system. Here, not in core: the command acts as the system actor."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tongban.accounts import twofactor
from tongban.accounts.models import User
from tongban.accounts.permissions import SYSTEM


class Command(BaseCommand):
    help = "清除一个工作人员账户的双重验证（手机和恢复码均丢失时）；下次登录时须重新绑定"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no account named {options['username']!r}")
        removed = twofactor.totp_reset(actor=SYSTEM, user=user)
        self.stdout.write(f"{user.username}: {removed} device(s) and code(s) removed; "
                          f"two-factor set-up is asked again at the next login")
