"""In-app messages. Email and SMS copies are sent through their backends."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    CASE = "case", _("办件进展")
    TASK = "task", _("新的待办")
    WARNING = "warning", _("时限预警")
    OVERDUE = "overdue", _("超期提醒")
    RATING = "rating", _("好差评")
    SUPERVISION = "supervision", _("电子监察")
    DATA = "data", _("数据共享")
    LICENCE = "licence", _("电子证照")


class Notification(models.Model):
    """One message to one person, shown in their in-app inbox until they mark it read.

    ``key`` names what the message is about (an event, a step, a deadline state) and is unique
    per recipient, so a task that runs twice never sends the same message twice. A message to
    an applicant without an account (a walk-in) has no recipient: it went by SMS to the phone
    on the case, and the row records that it was sent.
    """

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.CASE)
    key = models.CharField(max_length=100, blank=True)
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="notifications")
    event = models.ForeignKey("cases.CaseEvent", null=True, blank=True, on_delete=models.CASCADE,
                              related_name="+")
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"))
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        constraints = [models.UniqueConstraint(fields=["recipient", "event"],
                                               condition=models.Q(event__isnull=False),
                                               name="one_notification_per_event_and_recipient"),
                       models.UniqueConstraint(fields=["recipient", "key"],
                                               condition=~models.Q(key=""),
                                               name="one_notification_per_key_and_recipient"),
                       models.UniqueConstraint(fields=["key"],
                                               condition=models.Q(recipient__isnull=True)
                                               & ~models.Q(key=""),
                                               name="one_notification_per_key_without_account")]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
