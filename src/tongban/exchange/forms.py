"""The form at which a data officer drafts a resource (政务数据资源目录) field by field.

The forms only read what was typed: every rule of an entry is the service's
(``services.resources.resource_check``, asked by ``resource_save_draft``); its problems come back
beside the field or the data item row they name (:func:`show_problems`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from tongban.core.errors import Problem
from tongban.core.forms import add_problems
from tongban.organizations.models import Department

from .models import Classification, Network, OpenType, ShareMethod, ShareType, UpdateCycle
from .services.resources import ItemData, ResourceData

ITEM_PROBLEM_RE = re.compile(r"items\.(\d+)\.(\w+)$")
LIST_SPLIT_RE = re.compile(r"[;；,，\s]+")
MAX_ITEMS = 200
TEXTAREA = forms.Textarea(attrs={"rows": 3})


def _choices(choices: Any) -> list[tuple[str, Any]]:
    return [("", _("——请选择——")), *choices.choices]


def _split(value: str) -> list[str]:
    return [part for part in LIST_SPLIT_RE.split(value or "") if part]


class ResourceDraftForm(forms.Form):
    """Every catalog field of a version (``ResourceData.VERSION_FIELDS``), the code and, for the
    data bureau's new resource, the provider."""

    code = forms.CharField(label=_("资源代码"), max_length=60, required=False,
                           help_text=_("大写字母、数字和连字符，如 LZ-GA-0001；保存后不能更改"))
    provider = forms.ModelChoiceField(label=_("资源提供方"), queryset=Department.objects.none(),
                                      required=True)
    name = forms.CharField(label=_("资源名称"), max_length=200, required=False)
    classification = forms.ChoiceField(label=_("资源分类"), choices=_choices(Classification),
                                       required=False)
    category_code = forms.CharField(
        label=_("类目编码"), max_length=20, required=False,
        help_text=_("类（1位，基础1、主题2、部门3）项（2位）目（3位），细目（3位）可选，如 101001"))
    summary = forms.CharField(label=_("资源摘要"), max_length=2000, required=False,
                              widget=TEXTAREA)
    format = forms.CharField(label=_("资源格式"), max_length=60, required=False,
                             help_text=_("如 数据库表、电子表格、接口（JSON）"))
    share_type = forms.ChoiceField(label=_("共享类型"), choices=_choices(ShareType),
                                   required=False)
    share_condition = forms.CharField(label=_("共享条件"), max_length=2000, required=False,
                                      widget=TEXTAREA, help_text=_("有条件共享时必填"))
    share_basis = forms.CharField(label=_("不予共享依据"), max_length=2000, required=False,
                                  widget=TEXTAREA,
                                  help_text=_("不予共享时必填：法律、行政法规或国务院决定的依据"))
    share_method = forms.ChoiceField(label=_("共享方式"), choices=_choices(ShareMethod),
                                     required=False)
    endpoint_url = forms.CharField(label=_("接口地址"), max_length=200, required=False,
                                   help_text=_("共享方式为接口时必填，如 https://data.example.gov.cn/api/hj"))
    open_type = forms.ChoiceField(label=_("开放属性"), choices=OpenType.choices,
                                  initial=OpenType.NONE, required=False)
    open_condition = forms.CharField(label=_("开放条件"), max_length=2000, required=False,
                                     widget=TEXTAREA, help_text=_("有条件开放时必填"))
    update_cycle = forms.ChoiceField(label=_("更新周期"), choices=_choices(UpdateCycle),
                                     required=False)
    network = forms.ChoiceField(label=_("所在网络"), choices=Network.choices,
                                initial=Network.EXTRANET, required=False)
    related_items = forms.CharField(label=_("关联服务事项"), max_length=2000, required=False,
                                    help_text=_("事项实施编码，多个用分号分隔"))
    related_resources = forms.CharField(label=_("关联资源"), max_length=2000, required=False,
                                        help_text=_("资源代码，多个用分号分隔"))

    # What every entry needs (marked *; the service says so when missing).
    MARKED = ("code", "provider", "name", "classification", "category_code", "summary",
              "format", "share_type", "share_method", "open_type", "update_cycle", "network")

    def __init__(self, *args: Any, code: str | None = None,
                 providers: Any = None, **kwargs: Any) -> None:
        """``code``: the resource edited (its code cannot change); ``providers``: the
        departments the data bureau may choose from (None: the provider is given)."""
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        for name in self.MARKED:
            self.fields[name].label = format_lazy("{} *", self.fields[name].label)
            self.fields[name].widget.attrs["aria-required"] = "true"
        if code is not None:
            self.fields["code"].disabled = True
            self.fields["code"].initial = code
            self.fields["code"].help_text = ""
        if providers is None:
            del self.fields["provider"]
        else:
            cast("forms.ModelChoiceField[Department]", self.fields["provider"]).queryset = providers

    def resource_data(self, *, provider: Department | None,
                      items: list[ItemData]) -> ResourceData:
        """What was typed, as the service reads it (``provider``: when the form has none)."""
        d = self.cleaned_data
        chosen = d.get("provider") or provider
        assert chosen is not None
        return ResourceData(
            code=(d["code"] or "").strip(), name=d["name"].strip(), provider=chosen,
            classification=d["classification"], category_code=d["category_code"].strip(),
            summary=d["summary"].strip(), format=d["format"].strip(),
            share_type=d["share_type"], share_condition=d["share_condition"].strip(),
            share_basis=d["share_basis"].strip(), share_method=d["share_method"],
            open_type=d["open_type"], open_condition=d["open_condition"].strip(),
            update_cycle=d["update_cycle"], network=d["network"],
            related_items=_split(d["related_items"]),
            related_resources=_split(d["related_resources"]),
            endpoint_url=d["endpoint_url"].strip(), items=items)


