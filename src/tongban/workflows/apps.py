from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "tongban.workflows"
    label = "workflows"
    verbose_name = "办理流程"
