"""Pages of the element dictionary (part ``elements``) under ``/data/``.

Public: the published dictionary (``/data/elements/``) and the code lists (``/data/code-lists/``).
Data officers: proposals (``/data/elements/manage/``, new, edit). The data bureau: every draft,
publish, retire, edit of a published element (the next version) and code list uploads. Thin:
the rules are in ``services.elements`` and ``codelist_files``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from tongban.accounts.models import Role
from tongban.core.access import public, require_roles
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.core.forms import add_problems

from .. import codelist_files, policies
from ..elements import ElementData
from ..models import Checker, CodeList, DataElement, DataType, DomainKind, ElementStatus
from ..selectors import elements as selectors
from ..services import elements as services

PAGE_SIZE = 50
ACTIONS = {"data_element.created": _("创建"), "data_element.edited": _("修改"),
           "data_element.published": _("发布"), "data_element.retired": _("废止")}
DATA_ROLES = (Role.ADMIN, Role.DATA_OFFICER)


class ElementForm(forms.Form):
    identifier = forms.CharField(label=_("内部标识符"), max_length=20,
                                 help_text=_("DE 加5至8位数字，如 DE00001；发布后不能更改"))
    name = forms.CharField(label=_("中文名称"), max_length=100)
    name_en = forms.CharField(label=_("英文名称"), max_length=200, required=False)
    definition = forms.CharField(label=_("说明（定义）"), max_length=2000,
                                 widget=forms.Textarea(attrs={"rows": 3}))
    object_class = forms.CharField(label=_("对象类词"), max_length=50, required=False,
                                   help_text=_("如 人、市场主体、不动产"))
    property_term = forms.CharField(label=_("特性词"), max_length=50, required=False)
    representation = forms.CharField(label=_("表示词"), max_length=50, required=False,
                                     help_text=_("如 名称、代码、日期、金额"))
    data_type = forms.ChoiceField(label=_("数据类型"), choices=DataType.choices)
    format = forms.CharField(label=_("表示格式"), max_length=40, required=False,
                             help_text=_("GB/T 19488.1 记法，如 c..50、an18、n6、YYYY-MM-DD"))
    max_length = forms.IntegerField(label=_("最大长度"), required=False, min_value=1,
                                    max_value=10000)
    domain_kind = forms.ChoiceField(label=_("值域类型"), choices=DomainKind.choices)
    pattern = forms.CharField(label=_("格式规则（正则表达式）"), max_length=300, required=False)
    code_list = forms.ChoiceField(label=_("代码集"), required=False)
    checker = forms.ChoiceField(label=_("校验规则"), required=False,
                                choices=[("", "——"), *Checker.choices])
    unit = forms.CharField(label=_("计量单位"), max_length=20, required=False)
    synonyms = forms.CharField(label=_("同义名称"), max_length=500, required=False,
                               help_text=_("多个名称用分号（;）分隔"))
    personal = forms.BooleanField(label=_("个人信息（可识别自然人）"), required=False)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        code_list = self.fields["code_list"]
        assert isinstance(code_list, forms.ChoiceField)
        code_list.choices = [
            ("", "——"), *((c.code, f"{c.code} {c.name}")
                          for c in CodeList.objects.order_by("code"))]
        if editing:
            self.fields["identifier"].disabled = True

    def data_of(self) -> ElementData:
        d = self.cleaned_data
        return ElementData(
            identifier=d["identifier"].strip(), name=d["name"], definition=d["definition"],
            data_type=d["data_type"], name_en=d["name_en"], object_class=d["object_class"],
            property_term=d["property_term"], representation=d["representation"],
            format=d["format"], max_length=d["max_length"], domain_kind=d["domain_kind"],
            pattern=d["pattern"], code_list=d["code_list"], checker=d["checker"], unit=d["unit"],
            synonyms=[s.strip() for s in d["synonyms"].replace("；", ";").split(";") if s.strip()],
            personal=d["personal"])


def _initial(element: DataElement) -> dict[str, Any]:
    data = services.data_of(element)
    return {**data.__dict__, "synonyms": ";".join(data.synonyms or [])}


class RetireForm(forms.Form):
    reason = forms.CharField(label=_("废止理由"), max_length=500,
                             widget=forms.Textarea(attrs={"rows": 2}))


class CodeListUploadForm(forms.Form):
    code = forms.CharField(label=_("代码集标识"), max_length=40, help_text=_("如 GB/T 2260"))
    name = forms.CharField(label=_("名称"), max_length=100, required=False,
                           help_text=_("新代码集必填；已有代码集留空则保持原名称"))
    standard = forms.CharField(label=_("依据标准"), max_length=200, required=False)
    file = forms.FileField(label=_("代码集文件（.csv 或 .xlsx）"))
    dry_run = forms.BooleanField(label=_("只校验不导入 (dry run)"), required=False)


def _element_or_404(request: HttpRequest, identifier: str) -> DataElement:
    element = selectors.element(request.user, identifier)
    if element is None:
        raise Http404
    return element


# --- the dictionary ------------------------------------------------------------------------------

@public
def element_list(request: HttpRequest) -> HttpResponse:
    """The dictionary: published elements (the bureau may also list drafts and retired ones)."""
    q = request.GET.get("q", "").strip()[:100]
    object_class = request.GET.get("object_class", "").strip()[:50]
    status = request.GET.get("status", "")
    if status not in ElementStatus.values or not policies.can_manage_elements(request.user):
        status = ""
    qs = selectors.elements(request.user, q=q, object_class=object_class, status=status)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "exchange/elements/element_list.html", {
        "page_obj": page, "elements": page.object_list, "total": page.paginator.count, "q": q,
        "object_class": object_class, "status": status,
        "object_classes": selectors.object_classes(), "statuses": ElementStatus.choices,
        "is_bureau": policies.can_manage_elements(request.user),
        "is_officer": policies.is_data_officer(request.user)})


@public
def element_export(request: HttpRequest) -> HttpResponse:
    """The published dictionary as an element file (the columns of ``demo-elements.csv``)."""
    qs = selectors.elements(None).select_related("code_list")
    response = HttpResponse(services.elements_csv(qs), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="data-elements.csv"'
    return response


@public
def element_detail(request: HttpRequest, identifier: str) -> HttpResponse:
    element = _element_or_404(request, identifier)
    bureau = policies.can_manage_elements(request.user)
    may_edit = (bureau and element.status != ElementStatus.RETIRED) or (
        policies.is_data_officer(request.user) and element.status == ElementStatus.DRAFT
        and element.submitting_department_id == getattr(request.user, "department_id", None))
    return render(request, "exchange/elements/element_detail.html", {
        "element": element, "is_bureau": bureau, "may_edit": may_edit,
        "uses": services.element_uses(identifier) if bureau else [],
        "history": selectors.element_history(identifier) if bureau else [],
        "actions": ACTIONS,
        "retire_form": RetireForm()})


@require_roles(*DATA_ROLES)
def element_manage(request: HttpRequest) -> HttpResponse:
    """The drafts: every proposal for the bureau, the department's own for a data officer."""
    bureau = policies.can_manage_elements(request.user)
    if not bureau and not policies.is_data_officer(request.user):
        raise PermissionDenied
    drafts = selectors.drafts()
    if not bureau:
        drafts = drafts.filter(
            submitting_department_id=getattr(request.user, "department_id", None))
    return render(request, "exchange/elements/element_manage.html", {
        "drafts": drafts, "is_bureau": bureau})


