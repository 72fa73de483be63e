"""The catalog in the Django admin.

Items are read-only here (they change only through versions). Drafts are edited through
:class:`~tongban.catalog.forms.ItemVersionForm`, whose ``clean()`` applies the catalog rules,
and are saved by ``services.item_save_draft``; published, superseded and cancelled versions are
shown read-only. Submitting, publishing, returning and cancelling are admin actions that call
the services, so the admin enforces exactly what the pages and the API enforce.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from tongban.accounts import permissions
from tongban.accounts.models import Role
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.core.forms import add_problems

from . import form_admin, guide_rows, services  # noqa: F401  # form_admin registers the form definitions' admin
from .forms import MATERIAL_FIELDS, ItemVersionForm, MaterialForm, MaterialInlineFormSet, NoteForm
from .models import Faq, Fee, Item, ItemVersion, Material, Synonym, VersionStatus
from .reports import editable_departments

EDITOR_ROLES = {Role.ADMIN, Role.OFFICER, Role.HEAD}


def _is_editor(request: HttpRequest) -> bool:
    """The bureau and department staff who draft items (what they may change: the services)."""
    user = request.user
    return permissions.is_bureau_admin(user) or (
        user.is_authenticated and getattr(user, "role", None) in EDITOR_ROLES)


def _may_view(request: HttpRequest, opts: Any) -> bool:
    """Editors, and whoever holds the model's view permission (supervisors, by their role)."""
    return _is_editor(request) or request.user.has_perm(f"{opts.app_label}.view_{opts.model_name}")


def _visible(request: HttpRequest, qs: QuerySet[Any], path: str) -> QuerySet[Any]:
    """Department staff see their own department's items; the bureau and supervisors all."""
    user = request.user
    if getattr(user, "role", None) in {Role.OFFICER, Role.HEAD} and not user.is_superuser:
        try:
            return qs.filter(**{f"{path}__in": editable_departments(user)})
        except AccessDenied:
            return qs.none()
    return qs


def _run_each(request: HttpRequest, objects: list[Any], call: Callable[[Any], Any],
              done: Any) -> None:
    """Apply a service to each object; report successes and each refusal with its reason."""
    succeeded = 0
    for obj in objects:
        try:
            call(obj)
        except RuleViolation as exc:
            messages.error(request, f"{obj}：{'；'.join(str(p.message) for p in exc.problems)}")
        except AccessDenied as exc:
            messages.error(request, f"{obj}：{exc}")
        else:
            succeeded += 1
    if succeeded:
        messages.success(request, _("%(action)s：%(n)s项") % {"action": done, "n": succeeded})


