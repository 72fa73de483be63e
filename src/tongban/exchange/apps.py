from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "tongban.exchange"
    label = "exchange"
    verbose_name = _("数据共享交换")

    def ready(self) -> None:
        # The exchange log keeps keyed hashes of subjects it does not hold: re-indexed by
        # ``tongban rotate_keys`` through this registration (core.encrypted.index_followers).
        from tongban.core.encrypted import index_followers

        from .reindex import reindex_uses

        if reindex_uses not in index_followers:
            index_followers.append(reindex_uses)