def _save(request: HttpRequest, form: ElementForm, template: str,
          context: dict[str, Any]) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        try:
            element = services.element_save(actor=request.user, data=form.data_of())
        except AccessDenied as denied:
            raise PermissionDenied(str(denied)) from None
        except RuleViolation as violation:
            add_problems(form, violation)
        else:
            messages.success(request, _("已保存数据元 %(id)s（第 %(v)s 版，%(status)s）") % {
                "id": element.identifier, "v": element.version,
                "status": ElementStatus(element.status).label})
            return redirect("exchange:element_detail", identifier=element.identifier)
    return render(request, template, {"form": form, **context})


@require_roles(*DATA_ROLES)
def element_new(request: HttpRequest) -> HttpResponse:
    if not (policies.can_manage_elements(request.user) or policies.is_data_officer(request.user)):
        raise PermissionDenied
    form = ElementForm(request.POST or None)
    return _save(request, form, "exchange/elements/element_form.html", {"element": None})


@require_roles(*DATA_ROLES)
def element_edit(request: HttpRequest, identifier: str) -> HttpResponse:
    element = _element_or_404(request, identifier)
    form = ElementForm(request.POST or None, initial=_initial(element), editing=True)
    return _save(request, form, "exchange/elements/element_form.html", {"element": element})


