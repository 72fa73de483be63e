from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QueuesConfig(AppConfig):
    name = "tongban.queues"
    label = "queues"
    verbose_name = _("排队叫号")
