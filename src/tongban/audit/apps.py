from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "tongban.audit"
    label = "audit"
    verbose_name = _("审计日志")

    def ready(self) -> None:
        # The ground floor (core, scheduling) records through core.auditing (a registration,
        # not an import: the dependency points down).
        from tongban.core import auditing

        from .services import audit_record

        auditing.register_recorder(audit_record)

        # /metrics and /readyz (core) watch the sealer through a registration.
        from .observability import register

        register()