@require_POST
@require_roles(*DATA_ROLES)
def element_publish(request: HttpRequest, identifier: str) -> HttpResponse:
    _element_or_404(request, identifier)
    try:
        services.element_publish(actor=request.user, identifier=identifier)
    except AccessDenied as denied:
        raise PermissionDenied(str(denied)) from None
    except RuleViolation as violation:
        messages.error(request, "；".join(str(p.message) for p in violation.problems))
    else:
        messages.success(request, _("已发布数据元 %(id)s") % {"id": identifier})
    return redirect("exchange:element_detail", identifier=identifier)


@require_POST
@require_roles(*DATA_ROLES)
def element_retire(request: HttpRequest, identifier: str) -> HttpResponse:
    _element_or_404(request, identifier)
    form = RetireForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.element_retire(actor=request.user, identifier=identifier, reason=reason)
    except AccessDenied as denied:
        raise PermissionDenied(str(denied)) from None
    except RuleViolation as violation:
        messages.error(request, "；".join(str(p.message) for p in violation.problems))
    else:
        messages.success(request, _("已废止数据元 %(id)s") % {"id": identifier})
    return redirect("exchange:element_detail", identifier=identifier)


# --- code lists ----------------------------------------------------------------------------------

@public
def code_list_index(request: HttpRequest) -> HttpResponse:
    return render(request, "exchange/elements/code_list_index.html", {
        "code_lists": selectors.code_lists(),
        "is_bureau": policies.can_manage_elements(request.user)})


def _code_list_or_404(code: str) -> CodeList:
    found = selectors.code_list(code)
    if found is None:
        raise Http404
    return found


@public
def code_list_detail(request: HttpRequest, code: str) -> HttpResponse:
    found = _code_list_or_404(code)
    return render(request, "exchange/elements/code_list_detail.html", {
        "code_list": found, "entries": selectors.code_entries(found),
        "elements": found.elements.filter(status=ElementStatus.PUBLISHED).order_by("identifier"),
        "is_bureau": policies.can_manage_elements(request.user)})


@public
def code_list_export(request: HttpRequest, code: str) -> HttpResponse:
    """The list as a file: CSV, or XLSX with ``?format=xlsx``."""
    found = _code_list_or_404(code)
    stem = found.code.replace("/", "").replace(" ", "")
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(
            codelist_files.code_list_xlsx(found),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = f'attachment; filename="{stem}.xlsx"'
        return response
    response = HttpResponse(codelist_files.code_list_csv(found),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
    return response


@require_roles(*DATA_ROLES)
def code_list_upload(request: HttpRequest) -> HttpResponse:
    """Replace (or create) a code list from a file: all or nothing, faults named by row."""
    if not policies.can_manage_elements(request.user):
        raise PermissionDenied
    form = CodeListUploadForm(request.POST or None, request.FILES or None,
                              initial={"code": request.GET.get("code", "")})
    context: dict[str, Any] = {"form": form, "max_mb": codelist_files.MAX_BYTES // (1024 * 1024)}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report = codelist_files.code_list_import(
                actor=request.user, code=form.cleaned_data["code"].strip(),
                entries=codelist_files.entries_from_file(upload, upload.name or ""),
                name=form.cleaned_data["name"].strip(),
                standard=form.cleaned_data["standard"].strip() or None,
                dry_run=form.cleaned_data["dry_run"])
        except RuleViolation as violation:
            context["problems"] = violation.problems
        else:
            context["report"] = report
    return render(request, "exchange/elements/code_list_upload.html", context)


urlpatterns: list[URLPattern] = [
    path("elements/", element_list, name="element_list"),
    path("elements/manage/", element_manage, name="element_manage"),
    path("elements/new/", element_new, name="element_new"),
    path("elements/export.csv", element_export, name="element_export"),
    path("elements/<str:identifier>/", element_detail, name="element_detail"),
    path("elements/<str:identifier>/edit/", element_edit, name="element_edit"),
    path("elements/<str:identifier>/publish/", element_publish, name="element_publish"),
    path("elements/<str:identifier>/retire/", element_retire, name="element_retire"),
    path("code-lists/", code_list_index, name="code_list_index"),
    path("code-lists/upload/", code_list_upload, name="code_list_upload"),
    # Codes hold slashes (GB/T 2260): the export's pattern comes before the detail's.
    path("code-lists/<path:code>/export/", code_list_export, name="code_list_export"),
    path("code-lists/<path:code>/", code_list_detail, name="code_list_detail"),
]
