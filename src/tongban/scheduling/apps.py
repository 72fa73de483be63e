from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulingConfig(AppConfig):
    """Background work: periodic schedules fired by ``tongban worker``, and the wiring of
    after-the-fact work (deadline recomputation when a year's calendar is loaded)."""

    name = "tongban.scheduling"
    label = "scheduling"
    verbose_name = _("后台任务")

    def ready(self) -> None:
        from tongban.clock.services import schedule_listeners

        from .wiring import recompute_deadlines_later

        if recompute_deadlines_later not in schedule_listeners:
            schedule_listeners.append(recompute_deadlines_later)
