from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo city (``tongban load_demo``): the top floor, the only app that seeds every other
    one, each through its own services."""

    name = "tongban.demo"
    label = "demo"
    verbose_name = _("演示数据")
