"""Forms for editing an item's draft, used by the Django admin and by the staff pages.

The forms hold no rule of their own: ``clean()`` builds an :class:`ItemData` (or
:class:`MaterialData`) and asks :mod:`tongban.catalog.rules`; each problem is put next to the
field it names. Saving always goes through ``services.item_save_draft``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from tongban.accounts import permissions
from tongban.core.errors import Problem
from tongban.core.forms import add_problems
from tongban.organizations.models import LEVEL_DIGIT, Department, Division, Level

from .models import Commitment, HandlingForm, Item, ItemVersion, Material, ServiceObject, VersionStatus
from .reports import editable_departments
from .rules import ItemData, MaterialData, check_item, check_material

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

MATERIAL_PROBLEM_RE = re.compile(r"^materials\[(\d+)\]\.(\w+)$")
TEXTAREA = forms.Textarea(attrs={"rows": 2, "cols": 60})


def split_topics(value: str) -> list[str]:
    """主题分类 typed as text: separated by ; or ；."""
    return [t.strip() for t in re.split(r"[;；]", value or "") if t.strip()]


class ItemVersionForm(forms.ModelForm[ItemVersion]):
    """Every field of an item version, plus the item's codes when a new item is created.

    ``user`` is the editor (their departments limit the choice of 实施主体); ``item`` is the
    existing item being edited, whose codes and department are then fixed.
    """

    department = forms.ModelChoiceField(
        queryset=Department.objects.none(), label=_("实施主体"),
        error_messages={"invalid_choice": _("所选部门不存在，或您无权为该部门编辑事项")})
    basic_code = forms.CharField(label=_("基本编码"), max_length=12,
                                 help_text=_("12位：前2位00（国家）或省份代码，第3–4位事项类型代码"))
    implementation_code = forms.CharField(
        label=_("实施编码"), max_length=31, required=False,
        help_text=_("留空则按“统一社会信用代码+行使层级代码+基本编码”生成"))
    # Lists are stored as JSON; the rules say what is missing, so the fields are not "required".
    handling_forms = forms.MultipleChoiceField(
        label=_("办理形式"), choices=HandlingForm.choices, required=False,
        widget=forms.CheckboxSelectMultiple)
    service_objects = forms.MultipleChoiceField(
        label=_("服务对象"), choices=ServiceObject.choices, required=False,
        widget=forms.CheckboxSelectMultiple)
    topics = forms.CharField(label=_("主题分类"), required=False,
                             help_text=_("多个主题以分号分隔"))

    class Meta:
        model = ItemVersion
        fields = [*ItemData.VERSION_FIELDS, "change_note"]
        widgets = {
            name: TEXTAREA for name in (
                "visit_reason", "fee_standard", "fee_basis", "conditions", "legal_basis",
                "location", "office_hours", "special_procedures", "process", "review_route")
        }

    def __init__(self, *args: Any, user: Actor, item: Item | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.item = item
        department_field = self.fields["department"]
        assert isinstance(department_field, forms.ModelChoiceField)
        department_field.queryset = editable_departments(user).order_by("name")
        if "receiving_unit" in self.fields:  # absent when the admin shows a frozen version
            self.fields["receiving_unit"].required = False
        if isinstance(self.initial.get("topics"), list):
            self.initial["topics"] = "；".join(self.initial["topics"])
        if item is not None:
            # The codes identify the item; an edit never moves it to another department.
            self.initial.update(department=item.department_id, basic_code=item.basic_code,
                                implementation_code=item.implementation_code)
            department_field.queryset = Department.objects.filter(pk=item.department_id)
            for name in ("department", "basic_code", "implementation_code"):
                self.fields[name].disabled = True

    def clean_topics(self) -> list[str]:
        return split_topics(self.cleaned_data.get("topics") or "")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned  # field errors first; the rules need every value
        department = cleaned["department"]
        if not permissions.can_edit_item(self.user, department):
            self.add_error("department", _("您无权编辑该部门的事项"))
            return cleaned
        data = self.item_data(materials=[])
        if self.item is None:
            existing = Item.objects.filter(implementation_code=data.implementation_code).first()
            if existing is not None and existing.versions.filter(
                    status=VersionStatus.UNDER_REVIEW).exists():
                self.add_error(None, _("该事项有一个审核中的版本，请先审核或退回后再修改"))
        # Material problems are the material formset's (see MaterialRulesMixin).
        show_problems([p for p in check_item(data) if not p.field.startswith("materials[")],
                      self, None)
        return cleaned

    def item_data(self, *, materials: list[MaterialData]) -> ItemData:
        """The form's content as the rules and services take it."""
        cd = self.cleaned_data
        department: Department = cd["department"]
        level = cd.get("level") or department.level
        code = (cd.get("implementation_code") or "").strip().upper()
        basic = (cd.get("basic_code") or "").strip()
        if not code and level in LEVEL_DIGIT:
            code = department.uscc + LEVEL_DIGIT[Level(level)] + basic
        values: dict[str, Any] = {name: cd.get(name) for name in ItemData.VERSION_FIELDS}
        for name in ("handling_forms", "service_objects", "topics"):
            values[name] = list(values[name] or [])
        for name in ItemData.VERSION_FIELDS:
            if values[name] is None and name != "receiving_unit":
                values[name] = ""
        return ItemData(implementation_code=code, basic_code=basic, department=department,
                        materials=materials, **values)


MATERIAL_FIELDS = list(MaterialData.__dataclass_fields__)


