from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulingConfig(AppConfig):
    """Background work: periodic schedules fired by ``tongban worker`` and the worker itself.

    The ground floor: it knows no app above it. Apps register their own after-the-fact work
    (cases recomputes deadlines when the clock loads a year, in ``CasesConfig.ready``)."""

    name = "tongban.scheduling"
    label = "scheduling"
    verbose_name = _("后台任务")

    def ready(self) -> None:
        # /metrics and /readyz (core) read the queue through a registration (core is below).
        from .observability import register

        register()
