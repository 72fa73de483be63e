"""Users, their roles and API tokens."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.core.choices import ChoiceIs
from tongban.core.encrypted import BlindIndexField, EncryptedTextField, with_blind_indexes


class Role(models.TextChoices):
    """One role per account. What each role may do is decided in ``permissions.py``."""

    CITIZEN = "citizen", _("自然人")
    ENTERPRISE = "enterprise", _("法人")
    CLERK = "clerk", _("窗口工作人员")
    OFFICER = "officer", _("部门经办人")
    HEAD = "head", _("部门负责人")
    PROXY_AGENT = "proxy_agent", _("代办员")
    SUPERVISOR = "supervisor", _("监察人员")
    DATA_OFFICER = "data_officer", _("数据管理员")
    ADMIN = "admin", _("政务服务管理局管理员")


PUBLIC_ROLES = {Role.CITIZEN, Role.ENTERPRISE}
STAFF_ROLES = set(Role) - PUBLIC_ROLES
# Staff of these roles work for one department; clerks and proxy agents for a hall.
DEPARTMENT_ROLES = {Role.OFFICER, Role.HEAD, Role.DATA_OFFICER}
HALL_ROLES = {Role.CLERK, Role.PROXY_AGENT}


class User(AbstractUser):
    """An account: a citizen (natural person), an enterprise (legal person) or staff."""

    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.CITIZEN)
    real_name = models.CharField(_("姓名/名称"), max_length=100, blank=True)
    # ID numbers and phones are stored SM4-encrypted (docs/privacy.md); look-ups and the
    # uniqueness of the ID number go through the blind index (``core.encrypted.matches``).
    id_number = EncryptedTextField(_("公民身份号码"), max_length=18, blank=True)
    id_number_index = BlindIndexField(source="id_number")
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    legal_representative = models.CharField(_("法定代表人"), max_length=50, blank=True)
    # The legal representative's own 公民身份号码 (an enterprise account's ``id_number`` stays
    # empty: the same person may also hold a citizen account of their own).
    legal_representative_id_number = EncryptedTextField(_("法定代表人身份证号码"), max_length=18,
                                                        blank=True)
    phone = EncryptedTextField(_("手机号码"), max_length=20, blank=True)
    department = models.ForeignKey(
        "organizations.Department", verbose_name=_("所属部门"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="staff",
    )
    hall = models.ForeignKey(
        "organizations.Hall", verbose_name=_("所属大厅/中心"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="staff",
    )

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_index"], condition=~models.Q(id_number_index=""),
                name="user_id_number_unique",
            ),
            models.UniqueConstraint(
                fields=["uscc"], condition=~models.Q(uscc=""), name="user_uscc_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.real_name or self.username

    def save(self, *args: Any, **kwargs: Any) -> None:
        kwargs["update_fields"] = with_blind_indexes(type(self), kwargs.get("update_fields"))
        super().save(*args, **kwargs)

    @property
    def is_public(self) -> bool:
        return self.role in PUBLIC_ROLES

    @property
    def role_is(self) -> ChoiceIs:
        """``user.role_is.admin`` in templates (``core.choices``)."""
        return ChoiceIs(self.role, Role)


class ApiToken(models.Model):
    """A bearer token for an API client. Only the SHA-256 of the token is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    # Issued after a second factor was given with the password. A role that requires one
    # (``twofactor.required_for``) is refused any token without it (``token_authenticate``).
    second_factor = models.BooleanField(_("经双重验证签发"), default=False)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.user} {self.created_at:%Y-%m-%d}"
