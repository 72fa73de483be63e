"""The e-licence library (电子证照库): licence types, issued licences, holders' authorisations.

A licence refers to the case that issued it by the case's id and number only: the library sits
below the cases (docs/adr/0012-licences-below-cases.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.core.choices import ChoiceIs
from tongban.core.encrypted import BlindIndexField, EncryptedTextField
from tongban.organizations.models import Department


class HolderKind(models.TextChoices):
    NATURAL_PERSON = "natural_person", _("自然人")
    LEGAL_PERSON = "legal_person", _("法人及其他组织")


class Validity(models.TextChoices):
    PERMANENT = "permanent", _("长期有效")
    YEARS = "years", _("自签发之日起若干年")


class LicenceType(models.Model):
    """A kind of licence the library issues (营业执照, 结婚证 …): its code, issuer, validity rule,
    the surface fields (照面信息项) bound to data elements, and its printable template."""

    code = models.CharField(_("证照类型代码"), max_length=21, unique=True,
                            help_text=_("主管部门18位统一社会信用代码加3位顺序号"))
    name = models.CharField(_("证照名称"), max_length=100, unique=True)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    # Other result names (审批结果名称) of the items that issue this type.
    aliases = models.JSONField(_("结果名称别名"), default=list, blank=True)
    holder_kind = models.CharField(_("持证主体类型"), max_length=16, choices=HolderKind.choices)
    department = models.ForeignKey(Department, verbose_name=_("签发部门"), on_delete=models.PROTECT,
                                   related_name="licence_types")
    validity = models.CharField(_("有效期规则"), max_length=16, choices=Validity.choices,
                                default=Validity.PERMANENT)
    validity_years = models.PositiveSmallIntegerField(_("有效年限"), null=True, blank=True)
    # [{"key": "business_name", "name": "名称", "element": "DE00020"}, …]
    fields = models.JSONField(_("照面信息项"), default=list)
    template = models.TextField(_("打印模板"), blank=True,
                                help_text=_("照面部分的模板（Django模板语法）；留空使用标准版式"))
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("证照类型")
        verbose_name_plural = _("证照类型")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Status(models.TextChoices):
    VALID = "valid", _("有效")
    CHANGED = "changed", _("已变更")
    REVOKED = "revoked", _("已注销")
    EXPIRED = "expired", _("已过期")


class Licence(models.Model):
    """One version of one licence. A change issues the next version (the same serial) and marks
    this one changed; the signed content (``content``, canonical JSON) never changes."""

    identifier = models.CharField(_("证照标识"), max_length=100, unique=True)
    type = models.ForeignKey(LicenceType, verbose_name=_("证照类型"), on_delete=models.PROTECT,
                             related_name="licences")
    issuer = models.ForeignKey(Department, verbose_name=_("签发部门"), on_delete=models.PROTECT,
                               related_name="licences_issued")
    serial = models.CharField(_("顺序号"), max_length=30)
    version = models.PositiveSmallIntegerField(_("版本"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices,
                              default=Status.VALID)
    status_reason = models.TextField(_("状态说明"), blank=True)
    status_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)
    holder_kind = models.CharField(_("持证主体类型"), max_length=16, choices=HolderKind.choices)
    holder_name = models.CharField(_("持证主体"), max_length=200)
    # Stored SM4-encrypted; found by its blind index (the wallet, the exchange log).
    holder_id = EncryptedTextField(_("持证主体代码"), max_length=18)
    holder_id_index = BlindIndexField(source="holder_id", db_index=True)
    # The signed canonical JSON (it holds the surface data: personal data, so encrypted).
    content = EncryptedTextField(_("证照内容"))
    signature = models.TextField(_("签名"))
    signature_algorithm = models.CharField(_("签名算法"), max_length=16)
    key_id = models.CharField(_("签名密钥标识"), max_length=16)
    issued_at = models.DateTimeField(_("签发时间"))
    valid_from = models.DateField(_("有效期自"))
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    case_id = models.BigIntegerField(_("办件ID"), null=True, blank=True, db_index=True)
    case_number = models.CharField(_("办件编号"), max_length=32, blank=True)
    previous = models.OneToOneField("self", verbose_name=_("上一版本"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="next_version")

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("电子证照")
        verbose_name_plural = _("电子证照")
        constraints = [models.UniqueConstraint(fields=["type", "issuer", "serial", "version"],
                                               name="licence_version_unique")]
        indexes = [models.Index(fields=["status", "valid_until"], name="licence_expiry")]

    def __str__(self) -> str:
        return self.identifier

    @property
    def status_is(self) -> ChoiceIs:
        """``licence.status_is.valid`` in templates (``core.choices``)."""
        return ChoiceIs(self.status, Status)


class SerialCounter(models.Model):
    """The last serial given for a (type, issuer): locked while a licence is issued."""

    type = models.ForeignKey(LicenceType, on_delete=models.CASCADE, related_name="+")
    issuer = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="+")
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["type", "issuer"],
                                               name="licence_serial_counter_unique")]

    def __str__(self) -> str:
        return f"{self.type_id}/{self.issuer_id}: {self.last}"


class Authorization(models.Model):
    """授权用证: the holder lets a department use one licence for one case (or purpose) until a
    date. Every use is recorded in the exchange log (``exchange.ExchangeUse``)."""

    licence = models.ForeignKey(Licence, verbose_name=_("电子证照"), on_delete=models.PROTECT,
                                related_name="authorizations")
    department = models.ForeignKey(Department, verbose_name=_("用证部门"),
                                   on_delete=models.PROTECT, related_name="licence_authorizations")
    case_number = models.CharField(_("办件编号"), max_length=32, blank=True)
    purpose = models.CharField(_("用途"), max_length=200)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("授权人"),
                                   on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField(_("授权时间"))
    valid_until = models.DateField(_("授权有效期至"))
    revoked_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)

    class Meta:
        ordering = ["-granted_at", "-id"]
        verbose_name = _("授权用证")
        verbose_name_plural = _("授权用证")

    def __str__(self) -> str:
        return f"{self.licence_id} → {self.department_id}"
