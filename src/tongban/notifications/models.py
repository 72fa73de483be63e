"""In-app messages. Email and SMS copies are sent through their backends."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="notifications")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="notifications")
    event = models.ForeignKey("cases.CaseEvent", null=True, blank=True, on_delete=models.CASCADE,
                              related_name="+")
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"))
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        constraints = [models.UniqueConstraint(fields=["recipient", "event"],
                                               condition=models.Q(event__isnull=False),
                                               name="one_notification_per_event_and_recipient")]

    def __str__(self) -> str:
        return self.subject
