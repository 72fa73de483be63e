"""Automatic decisions (秒批): rule sets per item version and what each case's evaluation was.

A :class:`RuleSet` is one version of an item's rules: a GoRules JDM graph (``jdm``) with the
platform's contract around it — labels of its conditions in Chinese, the exchange data it needs,
the licence facts it needs (an extension point) and its test cases. A published rule set never
changes; an edit is a new version (a draft). At most one rule set is published per item version.

An :class:`AutoDecision` is what the rules said about one case: the rule set (and so its
version), the inputs (encrypted: they hold personal data), the outputs, the explanation, the
outcome, and a human review the applicant asked for.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.core.encrypted import EncryptedJSONField


class RuleSetStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    RETIRED = "retired", _("已停用")


class RuleSet(models.Model):
    item = models.ForeignKey("catalog.Item", verbose_name=_("事项"), on_delete=models.PROTECT,
                             related_name="rule_sets")
    item_version = models.ForeignKey("catalog.ItemVersion", verbose_name=_("事项版本"),
                                     on_delete=models.PROTECT, related_name="rule_sets")
    version = models.PositiveIntegerField(_("规则版本"))
    name = models.CharField(_("名称"), max_length=200)
    status = models.CharField(_("状态"), max_length=16, choices=RuleSetStatus.choices,
                              default=RuleSetStatus.DRAFT)
    jdm = models.JSONField(_("决策图（JDM）"), default=dict)
    # {condition key: the condition in plain Chinese}, in the order the notice lists them.
    conditions = models.JSONField(_("条件说明"), default=dict)
    # [{"name", "resource", "items", "subject"}]: exchange data read before evaluation.
    exchange = models.JSONField(_("共享数据"), default=list, blank=True)
    # [{"name", "type", "subject"}]: licence facts (电子证照), filled by registered providers.
    licences = models.JSONField(_("电子证照"), default=list, blank=True)
    # [{"name", "input", "expect": {"approve", ...}}]
    tests = models.JSONField(_("测试用例"), default=list)
    note = models.TextField(_("修订说明"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["item_id", "-version"]
        verbose_name = _("审批规则")
        verbose_name_plural = _("审批规则")
        constraints = [
            models.UniqueConstraint(fields=["item", "version"], name="rule_set_item_version"),
            models.UniqueConstraint(fields=["item_version"], name="rule_set_one_published",
                                    condition=models.Q(status="published")),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class Outcome(models.TextChoices):
    APPROVED = "approved", _("自动准予")
    REFERRED = "referred", _("转人工办理")
    FAILED = "failed", _("规则执行出错，转人工办理")


class ReviewOutcome(models.TextChoices):
    PENDING = "pending", _("复核中")
    CONFIRMED = "confirmed", _("维持")
    REVERSED = "reversed", _("改变")


class AutoDecision(models.Model):
    case = models.OneToOneField("cases.Case", verbose_name=_("办件"), on_delete=models.PROTECT,
                                related_name="auto_decision")
    rule_set = models.ForeignKey(RuleSet, verbose_name=_("审批规则"), on_delete=models.PROTECT,
                                 related_name="decisions")
    outcome = models.CharField(_("结果"), max_length=16, choices=Outcome.choices)
    inputs = EncryptedJSONField(_("输入"), default=dict)
    outputs = EncryptedJSONField(_("输出"), default=dict)
    # [{"key", "text", "held"}]: each condition of the rule set and whether it held.
    explanation = models.JSONField(_("条件判断"), default=list)
    findings = models.JSONField(_("发现的问题"), default=list)
    submitted_at = models.DateTimeField(_("提交时间"))
    evaluated_at = models.DateTimeField(_("评估时间"))
    decided_at = models.DateTimeField(_("自动决定时间"), null=True, blank=True)
    review_requested_at = models.DateTimeField(_("申请人工复核时间"), null=True, blank=True)
    review_requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                            on_delete=models.PROTECT, related_name="+")
    review_reason = models.TextField(_("复核理由"), blank=True)

    class Meta:
        ordering = ["-evaluated_at"]
        verbose_name = _("自动审批记录")
        verbose_name_plural = _("自动审批记录")
        indexes = [models.Index(fields=["rule_set", "evaluated_at"], name="auto_decision_rules")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.outcome}"
