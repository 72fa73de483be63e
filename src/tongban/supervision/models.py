"""Supervision records (电子监察, domain.md §5): one finding against a department and a person.

A record is opened by the periodic sweep (``services.supervision_sweep``) or by another app's
service (``services.supervision_record_open``, e.g. a bad review tagged "materials beyond the
guide"). There is at most one record per kind and object — per (kind, case) for a case-level
finding, per (kind, step) for a step-level one — so re-running the sweep opens nothing twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.organizations.models import Department


class Kind(models.TextChoices):
    YELLOW_CASE = "yellow_case", _("办件黄牌预警")
    RED_CASE = "red_case", _("办件红牌超期")
    YELLOW_STEP = "yellow_step", _("环节黄牌预警")
    RED_STEP = "red_step", _("环节超期（办件亦超期）")
    STEP_OVER_LIMIT = "step_over_limit", _("环节超时（办件未超期）")
    LATE_FORWARDING = "late_forwarding", _("代办转交超时")
    REFUSAL_WITHOUT_REASON = "refusal_without_reason", _("不予受理或不予办理未说明理由")
    VISITS_OVER_PROMISE = "visits_over_promise", _("跑动次数超过承诺")
    MATERIALS_BEYOND_GUIDE = "materials_beyond_guide", _("要求提供办事指南以外的材料")
    ACCEPTED_BY_LAW = "accepted_by_law", _("办件红牌：逾期未作受理决定（依法视为受理）")
    SUPPLEMENT_NOT_ONE_TIME = "supplement_not_one_time", _("未一次性告知补正材料")


# Findings about one step of a case (the others are about the case as a whole).
STEP_KINDS = frozenset({Kind.YELLOW_STEP, Kind.RED_STEP, Kind.STEP_OVER_LIMIT,
                        Kind.LATE_FORWARDING})


class State(models.TextChoices):
    OPEN = "open", _("待处理")
    ACKNOWLEDGED = "acknowledged", _("已签收")
    EXPLAINED = "explained", _("已说明情况")
    CLOSED = "closed", _("已办结")


class SupervisionRecord(models.Model):
    kind = models.CharField(_("类型"), max_length=32, choices=Kind.choices, db_index=True)
    case = models.ForeignKey("cases.Case", verbose_name=_("办件"), on_delete=models.PROTECT,
                             related_name="supervision_records")
    step = models.ForeignKey("workflows.StepTask", verbose_name=_("环节"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="supervision_records")
    department = models.ForeignKey(Department, verbose_name=_("责任部门"),
                                   on_delete=models.PROTECT, related_name="supervision_records")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("责任人"), null=True,
                               blank=True, on_delete=models.PROTECT, related_name="+")
    detail = models.TextField(_("情况"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    opened_at = models.DateTimeField(_("发现时间"), db_index=True)
    opened_by_name = models.CharField(_("发现方"), max_length=100, blank=True)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.OPEN,
                             db_index=True)
    acknowledged_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+")
    explanation = models.TextField(_("情况说明"), blank=True)
    explained_at = models.DateTimeField(_("说明时间"), null=True, blank=True)
    explained_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    close_note = models.TextField(_("办结意见"), blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    escalated_at = models.DateTimeField(_("督办通知时间"), null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        verbose_name = _("监察记录")
        verbose_name_plural = _("监察记录")
        constraints = [
            models.UniqueConstraint(fields=["kind", "case"], condition=models.Q(step__isnull=True),
                                    name="supervision_one_per_kind_case"),
            models.UniqueConstraint(fields=["kind", "step"], condition=models.Q(step__isnull=False),
                                    name="supervision_one_per_kind_step"),
        ]
        indexes = [models.Index(fields=["department", "state"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.case_id}"


class ItemDayTime(models.Model):
    """Rollup of the power list's actual handling time: per item and closed Beijing day, the
    cases decided that day (accepted ones) and the sum of their actual working days
    (``metrics.actual_working_days``). Written only by ``rollups.rollup_item_times``; read by
    ``metrics.item_performance`` for the days up to ``RollupState.through`` (docs/supervision.md,
    "Figures at scale")."""

    item = models.ForeignKey("catalog.Item", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    cases = models.PositiveIntegerField(default=0)
    working_days = models.FloatField(default=0.0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "day"], name="item_day_time_unique")]
        indexes = [models.Index(fields=["day"], name="item_day_time_day")]
        verbose_name = _("事项每日办理用时（汇总）")
        verbose_name_plural = _("事项每日办理用时（汇总）")

    def __str__(self) -> str:
        return f"{self.item_id} {self.day}: {self.cases}"


class DepartmentDay(models.Model):
    """Rollup of the dashboard: per department and closed Beijing day, what happened to its
    cases that day and can no longer change — acceptances, decisions (late ones among them),
    the decided cases in a completed status, refusals, withdrawals and terminations. Written
    only by ``rollups.rollup_department_days``; read by ``selectors.board`` and
    ``selectors.trend`` for the days up to ``RollupState.through`` (docs/supervision.md,
    "Figures at scale")."""

    # No index of its own: the unique (department, day) index leads with it.
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="+",
                                   db_index=False)
    day = models.DateField()
    accepted = models.PositiveIntegerField(default=0)  # accepted_at that day
    decided = models.PositiveIntegerField(default=0)  # decided_at that day
    decided_late = models.PositiveIntegerField(default=0)  # … after the due instant
    completed = models.PositiveIntegerField(default=0)  # … and approved, denied or delivered
    refused = models.PositiveIntegerField(default=0)  # refusal event that day
    closed = models.PositiveIntegerField(default=0)  # withdrawal or termination event that day
    # The department's running totals of the last three up to and including this day: the
    # board's columns no case leaves are the department's latest row (a few rows, not its days).
    completed_total = models.PositiveIntegerField(default=0)
    refused_total = models.PositiveIntegerField(default=0)
    closed_total = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["department", "day"],
                                               name="department_day_unique")]
        indexes = [models.Index(fields=["day", "department"], name="department_day_day")]
        verbose_name = _("部门每日办件（汇总）")
        verbose_name_plural = _("部门每日办件（汇总）")

    def __str__(self) -> str:
        return f"{self.department_id} {self.day}"


class RollupState(models.Model):
    """How far a rollup reaches (``through``: its last complete day) and the inputs it was
    computed with (``stamp``: the calendar version and the office-hours stamp); a rollup whose
    stamp is not the current one is not read and is rebuilt by its task."""

    name = models.CharField(max_length=64, unique=True)
    through = models.DateField(null=True, blank=True)
    stamp = models.CharField(max_length=100, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("汇总进度")
        verbose_name_plural = _("汇总进度")

    def __str__(self) -> str:
        return f"{self.name} → {self.through}"
