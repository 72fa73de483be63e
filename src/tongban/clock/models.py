"""The platform's own working-day calendar (seeded from chinesecalendar, edited by the bureau)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("法定节假日")
    MAKEUP_WORKDAY = "makeup_workday", _("调休上班")


class CalendarDay(models.Model):
    """A day that departs from the Monday–Friday rule: an official holiday or make-up workday."""

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=DayKind.choices)
    name = models.CharField(_("名称"), max_length=50, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("节假日/调休日")
        verbose_name_plural = _("节假日/调休日")

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"


class CalendarYear(models.Model):
    """A year whose official schedule (State Council notice) has been loaded.

    Deadlines touching a year without a row here are computed on weekends plus the statutory
    holidays and marked provisional.
    """

    year = models.PositiveIntegerField(_("年份"), unique=True)
    source = models.CharField(_("来源"), max_length=200, blank=True)
    loaded_at = models.DateTimeField(_("载入时间"), auto_now=True)

    class Meta:
        ordering = ["year"]
        verbose_name = _("已发布放假安排的年份")
        verbose_name_plural = _("已发布放假安排的年份")

    def __str__(self) -> str:
        return str(self.year)


class CalendarVersion(models.Model):
    """One row (pk 1) counting the calendar's changes: every edit and import increments it in
    its own transaction, and every process compares it (one primary-key read) with the version
    of the calendar it holds before computing a deadline, so a change reaches all processes at
    once."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("工作日历版本")
        verbose_name_plural = _("工作日历版本")

    def __str__(self) -> str:
        return str(self.version)
