
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

        # The exchange (a floor below) checks the case number a consumer gives with a call.
        from tongban.exchange.services.exchange_calls import case_checks

        if exchange_case_problem not in case_checks:
            case_checks.append(exchange_case_problem)

        # /metrics (core) counts the cases through a registration.
        from .observability import register

        register()


def recompute_deadlines_later(years: list[int]) -> None:
    """Called by the clock after a year's official schedule is loaded (on commit): recompute,
    in the background, every open case whose due instant was provisional."""
    from .tasks import recompute_deadlines

    recompute_deadlines.enqueue(sorted(years))


def exchange_case_problem(number: str, department_id: int) -> str | None:
    """Why ``number`` may not be given with an exchange call of ``department_id`` (None when it
    may): it must name a case that department handles (its own, or one with a step of it)."""
    from django.db.models import Q
    from django.utils.translation import gettext as _

    from .models import Case

    if not Case.objects.filter(number=number).exists():
        return _("办件编号%(n)s不存在") % {"n": number}
    if not Case.objects.filter(Q(department_id=department_id) | Q(tasks__department_id=department_id),
                               number=number).exists():
        return _("办件%(n)s不由本部门办理，不能以该办件的名义查询") % {"n": number}
    return None