class MaterialForm(forms.ModelForm[Material]):
    class Meta:
        model = Material
        fields = MATERIAL_FIELDS
        widgets = {"notes": TEXTAREA, "legal_basis": TEXTAREA}

    def material_data(self) -> MaterialData:
        cd = self.cleaned_data
        values: dict[str, Any] = {name: cd.get(name) if cd.get(name) is not None else ""
                                  for name in MATERIAL_FIELDS}
        return MaterialData(**values)


if TYPE_CHECKING:
    _FormSetBase = forms.BaseFormSet[MaterialForm]
else:
    _FormSetBase = object  # the mixin goes in front of a real formset class


class MaterialRulesMixin(_FormSetBase):
    """Checks each material with ``rules.check_material`` and keeps the materials in order."""

    def kept_forms(self) -> list[Any]:
        """The filled-in forms not marked for deletion, in the order the user gave them."""
        kept = []
        initial_count = self.initial_form_count()
        for index, form in enumerate(self.forms):
            if index >= initial_count and not form.has_changed():
                continue  # an untouched blank row
            if self.can_delete and form.cleaned_data.get("DELETE"):
                continue
            kept.append(form)
        return kept

    def clean(self) -> None:
        super().clean()
        for form in self.kept_forms():
            if form.errors:
                continue
            add_problems(form, check_material(form.material_data()))

    def materials(self) -> list[MaterialData]:
        return [form.material_data() for form in self.kept_forms()]


class MaterialFormSet(MaterialRulesMixin, forms.BaseFormSet[MaterialForm]):
    """The materials of a draft on the staff pages (always written as a whole new list)."""


MaterialFormSetFactory = cast(type[MaterialFormSet], forms.formset_factory(
    MaterialForm, formset=MaterialFormSet, extra=2, can_delete=True))


class MaterialInlineFormSet(MaterialRulesMixin,
                            BaseInlineFormSet[Material, ItemVersion, MaterialForm]):
    """The materials of a draft in the Django admin."""


def material_initial(version: ItemVersion | None) -> list[dict[str, Any]]:
    if version is None:
        return []
    return [{name: getattr(m, name) for name in MATERIAL_FIELDS}
            for m in version.materials.all()]


def version_initial(version: ItemVersion) -> dict[str, Any]:
    """Form initial values that start a new draft from ``version``'s content."""
    initial: dict[str, Any] = {name: getattr(version, name) for name in ItemData.VERSION_FIELDS}
    initial["receiving_unit"] = version.receiving_unit_id
    initial["topics"] = "；".join(version.topics)
    return initial


def show_problems(problems: list[Problem], form: forms.BaseForm,
                  formset: MaterialRulesMixin | None) -> None:
    """Put each problem next to the field it names: ``materials[i].x`` on the i-th material's
    form, the rest as every door does (``core.forms.add_problems``)."""
    kept = formset.kept_forms() if formset is not None else []
    rest: list[Problem] = []
    for problem in problems:
        match = MATERIAL_PROBLEM_RE.match(problem.field)
        if match:
            index = int(match.group(1)) - 1
            if 0 <= index < len(kept) and match.group(2) in kept[index].fields:
                kept[index].add_error(match.group(2), problem.message)
                continue
            form.add_error(None, _("第%(n)s项材料：%(message)s") % {
                "n": match.group(1), "message": problem.message})
        else:
            rest.append(problem)
    add_problems(form, rest)


class NoteForm(forms.Form):
    """A review note (退回) or a cancellation reason (取消)."""

    note = forms.CharField(label=_("审核意见"), required=False, max_length=300,
                           widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


class StaffItemFilterForm(forms.Form):
    q = forms.CharField(label=_("名称或编码"), required=False)
    status = forms.ChoiceField(label=_("状态"), required=False, choices=[
        ("", _("全部")), (VersionStatus.DRAFT, _("有草稿")),
        (VersionStatus.UNDER_REVIEW, _("审核中")), (VersionStatus.PUBLISHED, _("已发布")),
        (VersionStatus.CANCELLED, _("已取消"))])
    commitment = forms.ChoiceField(label=_("承诺类别"), required=False)
    department = forms.ModelChoiceField(label=_("实施主体"), required=False,
                                        queryset=Department.objects.none(),
                                        empty_label=_("全部部门"))

    def __init__(self, *args: Any, departments: QuerySet[Department], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["commitment"].choices = [("", _("全部")), *Commitment.choices]  # type: ignore[attr-defined]
        field = self.fields["department"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = departments.order_by("name")


class QualityFilterForm(forms.Form):
    """The quality report's scope: a division (with its sub-divisions) and/or a department."""

    division = forms.ChoiceField(label=_("行政区划（含下级）"), required=False)
    department = forms.ModelChoiceField(label=_("部门"), required=False,
                                        queryset=Department.objects.none(),
                                        empty_label=_("全部部门"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        divisions = Division.objects.filter(departments__isnull=False).distinct().order_by("code")
        # Ancestors of divisions with departments are offered too (e.g. the city above districts).
        codes: dict[str, str] = {}
        for d in divisions.select_related("parent"):
            node: Division | None = d
            while node is not None:
                codes[node.code] = node.name
                node = node.parent
        self.fields["division"].choices = [  # type: ignore[attr-defined]
            ("", _("全市")), *((code, f"{name}（{code}）") for code, name in sorted(codes.items()))]
        field = self.fields["department"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Department.objects.order_by("division__code", "name")
