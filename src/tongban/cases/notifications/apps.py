from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "tongban.cases.notifications"
    label = "notifications"
    verbose_name = _("消息通知")

    def ready(self) -> None:
        # Apps on lower floors (the data layer) announce; this app sends (scheduling.announcements).
        from tongban.scheduling.announcements import listeners

        from .tasks import enqueue_announcement

        if enqueue_announcement not in listeners:
            listeners.append(enqueue_announcement)
