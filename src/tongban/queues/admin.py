"""Admin: a hall's service categories (saved through ``category_save``); tickets read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tongban.accounts.masking import mask_phone
from tongban.catalog.models import Commitment
from tongban.core.forms import add_problems

from . import services
from .models import ServiceCategory, Ticket


class CategoryForm(forms.ModelForm[ServiceCategory]):
    commitments = forms.MultipleChoiceField(
        label=ServiceCategory._meta.get_field("commitments").verbose_name, required=False,
        choices=Commitment.choices,
        widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ServiceCategory
        fields = ["hall", "code", "name", "departments", "commitments", "active", "position"]

    def fields_for_service(self) -> services.CategoryFields:
        d = self.cleaned_data
        return services.CategoryFields(
            hall=d["hall"], code=d["code"], name=d["name"], departments=list(d.get("departments") or []),
            commitments=list(d.get("commitments") or []), active=d.get("active", True),
            position=d.get("position") or 0)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors:
            add_problems(self, services.category_check(
                self.fields_for_service(), category=self.instance if self.instance.pk else None))
        return data


@admin.register(ServiceCategory)
class ServiceCategoryAdmin(admin.ModelAdmin[ServiceCategory]):
    form = CategoryForm
    list_display = ("code", "name", "hall", "active", "position")
    list_filter = ("hall", "active")
    search_fields = ("code", "name", "hall__name")
    filter_horizontal = ("departments",)

    def save_model(self, request: HttpRequest, obj: ServiceCategory, form: Any, change: bool) -> None:
        saved = services.category_save(actor=request.user, category=obj if obj.pk else None,
                                       fields=form.fields_for_service())
        obj.pk = saved.pk
        obj._state.adding = False

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        pass  # the departments were saved by category_save


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin[Ticket]):
    """Tickets are written only by the queue services; the admin shows them."""

    list_display = ("number", "hall", "category", "day", "status", "window", "taken_at",
                    "called_at", "finished_at", "masked_phone")
    list_filter = ("hall", "status", "day")
    search_fields = ("number", "case_number")
    exclude = ("phone",)

    @admin.display(description=_("手机号码"))
    def masked_phone(self, obj: Ticket) -> str:
        return mask_phone(obj.phone)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
