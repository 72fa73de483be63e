"""The audit log: one append-only record per exercise of power.

Each record carries the SHA-256 of its content and of the previous record, so that a later
change, deletion, insertion or reordering breaks the chain (verified by ``tongban verify_audit``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditRecord(models.Model):
    seq = models.BigIntegerField(_("序号"), unique=True)
    at = models.DateTimeField(_("时间"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    actor_name = models.CharField(_("操作人名称"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=64)
    object_type = models.CharField(_("对象类型"), max_length=64)
    object_id = models.CharField(_("对象"), max_length=64)
    detail = models.JSONField(_("详情"), default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"
