"""Account forms: the admin's (their ``clean()`` runs the service's checks, ``user_check``), the
public registration forms (the view saves through ``account_register``) and the two login doors."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import (
    AuthenticationForm,
    BaseUserCreationForm,
    UserChangeForm,
    UsernameField,
)
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tongban.core.forms import add_problems

from . import services
from .models import STAFF_ROLES, Role, User

PROFILE_FIELDS = ("username", "role", "real_name", "id_number", "phone", "uscc",
                  "legal_representative", "legal_representative_id_number", "email", "department",
                  "hall")


def fields_from(data: dict[str, Any], *, is_active: bool = True) -> services.UserFields:
    """The service's view of a form's cleaned data (absent or invalid fields as empty)."""
    return services.UserFields(
        username=data.get("username") or "", role=data.get("role") or "",
        real_name=data.get("real_name") or "", id_number=data.get("id_number") or "",
        phone=data.get("phone") or "", uscc=data.get("uscc") or "",
        legal_representative=data.get("legal_representative") or "",
        legal_representative_id_number=data.get("legal_representative_id_number") or "",
        email=data.get("email") or "",
        department=data.get("department"), hall=data.get("hall"),
        is_active=data.get("is_active", is_active),
    )


class UserAddForm(BaseUserCreationForm[User]):
    class Meta(BaseUserCreationForm.Meta):
        model = User
        fields = PROFILE_FIELDS

    def clean(self) -> dict[str, Any]:
        super().clean()
        add_problems(self, services.user_check(fields_from(self.cleaned_data)))
        return self.cleaned_data

    def validate_unique(self) -> None:
        # Uniqueness is one of the service's rules, reported in its own words by clean().
        pass


class UserEditForm(UserChangeForm[User]):
    class Meta:
        model = User
        fields = (*PROFILE_FIELDS, "is_active", "password")
        field_classes = {"username": UsernameField}

    def clean(self) -> dict[str, Any]:
        super().clean()
        add_problems(self, services.user_check(
            fields_from(self.cleaned_data, is_active=self.instance.is_active), user=self.instance))
        return self.cleaned_data

    def validate_unique(self) -> None:
        pass


# --- the public pages: registration and the two login doors ----------------------------------

class _RegisterForm(forms.Form):
    """Shared fields of self-registration; the service (``account_register``) checks the rules."""

    role: str = ""
    username = forms.CharField(label=_("用户名"), max_length=150,
                               help_text=_("登录时使用，可用字母、数字和 @/./+/-/_"),
                               widget=forms.TextInput(attrs={"autocomplete": "username"}))
    phone = forms.CharField(label=_("手机号码"), max_length=20,
                            widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}))
    password1 = forms.CharField(label=_("密码"), strip=False,
                                help_text=_("至少8位，不要使用常见密码"),
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(label=_("确认密码"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        one, two = data.get("password1"), data.get("password2")
        if one and two and one != two:
            self.add_error("password2", _("两次输入的密码不一致"))
        return data

    def user_fields(self) -> services.UserFields:
        data = self.cleaned_data
        return services.UserFields(
            username=data.get("username", ""), role=self.role, real_name=data.get("real_name", ""),
            id_number=data.get("id_number", ""), phone=data.get("phone", ""),
            uscc=data.get("uscc", ""), legal_representative=data.get("legal_representative", ""),
            legal_representative_id_number=data.get("legal_representative_id_number", ""))


class CitizenRegisterForm(_RegisterForm):
    role = Role.CITIZEN
    real_name = forms.CharField(label=_("姓名"), max_length=100,
                                widget=forms.TextInput(attrs={"autocomplete": "name"}))
    id_number = forms.CharField(label=_("公民身份号码"), max_length=25,
                                help_text=_("18位居民身份证号码"))
    field_order = ("real_name", "id_number", "phone", "username", "password1", "password2")


class CompanyRegisterForm(_RegisterForm):
    role = Role.ENTERPRISE
    real_name = forms.CharField(label=_("单位名称"), max_length=100,
                                widget=forms.TextInput(attrs={"autocomplete": "organization"}))
    uscc = forms.CharField(label=_("统一社会信用代码"), max_length=25, help_text=_("18位，见营业执照"))
    legal_representative = forms.CharField(label=_("法定代表人姓名"), max_length=50)
    legal_representative_id_number = forms.CharField(label=_("法定代表人身份证号码"), max_length=25)
    field_order = ("real_name", "uscc", "legal_representative", "legal_representative_id_number",
                   "phone", "username", "password1", "password2")


# Service field names that the registration forms call differently.
REGISTER_FIELD_MAP = {"password": "password1"}


def is_staff_account(user: User) -> bool:
    return user.role in STAFF_ROLES or bool(user.is_superuser)


class PublicLoginForm(AuthenticationForm):
    """The public door: citizens and enterprises. Staff are sent to their own page."""

    other_door = "accounts:staff_login"

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        if is_staff_account(user):
            self.wrong_door = True
            raise ValidationError(_("这是工作人员账户，请从“工作人员登录”页面登录。"), code="wrong_door")


class StaffLoginForm(AuthenticationForm):
    """The staff door. Citizens and enterprises are sent to the public login page."""

    other_door = "accounts:login"

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        if not is_staff_account(user):
            self.wrong_door = True
            raise ValidationError(_("这是自然人或法人账户，请从公众登录页面登录。"), code="wrong_door")