def _note_page(modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Any],
               *, action: str, title: Any, label: Any,
               apply: Callable[[Any, str], Any], done: Any) -> HttpResponse | None:
    """An intermediate page asking for a note (退回意见 / 取消理由) before applying ``apply``."""
    if "apply" in request.POST:
        form = NoteForm(request.POST)
        if form.is_valid():
            note = form.cleaned_data["note"]
            _run_each(request, list(queryset), lambda obj: apply(obj, note), done)
            return None
    else:
        form = NoteForm()
    form.fields["note"].label = label
    return TemplateResponse(request, "catalog/bureau/admin_note.html", {
        **modeladmin.admin_site.each_context(request),
        "title": title, "objects": list(queryset), "form": form, "action": action,
        "opts": modeladmin.model._meta, "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    })


# --- inlines ------------------------------------------------------------------------------------

class DraftInlineMixin:
    """Inline rows follow their version: editable on a draft, read-only otherwise."""

    def _editable(self, request: HttpRequest, obj: ItemVersion | None) -> bool:
        if obj is None:
            return _is_editor(request)
        return obj.status == VersionStatus.DRAFT and permissions.can_edit_item(
            request.user, obj.item.department)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_view(request, ItemVersion._meta)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(request, obj)


class MaterialInline(DraftInlineMixin, admin.TabularInline[Material, ItemVersion]):
    model = Material
    form = MaterialForm
    # django-stubs types an inline formset's forms as ModelForm[Material] (invariant): ours are MaterialForm.
    formset = MaterialInlineFormSet  # type: ignore[assignment]
    fields = tuple(MATERIAL_FIELDS)

    def get_extra(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> int:
        return 2 if obj is None else 0


class FeeForm(forms.ModelForm[Fee]):
    """A fee line, checked by ``guide_rows.fee_check`` (saved by ``guide_rows.fee_save``)."""

    class Meta:
        model = Fee
        fields = ["name", "amount", "unit", "basis"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and not data.get("DELETE"):
            add_problems(self, guide_rows.fee_check(
                name=data.get("name", ""), amount=data.get("amount"),
                unit=data.get("unit", ""), basis=data.get("basis", "")))
        return data


class FaqForm(forms.ModelForm[Faq]):
    """A FAQ entry, checked by ``guide_rows.faq_check`` (saved by ``guide_rows.faq_save``)."""

    class Meta:
        model = Faq
        fields = ["position", "question", "answer"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and not data.get("DELETE"):
            add_problems(self, guide_rows.faq_check(
                position=data.get("position"), question=data.get("question", ""),
                answer=data.get("answer", "")))
        return data


class ServiceInlineFormSet(BaseInlineFormSet[Any, ItemVersion, Any]):
    """Rows of a draft written through the catalog's services (checked, audited), never by
    the formset itself. ``actor`` is set per request by :meth:`ServiceInlineMixin.get_formset`."""

    actor: permissions.Actor | None = None
    save_service: Callable[..., Any]
    delete_service: Callable[..., Any]
    row_argument: str
    row_fields: list[str]

    def _values(self, form: Any) -> dict[str, Any]:
        return {name: form.cleaned_data.get(name) for name in self.row_fields}

    def save_new(self, form: Any, commit: bool = True) -> Any:
        return type(self).save_service(actor=self.actor, version=self.instance,
                                       **self._values(form))

    def save_existing(self, form: Any, obj: Any, commit: bool = True) -> Any:
        return type(self).save_service(actor=self.actor, version=self.instance,
                                       **{self.row_argument: obj}, **self._values(form))

    def delete_existing(self, obj: Any, commit: bool = True) -> None:
        type(self).delete_service(actor=self.actor, **{self.row_argument: obj})


class FeeInlineFormSet(ServiceInlineFormSet):
    save_service = guide_rows.fee_save
    delete_service = guide_rows.fee_delete
    row_argument = "fee"
    row_fields = FeeForm.Meta.fields


class FaqInlineFormSet(ServiceInlineFormSet):
    save_service = guide_rows.faq_save
    delete_service = guide_rows.faq_delete
    row_argument = "faq"
    row_fields = FaqForm.Meta.fields


class ServiceInlineMixin(DraftInlineMixin):
    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        base = super().get_formset(request, obj, **kwargs)  # type: ignore[misc]
        return type(base.__name__, (base,), {"actor": request.user})


class FeeInline(ServiceInlineMixin, admin.TabularInline[Fee, ItemVersion]):
    model = Fee
    form = FeeForm
    formset = FeeInlineFormSet
    extra = 0


class FaqInline(ServiceInlineMixin, admin.StackedInline[Faq, ItemVersion]):
    model = Faq
    form = FaqForm
    formset = FaqInlineFormSet
    extra = 0


class VersionInline(admin.TabularInline[ItemVersion, Item]):
    """All versions of an item, read-only, each linking to its own page."""

    model = ItemVersion
    fields = ("number", "status", "name", "created_by", "created_at", "published_at",
              "change_note", "review_note")
    readonly_fields = fields
    show_change_link = True
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_view(request, ItemVersion._meta)


# --- item ---------------------------------------------------------------------------------------

@admin.register(Item)
class ItemAdmin(admin.ModelAdmin[Item]):
    list_display = ["implementation_code", "current_name", "department", "current_status"]
    list_filter = ["current__status", "department"]
    search_fields = ["implementation_code", "basic_code", "versions__name"]
    readonly_fields = ("implementation_code", "basic_code", "department", "current",
                       "created_at", "history_link")
    fields = readonly_fields
    inlines = [VersionInline]
    actions = ["cancel_items"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Item]:
        qs = super().get_queryset(request).select_related("department", "current")
        return _visible(request, qs, "department")

    @admin.display(description=_("事项名称"))
    def current_name(self, obj: Item) -> str:
        return obj.current.name if obj.current else ""

    @admin.display(description=_("现行版本状态"))
    def current_status(self, obj: Item) -> str:
        return obj.current.get_status_display() if obj.current else str(_("未发布"))

    @admin.display(description=_("版本历史"))
    def history_link(self, obj: Item) -> str:
        url = reverse("catalog:bureau_item_history", args=[obj.implementation_code])
        return format_html('<a href="{}">{}</a>', url, _("查看版本历史与差异"))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _may_view(request, self.opts)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_view(request, self.opts)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # items are created by saving their first draft

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # history is kept; an item is cancelled, never deleted

    @admin.action(description=_("取消所选事项"))
    def cancel_items(self, request: HttpRequest, queryset: QuerySet[Item]) -> HttpResponse | None:
        return _note_page(
            self, request, queryset, action="cancel_items", title=_("取消事项"), label=_("取消理由"),
            apply=lambda item, note: services.item_cancel(actor=request.user, item=item, reason=note),
            done=_("已取消"))


# --- item version -------------------------------------------------------------------------------

CONTENT_FIELDSETS: list[tuple[Any, dict[str, Any]]] = [
    (_("基本信息"), {"fields": ["name", "item_type", "level", "result_type", "result_name",
                              "service_objects", "topics", "legal_basis", "conditions"]}),
    (_("时限与四办清单"), {"fields": ["commitment", ("legal_limit", "legal_limit_unit"),
                                  ("committed_limit", "committed_limit_unit"), "receiving_unit",
                                  "special_procedures", "process"]}),
    (_("跑动与网办"), {"fields": ["required_visits", "visit_reason", "online_depth",
                               "handling_forms"]}),
    (_("收费"), {"fields": ["charges_fee", "fee_standard", "fee_basis"]}),
    (_("地点与电话"), {"fields": ["location", "office_hours", "consultation_phone",
                               "complaint_phone", "review_route"]}),
]


@admin.register(ItemVersion)
class ItemVersionAdmin(admin.ModelAdmin[ItemVersion]):
    form = ItemVersionForm
    list_display = ["name", "number", "status", "item_code", "item_department", "created_at"]
    list_filter = ["status", "commitment", "item__department"]
    search_fields = ["name", "item__implementation_code"]
    inlines = [MaterialInline, FeeInline, FaqInline]
    actions = ["submit_versions", "publish_versions", "return_versions", "cancel_versions"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ItemVersion]:
        qs = super().get_queryset(request).select_related("item", "item__department")
        return _visible(request, qs, "item__department")

    @admin.display(description=_("实施编码"), ordering="item__implementation_code")
    def item_code(self, obj: ItemVersion) -> str:
        return obj.item.implementation_code

    @admin.display(description=_("实施主体"))
    def item_department(self, obj: ItemVersion) -> str:
        return obj.item.department.name

    @admin.display(description=_("版本历史"))
    def history_link(self, obj: ItemVersion) -> str:
        url = reverse("catalog:bureau_item_history", args=[obj.item.implementation_code])
        return format_html('<a href="{}">{}</a>', url, _("查看版本历史与差异"))

    def get_fieldsets(self, request: HttpRequest, obj: ItemVersion | None = None) -> Any:
        if obj is None:
            codes = ["department", "basic_code", "implementation_code"]
            return [(_("事项"), {"fields": codes}), *CONTENT_FIELDSETS,
                    (_("修改说明"), {"fields": ["change_note"]})]
        meta = ["item_code", "item_department", "number", "status", "history_link", "created_by",
                "created_at", "published_by", "published_at", "review_note"]
        return [(_("版本"), {"fields": meta}), *CONTENT_FIELDSETS,
                (_("修改说明"), {"fields": ["change_note"]})]

    def get_readonly_fields(self, request: HttpRequest, obj: ItemVersion | None = None) -> Any:
        if obj is None:
            return []
        return ["item_code", "item_department", "number", "status", "history_link", "created_by",
                "created_at", "published_by", "published_at", "review_note"]

    def get_form(self, request: HttpRequest, obj: ItemVersion | None = None, change: bool = False,
                 **kwargs: Any) -> Any:
        base = super().get_form(request, obj, change, **kwargs)
        item = obj.item if obj is not None else None

        class BoundForm(base):  # type: ignore[valid-type,misc]  # a class made at run time
            def __init__(self, *args: Any, **kw: Any) -> None:
                kw.setdefault("user", request.user)
                kw.setdefault("item", item)
                super().__init__(*args, **kw)

        return BoundForm

    # Who may do what: the services decide; these only decide what the admin offers.
    def has_module_permission(self, request: HttpRequest) -> bool:
        return _may_view(request, self.opts)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_view(request, self.opts)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_editor(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return _is_editor(request)
        return obj.status == VersionStatus.DRAFT and permissions.can_edit_item(
            request.user, obj.item.department)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # versions are history

    def save_model(self, request: HttpRequest, obj: ItemVersion, form: Any, change: bool) -> None:
        """Nothing here: the draft is written with its materials in :meth:`save_related`."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        materials = next(fs for fs in formsets if isinstance(fs, MaterialInlineFormSet))
        data = form.item_data(materials=materials.materials())
        version = services.item_save_draft(actor=request.user, data=data,
                                           change_note=form.cleaned_data.get("change_note") or "")
        # The admin goes on with the object it built; make it the saved draft.
        obj = form.instance
        for f in ItemVersion._meta.concrete_fields:
            setattr(obj, f.attname, getattr(version, f.attname))
        obj._state.adding = False
        for formset in formsets:
            if formset is materials:
                continue
            # Fees and FAQ belong to the draft just saved; their formsets write each row through
            # the services (``fee_save``, ``faq_save``, …), inside this request's transaction.
            formset.instance = version
            formset.save()

    def construct_change_message(self, request: HttpRequest, form: Any, formsets: Any,
                                 add: bool = False) -> list[dict[str, dict[str, list[str]]]]:
        # The admin's default reads each formset's saved rows; the material formset is not saved
        # row by row (the service rewrites the list), so only the form's changes are logged.
        if add:
            return [{"added": {}}]
        return [{"changed": {"fields": sorted(form.changed_data)}}]

    def changeform_view(self, request: HttpRequest, object_id: str | None = None,
                        form_url: str = "", extra_context: dict[str, Any] | None = None) -> Any:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (RuleViolation, AccessDenied) as exc:
            # A refusal that the form could not foresee (e.g. a concurrent submission): the
            # admin's transaction rolled back, nothing was saved.
            messages.error(request, str(exc))
            return HttpResponseRedirect(request.get_full_path())

    # --- actions ---------------------------------------------------------------------------

    @admin.action(description=_("提交审核"))
    def submit_versions(self, request: HttpRequest, queryset: QuerySet[ItemVersion]) -> None:
        _run_each(request, list(queryset),
                  lambda v: services.version_submit(actor=request.user, version=v), _("已提交审核"))

    @admin.action(description=_("审核通过并发布"))
    def publish_versions(self, request: HttpRequest, queryset: QuerySet[ItemVersion]) -> None:
        _run_each(request, list(queryset),
                  lambda v: services.version_review(actor=request.user, version=v, approve=True),
                  _("已发布"))

    @admin.action(description=_("退回修改"))
    def return_versions(self, request: HttpRequest,
                        queryset: QuerySet[ItemVersion]) -> HttpResponse | None:
        return _note_page(
            self, request, queryset, action="return_versions", title=_("退回修改"),
            label=_("审核意见"),
            apply=lambda v, note: services.version_review(actor=request.user, version=v,
                                                          approve=False, note=note),
            done=_("已退回"))

    @admin.action(description=_("取消所选版本的事项"))
    def cancel_versions(self, request: HttpRequest,
                        queryset: QuerySet[ItemVersion]) -> HttpResponse | None:
        return _note_page(
            self, request, queryset, action="cancel_versions", title=_("取消事项"),
            label=_("取消理由"),
            apply=lambda v, note: services.item_cancel(actor=request.user, item=v.item, reason=note),
            done=_("已取消"))


# --- synonyms -----------------------------------------------------------------------------------

@admin.register(Synonym)
class SynonymAdmin(admin.ModelAdmin[Synonym]):
    """Search synonyms; Django's model permissions (granted by role) decide who edits them."""

    list_display = ["term", "synonyms"]
    search_fields = ["term", "synonyms"]
