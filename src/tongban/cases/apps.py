from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "tongban.cases"
    label = "cases"
    verbose_name = _("办件")

    def ready(self) -> None:
        # The clock (a floor below) announces a loaded year's schedule to whoever registered;
        # cases keeps deadlines, so it registers the recomputation (an import pointing down).
        from tongban.clock.services import schedule_listeners

        if recompute_deadlines_later not in schedule_listeners:
            schedule_listeners.append(recompute_deadlines_later)

        # /metrics (core) counts the cases through a registration.
        from .observability import register

        register()


def recompute_deadlines_later(years: list[int]) -> None:
    """Called by the clock after a year's official schedule is loaded (on commit): recompute,
    in the background, every open case whose due instant was provisional."""
    from .tasks import recompute_deadlines

    recompute_deadlines.enqueue(sorted(years))
