from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "tongban.accounts"
    label = "accounts"
    verbose_name = _("用户与角色")

    def ready(self) -> None:
        # Connects the login signal that marks sessions owing a second factor (twofactor.py).
        from . import twofactor  # noqa: F401
