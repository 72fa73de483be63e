from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganizationsConfig(AppConfig):
    name = "tongban.organizations"
    label = "organizations"
    verbose_name = _("组织机构")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .models import OfficePeriod, office_hours_changed

        def changed(**_kwargs: object) -> None:
            office_hours_changed()

        # Any single-row write of a period (admin, services, fixtures); bulk writes call
        # ``office_hours_changed`` themselves.
        post_save.connect(changed, sender=OfficePeriod, weak=False,
                          dispatch_uid="office_hours_changed_save")
        post_delete.connect(changed, sender=OfficePeriod, weak=False,
                            dispatch_uid="office_hours_changed_delete")
