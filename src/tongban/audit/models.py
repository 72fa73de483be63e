"""The audit log: one append-only record per exercise of power.

Each record carries the hash of its content and of the previous record, so that a later
change, deletion, insertion or reordering breaks the chain (verified by ``tongban verify_audit``).
Checkpoints sign the chain's end from time to time, so that even a rewrite of the whole chain
after the last signed record, or the deletion of the last records, is caught.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.core.choices import ChoiceIs


class HashAlgorithm(models.TextChoices):
    SHA256 = "sha256", "SHA-256"
    SM3 = "sm3", "SM3"


class SignatureAlgorithm(models.TextChoices):
    ED25519 = "ed25519", "Ed25519"
    SM2 = "sm2", "SM2"


class AuditRecord(models.Model):
    seq = models.BigIntegerField(_("序号"), unique=True)
    at = models.DateTimeField(_("时间"))
    # No index of its own: the (actor, seq) index below serves look-ups by actor (one index
    # fewer to write at each audited action).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+", db_index=False,
    )
    actor_name = models.CharField(_("操作人名称"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=64)
    object_type = models.CharField(_("对象类型"), max_length=64)
    object_id = models.CharField(_("对象"), max_length=64)
    detail = models.JSONField(_("详情"), default=dict)
    # NULL until the sealer chains the record (``sealing.audit_seal``), moments after it commits:
    # "not sealed" is no hash at all, which no empty string could be mistaken for.
    prev_hash = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    hash = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    # Which algorithm made ``hash`` (TONGBAN_AUDIT_HASH when the record was written), so that a
    # deployment may switch and its older records still verify.
    algorithm = models.CharField(_("摘要算法"), max_length=8, choices=HashAlgorithm.choices,
                                 default=HashAlgorithm.SHA256)
    # Which content ``hash`` covers: 1 — the records written before every column was hashed
    # (``actor_name`` and ``algorithm`` outside); 2 — every stored column but ``id`` and ``hash``.
    digest_version = models.PositiveSmallIntegerField(_("摘要版本"), default=2)

    class Meta:
        ordering = ["seq"]
        # The log page's filters, each ending in seq so that "the newest 50 matching" is a
        # short walk down one index (docs/supervision.md, "The audit log page").
        indexes = [
            models.Index(fields=["object_type", "object_id", "seq"], name="audit_object_seq"),
            models.Index(fields=["actor", "seq"], name="audit_actor_seq"),
            models.Index(fields=["actor_name", "seq"], name="audit_actor_name_seq"),
            models.Index(fields=["action", "seq"], name="audit_action_seq"),
            models.Index(fields=["at"], name="audit_at"),
            # The sealer's work list: the few records written and not yet sealed.
            models.Index(fields=["seq"], condition=models.Q(hash__isnull=True),
                         name="audit_record_unsealed"),
        ]
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"


class AuditCheckpoint(models.Model):
    """A signed statement "the chain had ``count`` records and ended at ``seq`` with ``record_hash``".

    Written by ``tongban audit_checkpoint`` (hourly by default), after verifying the records since
    the previous checkpoint. The public key is published (``/supervision/audit/key/``), so anyone
    holding a copy of the checkpoints can check them without trusting the database.
    """

    seq = models.BigIntegerField(_("覆盖至记录"))
    record_hash = models.CharField(_("该记录的哈希"), max_length=64)
    hash_algorithm = models.CharField(_("摘要算法"), max_length=8, choices=HashAlgorithm.choices)
    count = models.BigIntegerField(_("记录数"))
    at = models.DateTimeField(_("时间"))
    signature_algorithm = models.CharField(_("签名算法"), max_length=8,
                                           choices=SignatureAlgorithm.choices)
    key_id = models.CharField(_("密钥标识"), max_length=32)
    signature = models.TextField(_("签名"))  # hex

    class Meta:
        ordering = ["seq", "at"]
        verbose_name = _("审计检查点")
        verbose_name_plural = _("审计检查点")
        indexes = [models.Index(fields=["seq"], name="audit_checkpoint_seq")]

    def __str__(self) -> str:
        return f"checkpoint #{self.seq} {self.at:%Y-%m-%d %H:%M}"

    def signed_message(self) -> bytes:
        """The exact bytes the signature covers (documented in docs/audit.md)."""
        from .signing import checkpoint_message

        return checkpoint_message(seq=self.seq, record_hash=self.record_hash,
                                  hash_algorithm=self.hash_algorithm, count=self.count, at=self.at)


class VerificationStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("校验中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("出错")


class AuditVerification(models.Model):
    """One run of the chain verification asked for from the supervisors' page (run in the
    background: a province's log has millions of records)."""

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("发起人"), null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("发起时间"))
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=8, choices=VerificationStatus.choices,
                              default=VerificationStatus.QUEUED)
    intact = models.BooleanField(_("完好"), null=True)
    records_checked = models.BigIntegerField(_("已校验记录数"), default=0)
    checkpoints_checked = models.IntegerField(_("已校验检查点数"), default=0)
    last_seq = models.BigIntegerField(_("最后一条记录"), null=True, blank=True)
    problems = models.JSONField(_("问题"), default=list)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("审计日志校验")
        verbose_name_plural = _("审计日志校验")

    def __str__(self) -> str:
        return f"verification {self.pk} {self.status}"

    @property
    def status_is(self) -> ChoiceIs:
        """``verification.status_is.done`` in templates (``core.choices``)."""
        return ChoiceIs(self.status, VerificationStatus)
