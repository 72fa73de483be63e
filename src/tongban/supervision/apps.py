from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "tongban.supervision"
    label = "supervision"
    verbose_name = _("电子监察")

    def ready(self) -> None:
        # Cases and ratings (floors below) report their findings through cases.findings; the
        # records are opened here (a registration, so their imports point down).
        from tongban.cases import findings
        from tongban.catalog import figures

        from .metrics import item_performance
        from .services import supervision_record_open

        findings.register_recorder(supervision_record_open)
        figures.register_item_performance(item_performance)
