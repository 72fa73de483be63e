from typing import Any

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

        # The e-licence library (a floor below) tells a licence's holder through our messages.
        from tongban.licences.services import register_notifier

        register_notifier(notify_licence_holder)

        # /metrics (core) counts the cases through a registration.
        from .observability import register

        register()


def recompute_deadlines_later(years: list[int]) -> None:
    """Called by the clock after a year's official schedule is loaded (on commit): recompute,
    in the background, every open case whose due instant was provisional."""
    from .tasks import recompute_deadlines

    recompute_deadlines.enqueue(sorted(years))


def notify_licence_holder(users: list[Any], *, key: str, subject: str, text: str) -> None:
    """The library's news for a licence's holder (issued, changed, revoked, expired), as an
    in-app message and an email."""
    from .notifications.models import Kind
    from .notifications.services import notify_users

    notify_users(users, key=key, subject=subject, text=text, kind=Kind.LICENCE)