def draft_initial(data: ResourceData) -> dict[str, Any]:
    """Form values that show a stored version (``services.resources.version_to_data``)."""
    initial: dict[str, Any] = data.version_values()
    initial["code"] = data.code
    initial["related_items"] = "；".join(data.related_items)
    initial["related_resources"] = "；".join(data.related_resources)
    return initial


class ItemForm(forms.Form):
    """信息项: one data item row."""

    key = forms.CharField(label=_("字段名"), max_length=40, required=False,
                          widget=forms.TextInput(attrs={"autocapitalize": "off",
                                                        "spellcheck": "false"}))
    name = forms.CharField(label=_("信息项名称"), max_length=100, required=False)
    element = forms.CharField(label=_("数据元"), max_length=20, required=False,
                              widget=forms.TextInput(attrs={"list": "published-elements",
                                                            "autocapitalize": "characters",
                                                            "spellcheck": "false"}))
    is_subject = forms.BooleanField(label=_("主体标识"), required=False)
    is_source = forms.BooleanField(label=_("数源"), required=False)

    def is_blank(self) -> bool:
        d = self.cleaned_data
        return not any((d.get(name) or "").strip() for name in ("key", "name", "element"))

    def item_data(self) -> ItemData:
        d = self.cleaned_data
        return ItemData(key=(d["key"] or "").strip(), name=(d["name"] or "").strip(),
                        element=typed_identifier(d["element"]), is_subject=d["is_subject"],
                        is_source=d["is_source"])


def typed_identifier(value: Any) -> str:
    """The element identifier typed in a row: "DE00002" or "de00002 公民身份号码"."""
    typed = str(value or "").split()
    return typed[0].upper() if typed else ""


if TYPE_CHECKING:
    _FormSetBase = forms.BaseFormSet[ItemForm]
else:
    _FormSetBase = forms.BaseFormSet


class ItemFormSet(_FormSetBase):
    """The data items of a draft, in the order shown; blank rows and rows marked 删除 are not
    saved. ``section_errors``: the service's problems about the items as a whole."""

    section_errors: list[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.section_errors = []

    def kept_forms(self) -> list[ItemForm]:
        kept = []
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or form.is_blank():
                continue
            if self.can_delete and form.cleaned_data.get("DELETE"):
                continue
            kept.append(form)
        return kept

    def items(self) -> list[ItemData]:
        return [form.item_data() for form in self.kept_forms()]


ItemFormSetFactory = cast(type[ItemFormSet], forms.formset_factory(
    ItemForm, formset=ItemFormSet, extra=1, can_delete=True, max_num=MAX_ITEMS,
    validate_max=True))


def item_initial(data: ResourceData | None) -> list[dict[str, Any]]:
    if data is None:
        return []
    return [{"key": i.key, "name": i.name, "element": i.element, "is_subject": i.is_subject,
             "is_source": i.is_source} for i in data.items]


def with_row_added(data: Any, prefix: str = "items") -> Any:
    """The posted data with one more (blank) item row: "添加信息项" without JavaScript."""
    data = data.copy()
    total = data.get(f"{prefix}-TOTAL_FORMS", "")
    count = int(total) if total.isdecimal() else 0
    data[f"{prefix}-TOTAL_FORMS"] = str(min(count + 1, MAX_ITEMS))
    return data


def show_problems(problems: list[Problem], form: forms.BaseForm, formset: ItemFormSet) -> None:
    """Each problem beside what it names: ``items.3.element`` on the fourth kept item row,
    ``items`` above the rows, the rest on the form's fields (or at its top)."""
    kept = formset.kept_forms()
    rest: list[Problem] = []
    for problem in problems:
        match = ITEM_PROBLEM_RE.match(problem.field)
        if problem.field == "items":
            formset.section_errors.append(str(problem.message))
        elif match and int(match.group(1)) < len(kept):
            row = kept[int(match.group(1))]
            row.add_error(match.group(2) if match.group(2) in row.fields else None,
                          str(problem.message))
        elif match:
            formset.section_errors.append(str(problem.message))
        else:
            rest.append(problem)
    add_problems(form, rest)
