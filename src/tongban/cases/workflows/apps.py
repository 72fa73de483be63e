from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "tongban.cases.workflows"
    label = "workflows"
    verbose_name = _("办理流程")
