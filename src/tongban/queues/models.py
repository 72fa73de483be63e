"""Queue tickets of a service hall (取号/叫号): service categories and tickets.

A hall's service categories (A 综合受理, B 企业开办 …) are data, edited in the admin. A ticket is
numbered per hall, category and day in Asia/Shanghai (A001, A002 …, starting again each day) and
moves through the states of :data:`TRANSITIONS`; the services in ``services.py`` make every move.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.core.encrypted import BlindIndexField, EncryptedTextField


class ServiceCategory(models.Model):
    """业务类别 of a hall: the letter on its tickets and which windows serve it.

    A comprehensive window (综合窗口) serves every category of its hall; any other window serves
    the categories that share a department with it.
    """

    hall = models.ForeignKey("organizations.Hall", verbose_name=_("大厅"), on_delete=models.CASCADE,
                             related_name="queue_categories")
    code = models.CharField(_("字母代码"), max_length=2,
                            help_text=_("号码的前缀，一到两个大写字母，如 A"))
    name = models.CharField(_("类别名称"), max_length=50)
    departments = models.ManyToManyField(
        "organizations.Department", verbose_name=_("受理部门"), blank=True,
        related_name="queue_categories",
        help_text=_("办理该类别的部门；综合窗口办理所有类别，其他窗口办理与其受理部门相同的类别"))
    commitments = models.JSONField(
        _("四办清单"), default=list, blank=True,
        help_text=_("该类别办理的清单（on_the_spot、same_day、time_limited、proxy），空为不限"))
    active = models.BooleanField(_("启用"), default=True)
    position = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["hall", "position", "code"]
        verbose_name = _("排队业务类别")
        verbose_name_plural = _("排队业务类别")
        constraints = [
            models.UniqueConstraint(fields=["hall", "code"], name="queue_category_code_unique_in_hall"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class TicketStatus(models.TextChoices):
    WAITING = "waiting", _("等候中")
    CALLED = "called", _("已叫号")
    SERVING = "serving", _("办理中")
    DONE = "done", _("已办结")
    NO_SHOW = "no_show", _("未到")
    CANCELLED = "cancelled", _("已取消")


# Allowed moves: from → to. ``called → called`` is a recall (重呼).
TRANSITIONS: dict[str, set[str]] = {
    TicketStatus.WAITING: {TicketStatus.CALLED, TicketStatus.CANCELLED},
    TicketStatus.CALLED: {TicketStatus.CALLED, TicketStatus.SERVING, TicketStatus.DONE,
                          TicketStatus.NO_SHOW},
    TicketStatus.SERVING: {TicketStatus.DONE},
    TicketStatus.DONE: set(),
    TicketStatus.NO_SHOW: set(),
    TicketStatus.CANCELLED: set(),
}
OPEN_AT_WINDOW = (TicketStatus.CALLED, TicketStatus.SERVING)


class Ticket(models.Model):
    """One queue ticket (排队号)."""

    hall = models.ForeignKey("organizations.Hall", verbose_name=_("大厅"), on_delete=models.CASCADE,
                             related_name="queue_tickets")
    category = models.ForeignKey(ServiceCategory, verbose_name=_("业务类别"),
                                 on_delete=models.PROTECT, related_name="tickets")
    day = models.DateField(_("日期"))
    seq = models.PositiveIntegerField(_("序号"))
    number = models.CharField(_("号码"), max_length=12)
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(_("状态"), max_length=16, choices=TicketStatus.choices,
                              default=TicketStatus.WAITING)
    taken_at = models.DateTimeField(_("取号时间"))
    called_at = models.DateTimeField(_("首次叫号时间"), null=True, blank=True)
    last_called_at = models.DateTimeField(_("最近叫号时间"), null=True, blank=True)
    call_count = models.PositiveSmallIntegerField(_("叫号次数"), default=0)
    started_at = models.DateTimeField(_("开始办理时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    window = models.ForeignKey("organizations.Window", verbose_name=_("窗口"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="queue_tickets")
    clerk = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("叫号人员"), null=True,
                              blank=True, on_delete=models.SET_NULL, related_name="+")
    # Stored SM4-encrypted; the one-waiting-ticket rule compares the blind index.
    phone = EncryptedTextField(_("手机号码"), max_length=11, blank=True)
    phone_index = BlindIndexField(source="phone")
    case_number = models.CharField(_("办件编号"), max_length=40, blank=True)

    class Meta:
        ordering = ["taken_at", "pk"]
        verbose_name = _("排队号")
        verbose_name_plural = _("排队号")
        constraints = [
            models.UniqueConstraint(fields=["category", "day", "seq"],
                                    name="queue_ticket_number_unique_per_day"),
            # One waiting ticket per phone and hall (abuse limit), enforced by the database too.
            models.UniqueConstraint(fields=["hall", "phone_index"],
                                    condition=models.Q(status="waiting") & ~models.Q(phone_index=""),
                                    name="queue_one_waiting_ticket_per_phone"),
        ]
        indexes = [models.Index(fields=["hall", "status", "taken_at"], name="queue_ticket_waiting"),
                   models.Index(fields=["hall", "day"], name="queue_ticket_hall_day")]

    def __str__(self) -> str:
        return self.number
