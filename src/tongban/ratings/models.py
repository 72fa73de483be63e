"""Ratings (好差评, domain.md §4) and the rectification tickets bad reviews open.

A rating is written once by the person served and never edited or deleted; the only change a
stored rating ever gets is its exclusion from the figures after a supervisor accepted the
department's appeal (``excluded``, ``excluded_reason``, ``excluded_at``), which ``save()``
allows and nothing else.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.catalog.models import Item
from tongban.core.encrypted import EncryptedTextField
from tongban.organizations.models import Department


class Channel(models.TextChoices):
    ONLINE = "online", _("网上评价（一事一评）")
    ON_SITE = "on_site", _("现场评价（一次一评）")


class Level(models.IntegerChoices):
    VERY_SATISFIED = 5, _("非常满意")
    SATISFIED = 4, _("满意")
    BASIC = 3, _("基本满意")
    DISSATISFIED = 2, _("不满意")
    VERY_DISSATISFIED = 1, _("非常不满意")


BAD_LEVELS = (Level.DISSATISFIED, Level.VERY_DISSATISFIED)

# The national indicator sets (GB/T 39734-2020): the overall level plus these, each 1–5.
ONLINE_INDICATORS: dict[str, Any] = {
    "efficiency": _("办事效率"),
    "guide_accuracy": _("办事指南精确度"),
    "convenience": _("办事便捷度"),
    "usability": _("平台操作性"),
}
ON_SITE_INDICATORS: dict[str, Any] = {
    "service_efficiency": _("服务效率"),
    "service_level": _("服务水平"),
    "service_attitude": _("服务态度"),
}


def indicators_for(channel: str) -> dict[str, Any]:
    return ONLINE_INDICATORS if channel == Channel.ONLINE else ON_SITE_INDICATORS


class RatingTag(models.Model):
    """A bad-review tag (差评标签); the three national ones are seeded by a migration."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    national = models.BooleanField(_("全国统一标签"), default=False)
    sort = models.PositiveSmallIntegerField(_("排序"), default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["sort", "pk"]
        verbose_name = _("差评标签")
        verbose_name_plural = _("差评标签")

    def __str__(self) -> str:
        return self.name


MATERIALS_BEYOND_GUIDE = "materials_beyond_guide"


class Rating(models.Model):
    """One rating: online one per case (一事一评), on site one per visit (一次一评)."""

    channel = models.CharField(_("评价渠道"), max_length=16, choices=Channel.choices)
    case = models.ForeignKey("cases.Case", verbose_name=_("办件"), on_delete=models.PROTECT,
                             related_name="ratings")
    visit = models.OneToOneField("cases.Visit", verbose_name=_("跑动（现场服务）"), null=True,
                                 blank=True, on_delete=models.PROTECT, related_name="rating")
    item = models.ForeignKey(Item, verbose_name=_("事项"), on_delete=models.PROTECT,
                             related_name="ratings")
    department = models.ForeignKey(Department, verbose_name=_("被评价部门"),
                                   on_delete=models.PROTECT, related_name="ratings")
    handler = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("经办人"), null=True,
                                blank=True, on_delete=models.PROTECT, related_name="+")
    # The person served, copied from the case (a walk-in may have no account).
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("评价人账户"), null=True,
                              blank=True, on_delete=models.PROTECT, related_name="ratings")
    rater_name = models.CharField(_("评价人"), max_length=100, blank=True)
    # Stored SM4-encrypted (docs/privacy.md).
    rater_phone = EncryptedTextField(_("评价人电话"), max_length=20, blank=True)
    rater_id_number = EncryptedTextField(_("评价人证件号码"), max_length=18, blank=True)
    level = models.PositiveSmallIntegerField(_("总体评价"), choices=Level.choices)
    indicators = models.JSONField(_("分项评价"), default=dict)
    tags = models.ManyToManyField(RatingTag, verbose_name=_("差评标签"), blank=True,
                                  related_name="ratings")
    text = models.TextField(_("评价内容"), blank=True)
    created_at = models.DateTimeField(_("评价时间"), db_index=True)
    # Entered on the window's tablet while a staff member was logged in there (shown to
    # supervisors: the person served rated on the clerk's device).
    on_staff_device = models.BooleanField(_("在窗口设备上评价"), default=False)
    excluded = models.BooleanField(_("不计入统计"), default=False)
    excluded_reason = models.TextField(_("不计入理由"), blank=True)
    excluded_at = models.DateTimeField(_("不计入时间"), null=True, blank=True)

    EXCLUSION_FIELDS = frozenset({"excluded", "excluded_reason", "excluded_at"})

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("评价")
        verbose_name_plural = _("评价")
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=models.Q(channel="online"),
                                    name="rating_one_online_per_case"),
            models.CheckConstraint(condition=models.Q(level__gte=1, level__lte=5),
                                   name="rating_level_1_to_5"),
            models.CheckConstraint(
                condition=(models.Q(channel="online", visit__isnull=True)
                           | models.Q(channel="on_site", visit__isnull=False)),
                name="rating_visit_iff_on_site"),
        ]
        indexes = [models.Index(fields=["department", "created_at"]),
                   models.Index(fields=["item", "created_at"]),
                   # The few ratings struck out on appeal, which the rollup's readers subtract.
                   models.Index(fields=["created_at"], condition=models.Q(excluded=True),
                                name="rating_excluded_at")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_level_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert once; afterwards only the exclusion fields may be written."""
        if self.pk is not None:
            fields = kwargs.get("update_fields")
            if not fields or not set(fields) <= self.EXCLUSION_FIELDS:
                raise RuntimeError("ratings are append-only (only the exclusion may change)")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("ratings are never deleted")

    @property
    def is_bad(self) -> bool:
        return self.level in BAD_LEVELS

    @property
    def score_10(self) -> int:
        return self.level * 2


class TicketState(models.TextChoices):
    OPEN = "open", _("待处理")
    APPEALED = "appealed", _("申诉复核中")
    RESPONDED = "responded", _("已整改/说明，待回访")
    AWAITING_RATER = "awaiting_rater", _("已回访，待评价人评价整改")
    CLOSED = "closed", _("已办结")


class Response(models.TextChoices):
    FIX_NOW = "fix_now", _("立行立改")
    LEDGER = "ledger", _("建立台账、限期整改")
    EXPLAINED = "explained", _("解释说明")


class AppealDecision(models.TextChoices):
    ACCEPTED = "accepted", _("申诉成立")
    REJECTED = "rejected", _("申诉不成立")


class Outcome(models.TextChoices):
    RECTIFIED = "rectified", _("整改完成")
    APPEAL_ACCEPTED = "appeal_accepted", _("申诉成立，评价不计入统计")


class RectificationTicket(models.Model):
    """差评整改工单: opened with every 不满意 / 非常不满意 for whoever handled the case."""

    rating = models.OneToOneField(Rating, on_delete=models.PROTECT, related_name="ticket")
    department = models.ForeignKey(Department, verbose_name=_("责任部门"),
                                   on_delete=models.PROTECT, related_name="rating_tickets")
    handler = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("经办人"), null=True,
                                blank=True, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("状态"), max_length=16, choices=TicketState.choices,
                             default=TicketState.OPEN, db_index=True)
    version = models.PositiveIntegerField(default=0)
    opened_at = models.DateTimeField(_("生成时间"))
    due_at = models.DateTimeField(_("整改时限"), db_index=True)
    due_provisional = models.BooleanField(_("时限为暂定"), default=False)
    overdue = models.BooleanField(_("已超期"), default=False)
    escalated_at = models.DateTimeField(_("超期督办时间"), null=True, blank=True)

    response = models.CharField(_("处理方式"), max_length=16, choices=Response.choices,
                                blank=True)
    response_text = models.TextField(_("整改情况/说明"), blank=True)
    ledger_deadline = models.DateField(_("台账整改期限"), null=True, blank=True)
    responded_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    responded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")

    callback_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    callback_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    callback_reached = models.BooleanField(_("回访联系上评价人"), null=True, blank=True)
    callback_note = models.TextField(_("回访记录"), blank=True)

    fix_satisfied = models.BooleanField(_("评价人对整改满意"), null=True, blank=True)
    fix_rated_at = models.DateTimeField(_("整改评价时间"), null=True, blank=True)

    appeal_reason = models.TextField(_("申诉理由"), blank=True)
    appealed_at = models.DateTimeField(_("申诉时间"), null=True, blank=True)
    appealed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    appeal_decision = models.CharField(_("申诉复核结果"), max_length=16,
                                       choices=AppealDecision.choices, blank=True)
    appeal_note = models.TextField(_("复核意见"), blank=True)
    appeal_decided_at = models.DateTimeField(_("复核时间"), null=True, blank=True)
    appeal_decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                          on_delete=models.PROTECT, related_name="+")

    outcome = models.CharField(_("结果"), max_length=20, choices=Outcome.choices, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        ordering = ["due_at", "pk"]
        verbose_name = _("差评整改工单")
        verbose_name_plural = _("差评整改工单")
        indexes = [models.Index(fields=["department", "state"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_state_display()}"

    @property
    def rectified_on_time(self) -> bool:
        """See ``services.rectified_on_time`` (a ledger due after the ticket is a late fix)."""
        from .services import rectified_on_time

        return rectified_on_time(self)


# --- the monthly report's daily rollup (``rollups``) ------------------------------------------

class RatingDay(models.Model):
    """Per closed Beijing day, department, item and channel: the ratings given that day, by
    level — all of them, excluded ones too (an appeal can strike a rating out long after its
    day, so the readers subtract the excluded ones live). Written only by
    ``rollups.rollup_ratings``."""

    day = models.DateField()
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="+",
                                   db_index=False)
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+", db_index=False)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    level_1 = models.PositiveIntegerField(default=0)
    level_2 = models.PositiveIntegerField(default=0)
    level_3 = models.PositiveIntegerField(default=0)
    level_4 = models.PositiveIntegerField(default=0)
    level_5 = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "department", "item", "channel"],
                                               name="rating_day_unique")]
        verbose_name = _("每日评价（汇总）")
        verbose_name_plural = _("每日评价（汇总）")

    def __str__(self) -> str:
        return f"{self.day} {self.department_id}/{self.item_id} {self.channel}"


class RatingTagDay(models.Model):
    """Per closed Beijing day and tag: the ratings of that day carrying the tag (excluded
    ones too)."""

    day = models.DateField()
    tag = models.ForeignKey(RatingTag, on_delete=models.CASCADE, related_name="+",
                            db_index=False)
    ratings = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "tag"],
                                               name="rating_tag_day_unique")]
        verbose_name = _("每日差评标签（汇总）")
        verbose_name_plural = _("每日差评标签（汇总）")

    def __str__(self) -> str:
        return f"{self.day} {self.tag_id}: {self.ratings}"


class CompletedDay(models.Model):
    """Per closed Beijing day, department, item, item version and channel: the cases decided
    that day (the report's 办结), and the creation instant of the newest of them (an item's
    line is named after the version of its most recently created case)."""

    day = models.DateField()
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="+",
                                   db_index=False)
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+", db_index=False)
    item_version = models.ForeignKey("catalog.ItemVersion", on_delete=models.CASCADE,
                                     related_name="+", db_index=False)
    channel = models.CharField(max_length=16)
    cases = models.PositiveIntegerField(default=0)
    newest = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["day", "department", "item", "item_version", "channel"],
            name="completed_day_unique")]
        verbose_name = _("每日办结（汇总）")
        verbose_name_plural = _("每日办结（汇总）")

    def __str__(self) -> str:
        return f"{self.day} {self.department_id}/{self.item_id} {self.channel}: {self.cases}"


class RatingRollupState(models.Model):
    """How far the rollup reaches: ``through`` is its last complete Beijing day and
    ``through_end`` the instant that day ends; the highest rating and case ids when it last ran
    (a rating or decided case with a higher id on a day it holds — a bulk load, never the
    services — makes it unread until the next run rebuilds it); ``version`` of its definition."""

    name = models.CharField(max_length=64, unique=True)
    version = models.CharField(max_length=16, blank=True)
    through = models.DateField(null=True, blank=True)
    through_end = models.DateTimeField(null=True, blank=True)
    ratings_watermark = models.BigIntegerField(default=0)
    cases_watermark = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("评价汇总进度")
        verbose_name_plural = _("评价汇总进度")

    def __str__(self) -> str:
        return f"{self.name} → {self.through}"
