"""Admin for divisions, departments, halls and windows. Every write goes through the services.

Forms run the services' checks in ``clean()`` so each problem shows next to its field; the
ModelAdmins then save through ``department_save``/``hall_save``/``window_save`` (which check
again, write and audit in one transaction) instead of ``Model.save()``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from tongban.core.forms import add_problems

from . import services
from .models import Department, Division, Hall, OfficePeriod, Window


def _copy_saved(target: Any, saved: Any) -> None:
    """Make the admin's unsaved instance point at the row the service wrote (for logs, redirects)."""
    target.pk = saved.pk
    target._state.adding = False
    target._state.db = saved._state.db


@admin.register(Division)
class DivisionAdmin(admin.ModelAdmin[Division]):
    """Divisions are seeded from the statistical codes; the admin only shows them."""

    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DepartmentForm(forms.ModelForm[Department]):
    class Meta:
        model = Department
        fields = ("name", "uscc", "division", "level", "parent", "consultation_phone",
                  "complaint_phone", "address", "is_services_bureau")

    def fields_for_service(self) -> services.DepartmentFields:
        data = self.cleaned_data
        return services.DepartmentFields(
            name=data.get("name") or "", uscc=data.get("uscc") or "", division=data.get("division"),
            level=data.get("level") or "", parent=data.get("parent"),
            consultation_phone=data.get("consultation_phone") or "",
            complaint_phone=data.get("complaint_phone") or "", address=data.get("address") or "",
            is_services_bureau=bool(data.get("is_services_bureau")),
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        stored = self.instance if self.instance.pk else None
        add_problems(self, services.department_check(self.fields_for_service(), department=stored))
        return self.cleaned_data

    def validate_unique(self) -> None:
        # Uniqueness is one of the service's rules, reported in its own words by clean().
        pass


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin[Department]):
    form = DepartmentForm
    list_display = ("name", "uscc", "division", "level", "parent", "consultation_phone")
    list_filter = ("level", "is_services_bureau")
    search_fields = ("name", "uscc")
    autocomplete_fields = ("parent",)
    list_select_related = ("division", "parent")

    def save_model(self, request: HttpRequest, obj: Department, form: DepartmentForm,
                   change: bool) -> None:
        stored = Department.objects.get(pk=obj.pk) if change else None
        saved = services.department_save(actor=request.user, fields=form.fields_for_service(),
                                         department=stored)
        _copy_saved(obj, saved)


class OfficePeriodFormSet(BaseInlineFormSet[OfficePeriod, Hall, forms.ModelForm[OfficePeriod]]):
    def periods(self) -> list[services.PeriodFields]:
        result = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or not data.get("starts") or not data.get("ends"):
                continue
            result.append(services.PeriodFields(
                starts=data["starts"], ends=data["ends"],
                season_from=data.get("season_from") or "", season_to=data.get("season_to") or ""))
        return result

    def clean(self) -> None:
        super().clean()
        problems = services.office_periods_check(self.periods())
        if problems:
            raise ValidationError([str(p.message) for p in problems])


class OfficePeriodInline(admin.TabularInline[OfficePeriod, Hall]):
    model = OfficePeriod
    formset = OfficePeriodFormSet
    extra = 1
    fields = ("starts", "ends", "season_from", "season_to")


class WindowInline(admin.TabularInline[Window, Hall]):
    """Windows are edited on their own page (they have departments); listed here for overview."""

    model = Window
    extra = 0
    fields = ("number", "name", "is_comprehensive")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class HallForm(forms.ModelForm[Hall]):
    class Meta:
        model = Hall
        fields = ("name", "division", "department", "address", "phone")

    def fields_for_service(self, periods: list[services.PeriodFields] | None = None
                           ) -> services.HallFields:
        data = self.cleaned_data
        return services.HallFields(
            name=data.get("name") or "", division=data.get("division"),
            department=data.get("department"), address=data.get("address") or "",
            phone=data.get("phone") or "", office_periods=periods)

    def clean(self) -> dict[str, Any]:
        super().clean()
        stored = self.instance if self.instance.pk else None
        # Office periods are checked by their inline formset.
        add_problems(self, services.hall_check(self.fields_for_service(), hall=stored))
        return self.cleaned_data

    def validate_unique(self) -> None:
        pass


@admin.register(Hall)
class HallAdmin(admin.ModelAdmin[Hall]):
    form = HallForm
    inlines = (OfficePeriodInline, WindowInline)
    list_display = ("name", "division", "department", "phone")
    search_fields = ("name",)
    list_select_related = ("division", "department")

    def save_model(self, request: HttpRequest, obj: Hall, form: HallForm, change: bool) -> None:
        # Saved together with its office periods in save_related, where the inline data is known.
        pass

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        periods = next((fs.periods() for fs in formsets if isinstance(fs, OfficePeriodFormSet)), None)
        stored = Hall.objects.get(pk=form.instance.pk) if change else None
        saved = services.hall_save(actor=request.user, fields=form.fields_for_service(periods),
                                   hall=stored)
        _copy_saved(form.instance, saved)
        for formset in formsets:
            # The admin's change message reads these; the service wrote the rows, not the formset.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


class WindowForm(forms.ModelForm[Window]):
    class Meta:
        model = Window
        fields = ("hall", "number", "name", "is_comprehensive", "departments")

    def fields_for_service(self) -> services.WindowFields:
        data = self.cleaned_data
        return services.WindowFields(
            hall=data.get("hall"), number=data.get("number") or "", name=data.get("name") or "",
            is_comprehensive=bool(data.get("is_comprehensive")),
            departments=list(data.get("departments") or []))

    def clean(self) -> dict[str, Any]:
        super().clean()
        stored = self.instance if self.instance.pk else None
        add_problems(self, services.window_check(self.fields_for_service(), window=stored))
        return self.cleaned_data

    def validate_unique(self) -> None:
        pass


@admin.register(Window)
class WindowAdmin(admin.ModelAdmin[Window]):
    form = WindowForm
    list_display = ("hall", "number", "name", "is_comprehensive")
    list_filter = ("is_comprehensive", "hall")
    search_fields = ("name", "hall__name")
    filter_horizontal = ("departments",)
    list_select_related = ("hall",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Window]:
        return super().get_queryset(request).select_related("hall")

    def save_model(self, request: HttpRequest, obj: Window, form: WindowForm, change: bool) -> None:
        stored = Window.objects.get(pk=obj.pk) if change else None
        saved = services.window_save(actor=request.user, fields=form.fields_for_service(),
                                     window=stored)
        _copy_saved(obj, saved)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # window_save already set the departments.
        pass
