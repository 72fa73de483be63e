"""Application form definitions (申请表) in the Django admin.

The bureau edits a form as JSON; the form checks it with the same rules the service applies
(``form_definitions.form_definition_check``) and shows each problem with its place, and saving
goes through ``form_definition_save``. Saved versions never change: saving an existing version's
page stores the edited fields as the item's next version.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from tongban.core.errors import AccessDenied, RuleViolation

from .form_definitions import (
    FIELD_TYPES,
    form_definition_check,
    form_definition_deactivate,
    form_definition_save,
)
from .models import FormDefinition

FIELDS_HELP = _(
    "JSON数组，每个字段一个对象：name（英文字母开头的字段名）、label（标题）、type（类型：%(types)s）、"
    "required（是否必填）、help_text（填写说明）、"
    "data_element（绑定的已发布数据元的内部标识符，如 DE00002，可选；见 /data/elements/）、"
    "max_length（文本和地址的最大长度）、min/max（数字和金额的界限）、options（单项选择的选项列表）。"
    "保存后生成新版本，已保存的版本不再改变。")


class PrettyJSONField(forms.JSONField):
    """Shown indented and with Chinese as written, so the bureau can edit it by hand."""

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2)


class FormDefinitionForm(forms.ModelForm[FormDefinition]):
    class Meta:
        model = FormDefinition
        fields = ["item", "fields"]
        field_classes = {"fields": PrettyJSONField}
        widgets = {"fields": forms.Textarea(attrs={"rows": 24, "cols": 100})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "fields" in self.fields:  # absent where the viewer may only look
            self.fields["fields"].help_text = FIELDS_HELP % {"types": "、".join(FIELD_TYPES)}

    def clean_fields(self) -> Any:
        value = self.cleaned_data.get("fields")
        _clean, problems = form_definition_check(value)
        if problems:
            raise forms.ValidationError([f"{p.field}：{p.message}" for p in problems])
        return value

    def validate_constraints(self) -> None:
        """Version numbers and the active flag are assigned by the service under a lock on the
        item; the instance built here has neither, so its constraints are not checked here."""


@admin.register(FormDefinition)
class FormDefinitionAdmin(admin.ModelAdmin[FormDefinition]):
    form = FormDefinitionForm
    list_display = ["item_code", "item_name", "version", "is_active", "field_count", "created_by",
                    "created_at"]
    list_filter = ["is_active"]
    search_fields = ["item__implementation_code", "item__versions__name"]
    autocomplete_fields = ["item"]
    actions = ["deactivate"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[FormDefinition]:
        return super().get_queryset(request).select_related("item", "item__current", "created_by")

    @admin.display(description=_("实施编码"), ordering="item__implementation_code")
    def item_code(self, obj: FormDefinition) -> str:
        return obj.item.implementation_code

    @admin.display(description=_("事项名称"))
    def item_name(self, obj: FormDefinition) -> str:
        return obj.item.current.name if obj.item.current else ""

    @admin.display(description=_("字段数"))
    def field_count(self, obj: FormDefinition) -> int:
        return len(obj.fields or [])

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["item", "fields"]
        return ["item", "version", "is_active", "created_by", "created_at", "fields"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return []
        return ["item", "version", "is_active", "created_by", "created_at"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # cases point at their version; history is kept

    def save_model(self, request: HttpRequest, obj: FormDefinition, form: Any, change: bool) -> None:
        """Save through the service: a new version (or, unchanged, the active one)."""
        item = obj.item
        saved = form_definition_save(actor=request.user, item=item, fields=form.cleaned_data["fields"])
        # The admin goes on (logging, redirect) with the object it built: make it the saved one.
        for f in FormDefinition._meta.concrete_fields:
            setattr(obj, f.attname, getattr(saved, f.attname))
        obj._state.adding = False
        messages.info(request, _("%(item)s 的申请表现行版本为第%(n)s版") % {
            "item": item.implementation_code, "n": saved.version})

    def changeform_view(self, request: HttpRequest, object_id: str | None = None,
                        form_url: str = "", extra_context: dict[str, Any] | None = None) -> Any:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (RuleViolation, AccessDenied) as exc:
            # Refused by the service (e.g. the user may view but not edit): nothing was saved.
            messages.error(request, str(exc))
            return HttpResponseRedirect(request.get_full_path())

    @admin.action(description=_("停用所选申请表（改用默认申请表）"))
    def deactivate(self, request: HttpRequest, queryset: QuerySet[FormDefinition]) -> None:
        done = 0
        for definition in queryset.filter(is_active=True).select_related("item"):
            try:
                form_definition_deactivate(actor=request.user, item=definition.item)
            except AccessDenied as exc:
                messages.error(request, str(exc))
                return
            done += 1
        messages.success(request, _("已停用%(n)s个申请表") % {"n": done})
