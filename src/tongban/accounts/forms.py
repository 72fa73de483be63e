"""Account forms for the admin. Their ``clean()`` runs the service's checks (``user_check``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm, UsernameField

from tongban.core.forms import add_problems

from . import services
from .models import User

PROFILE_FIELDS = ("username", "role", "real_name", "id_number", "phone", "uscc",
                  "legal_representative", "email", "department", "hall")


def fields_from(data: dict[str, Any], *, is_active: bool = True) -> services.UserFields:
    """The service's view of a form's cleaned data (absent or invalid fields as empty)."""
    return services.UserFields(
        username=data.get("username") or "", role=data.get("role") or "",
        real_name=data.get("real_name") or "", id_number=data.get("id_number") or "",
        phone=data.get("phone") or "", uscc=data.get("uscc") or "",
        legal_representative=data.get("legal_representative") or "", email=data.get("email") or "",
        department=data.get("department"), hall=data.get("hall"),
        is_active=data.get("is_active", is_active),
    )


class UserAddForm(BaseUserCreationForm):
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


class UserEditForm(UserChangeForm):
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
