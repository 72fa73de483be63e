"""Accounts admin for the bureau: every create and change goes through the account services.

Lists show ID numbers and phones masked; only the bureau administrator sees this admin at all.
"""

from __future__ import annotations

from typing import Any

# django-otp's own admins, imported first so that they are registered before being replaced.
import django_otp.plugins.otp_static.admin
import django_otp.plugins.otp_totp.admin  # noqa: F401
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from tongban.audit.admin_site import ReadOnlyAdmin

from . import permissions, services, twofactor
from .forms import UserAddForm, UserEditForm, fields_from
from .masking import mask_id_number, mask_phone
from .models import ApiToken, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin[User]):
    form = UserEditForm
    add_form = UserAddForm
    list_display = ("username", "real_name", "role", "masked_id_number", "masked_phone",
                    "department", "hall", "is_active")
    list_filter = ("role", "is_active", "department", "hall")
    search_fields = ("username", "real_name")
    list_select_related = ("department", "hall")
    ordering = ("username",)
    autocomplete_fields = ("department", "hall")
    filter_horizontal = ()
    fieldsets = (
        (None, {"fields": ("username", "password", "role", "is_active")}),
        (_("身份信息"), {"fields": ("real_name", "id_number", "phone", "email")}),
        (_("法人信息"), {"fields": ("uscc", "legal_representative", "legal_representative_id_number")}),
        (_("工作单位"), {"fields": ("department", "hall")}),
        (_("记录"), {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = ("last_login", "date_joined")
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "password1", "password2", "role")}),
        (_("身份信息"), {"fields": ("real_name", "id_number", "phone", "email")}),
        (_("法人信息"), {"fields": ("uscc", "legal_representative", "legal_representative_id_number")}),
        (_("工作单位"), {"fields": ("department", "hall")}),
    )

    @admin.display(description=_("公民身份号码"))
    def masked_id_number(self, obj: User) -> str:
        return mask_id_number(obj.id_number)

    @admin.display(description=_("手机号码"))
    def masked_phone(self, obj: User) -> str:
        return mask_phone(obj.phone)

    # Only the bureau manages accounts (permissions.can_manage_staff), whatever else a role may see.
    def has_module_permission(self, request: HttpRequest) -> bool:
        return permissions.can_manage_staff(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return permissions.can_manage_staff(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return permissions.can_manage_staff(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return permissions.can_manage_staff(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Accounts are deactivated, never deleted: the audit log refers to them.
        return False

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        if change:
            stored = User.objects.get(pk=obj.pk)
            services.user_update(actor=request.user, user=stored,
                                 fields=fields_from(form.cleaned_data, is_active=stored.is_active))
            return
        saved = services.user_create(actor=request.user, fields=fields_from(form.cleaned_data),
                                     password=form.cleaned_data["password1"])
        obj.pk = saved.pk
        obj._state.adding = False
        obj._state.db = saved._state.db

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # The form has no many-to-many fields; the services wrote everything.
        pass


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    """Issued tokens (only their SHA-256 is stored); the bureau may revoke one by deleting it."""

    list_display = ("user", "created_at", "expires_at", "last_used_at", "second_factor")
    list_select_related = ("user",)
    readonly_fields = ("user", "digest", "created_at", "expires_at", "last_used_at",
                       "second_factor")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_module_permission(self, request: HttpRequest) -> bool:
        return permissions.can_manage_staff(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return permissions.can_manage_staff(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return permissions.can_manage_staff(request.user)


# django-otp's admins show a device's secret key and QR code and let the administrator add or
# edit devices: with them the bureau could produce any officer's or supervisor's codes. The
# bureau sees who has a second factor and may reset it (twofactor.totp_reset: devices removed,
# API tokens revoked, audited) for someone who lost the phone; enrolling is the person's own.
for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


class SecondFactorAdmin(ReadOnlyAdmin[Any]):
    list_display = ("user", "name", "confirmed", "created_at", "last_used_at")
    list_filter = ("confirmed",)
    list_select_related = ("user",)
    search_fields = ("user__username", "user__real_name")
    fields = ("user", "name", "confirmed", "created_at", "last_used_at")
    actions = ("reset_second_factor",)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return permissions.can_manage_staff(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return permissions.can_manage_staff(request.user)

    @admin.action(description=_("重置所选账号的双重验证（移除设备并吊销其 API 令牌）"))
    def reset_second_factor(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        users = {device.user for device in queryset.select_related("user")}
        for user in users:
            twofactor.totp_reset(actor=request.user, user=user)
        self.message_user(request, _("已重置 %(count)d 个账号的双重验证，其下次登录时须重新绑定。")
                          % {"count": len(users)}, messages.SUCCESS)


admin.site.register(TOTPDevice, SecondFactorAdmin)
admin.site.register(StaticDevice, SecondFactorAdmin)
