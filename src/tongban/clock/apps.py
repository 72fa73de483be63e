from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClockConfig(AppConfig):
    name = "tongban.clock"
    label = "clock"
    verbose_name = _("工作日历与时限")
