from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    name = "tongban.inspections"
    label = "inspections"
    verbose_name = _("双随机一公开")
