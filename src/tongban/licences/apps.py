from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LicencesConfig(AppConfig):
    name = "tongban.licences"
    label = "licences"
    verbose_name = _("电子证照库")

    def ready(self) -> None:
        # `tongban backup` keeps the licence signing key with the audit key (both outside the
        # data directory): a restored library must still verify its licences.
        from tongban.core import backup

        from . import signing

        backup.register_file("licence-signing.key", signing.key_path)
