from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "tongban.catalog"
    label = "catalog"
    verbose_name = _("事项目录")

    def ready(self) -> None:
        from . import guide_cache, search

        guide_cache.connect()
        search.connect()
