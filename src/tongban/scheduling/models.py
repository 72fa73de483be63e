"""Periodic work: one row per schedule, fired by ``tongban worker`` (see ``services``)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _


class Schedule(models.Model):
    """A task run every ``interval_seconds``, or every day at ``daily_at`` (Beijing time).

    ``next_run_at`` is the firing guard: a worker fires a schedule only if its conditional
    update from the value it read succeeds, so two workers never fire the same run.
    """

    name = models.CharField(_("名称"), max_length=64, unique=True)
    task = models.CharField(_("任务"), max_length=200,
                            help_text=_("任务的完整路径，如 tongban.cases.tasks.sweep_deadlines"))
    kwargs = models.JSONField(_("参数"), default=dict, blank=True)
    interval_seconds = models.PositiveIntegerField(_("间隔（秒）"), null=True, blank=True)
    daily_at = models.TimeField(_("每日运行时刻（北京时间）"), null=True, blank=True)
    next_run_at = models.DateTimeField(_("下次运行"), db_index=True)
    last_run_at = models.DateTimeField(_("上次运行"), null=True, blank=True)
    enabled = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("定时任务")
        verbose_name_plural = _("定时任务")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(interval_seconds__gt=0, daily_at__isnull=True)
                           | models.Q(interval_seconds__isnull=True, daily_at__isnull=False)),
                name="schedule_interval_or_daily"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if (self.interval_seconds is None) == (self.daily_at is None):
            raise ValidationError(_("须填写间隔或每日运行时刻，二者选一"))
        if self.interval_seconds is not None and self.interval_seconds < 1:
            raise ValidationError({"interval_seconds": _("间隔须至少为1秒")})
        try:
            target = import_string(self.task)
        except ImportError as exc:
            raise ValidationError({"task": _("找不到任务“%(task)s”") % {"task": self.task}}) from exc
        if not hasattr(target, "enqueue"):
            raise ValidationError({"task": _("“%(task)s”不是后台任务") % {"task": self.task}})
