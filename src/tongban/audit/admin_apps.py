"""The admin application with the platform's default site (kept apart from ``core.apps``: an
apps module with two application classes would make neither the default)."""

from django.contrib.admin.apps import AdminConfig


class AuditedAdminConfig(AdminConfig):
    """``django.contrib.admin`` whose default site audits every admin write
    (``tongban.audit.admin_site.AuditedAdminSite``)."""

    default_site = "tongban.audit.admin_site.AuditedAdminSite"
