from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "tongban.organizations"
    label = "organizations"
    verbose_name = "组织机构"
