from django.apps import AppConfig


class ClockConfig(AppConfig):
    name = "tongban.clock"
    label = "clock"
    verbose_name = "工作日历与时限"
