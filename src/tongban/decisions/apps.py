from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DecisionsConfig(AppConfig):
    name = "tongban.decisions"
    label = "decisions"
    verbose_name = _("自动审批（秒批）")

    def ready(self) -> None:
        # Cases (a floor below) tells whoever registered of each submission; the rules'
        # evaluation is queued from there when the item version has a published rule set.
        from tongban.cases.services.intake import submit_listeners

        from .services.automatic import on_submit

        if on_submit not in submit_listeners:
            submit_listeners.append(on_submit)
