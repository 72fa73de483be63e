"""Pages of the automatic decisions (秒批): the bureau's rule sets (import a JDM file, export,
publish, retire), the figures per item, and the applicant's human review (人工复核) posted from
the case page. The case pages' panels are template tags (``decisions_tags``). Thin: the rules
are in ``services`` and ``policies``."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from tongban.accounts.models import Role
from tongban.cases import selectors as case_selectors
from tongban.cases.policies import is_applicant_side
from tongban.catalog.models import Item
from tongban.core.access import require_roles
from tongban.core.errors import AccessDenied, RuleViolation

from . import policies, selectors
from .models import RuleSet, RuleSetStatus
from .services import automatic, rule_sets

READERS = tuple(sorted(policies.READERS))
APPLICANTS = (Role.CITIZEN, Role.ENTERPRISE)
MAX_FILE_BYTES = 1024 * 1024  # a JDM file of a few tables is some kilobytes


class ImportForm(forms.Form):
    item = forms.CharField(label=_("事项实施编码"), max_length=40)
    file = forms.FileField(label=_("规则文件（JDM，.json）"))


def _problems(exc: RuleViolation) -> list[str]:
    return [f"{p.field}：{p.message}" if p.field else str(p.message) for p in exc.problems]


def _list_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    manage = policies.can_manage_rule_sets(request.user)
    rows = [{"rule_set": r, "can_publish": manage and r.status == RuleSetStatus.DRAFT,
             "can_retire": manage and r.status == RuleSetStatus.PUBLISHED,
             "is_published": r.status == RuleSetStatus.PUBLISHED}
            for r in selectors.rule_sets()]
    return {"rows": rows, "can_manage": manage, "form": extra.pop("form", None) or ImportForm(),
            "max_kb": MAX_FILE_BYTES // 1024, **extra}


@require_roles(*READERS)
def rule_set_list(request: HttpRequest) -> HttpResponse:
    """Every rule set with its item, version, state and test cases; the bureau imports, exports,
    publishes and retires here."""
    return render(request, "decisions/rule_sets.html", _list_context(request))


@require_roles(Role.ADMIN)
@require_POST
def rule_set_import(request: HttpRequest) -> HttpResponse:
    """Upload a JDM file as the item's draft rule set; a faulty file is refused whole, each
    problem named."""
    form = ImportForm(request.POST, request.FILES)
    problems: list[str] = []
    if form.is_valid():
        upload = form.cleaned_data["file"]
        item = Item.objects.filter(implementation_code=form.cleaned_data["item"].strip()).first()
        if upload.size is not None and upload.size > MAX_FILE_BYTES:
            problems.append(str(_("文件过大（上限 %(kb)s KB）") % {"kb": MAX_FILE_BYTES // 1024}))
        elif item is None:
            problems.append(str(_("实施编码为%(c)s的事项不存在") % {"c": form.cleaned_data["item"][:40]}))
        else:
            try:
                draft = rule_sets.rule_set_import(actor=request.user, item=item,
                                                  text=upload.read())
            except RuleViolation as exc:
                problems = _problems(exc)
            except AccessDenied as exc:
                raise PermissionDenied(str(exc)) from exc
            else:
                messages.success(request, _("已导入“%(name)s”第%(v)s版（草稿），测试用例通过后可发布。") % {
                    "name": draft.name, "v": draft.version})
                return redirect("decisions:rule_sets")
    return render(request, "decisions/rule_sets.html",
                  _list_context(request, form=form, import_problems=problems), status=422)


def _rule_set(pk: int) -> RuleSet:
    found = RuleSet.objects.select_related("item").filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


@require_roles(*READERS)
def rule_set_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The rule set as a JDM file (the GoRules editor opens it; importing it again gives the
    same rule set)."""
    rule_set = _rule_set(pk)
    body = json.dumps(rule_sets.rule_set_export(rule_set), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    name = f"{rule_set.item.implementation_code}-v{rule_set.version}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _act(request: HttpRequest, pk: int, act: Any, done: Any) -> HttpResponse:
    rule_set = _rule_set(pk)
    try:
        act(rule_set)
    except AccessDenied as exc:
        raise PermissionDenied(str(exc)) from exc
    except RuleViolation as exc:
        return render(request, "decisions/rule_sets.html", _list_context(
            request, action_problems={"id": rule_set.pk, "problems": _problems(exc)}), status=422)
    messages.success(request, done % {"name": rule_set.name, "v": rule_set.version})
    return redirect("decisions:rule_sets")


@require_roles(Role.ADMIN)
@require_POST
def rule_set_publish(request: HttpRequest, pk: int) -> HttpResponse:
    """Publish a draft once every test case passes; a failing case refuses it, named."""
    return _act(request, pk, lambda r: rule_sets.rule_set_publish(actor=request.user, rule_set=r),
                _("已发布“%(name)s”第%(v)s版，此后提交的申请将自动审批。"))


@require_roles(Role.ADMIN)
@require_POST
def rule_set_retire(request: HttpRequest, pk: int) -> HttpResponse:
    """Stop deciding automatically with a published rule set (with a reason)."""
    reason = request.POST.get("reason", "").strip()
    return _act(request, pk, lambda r: rule_sets.rule_set_retire(actor=request.user, rule_set=r,
                                                               reason=reason),
                _("已停用“%(name)s”第%(v)s版，此后提交的申请由工作人员办理。"))


@require_roles(*READERS)
def figures(request: HttpRequest) -> HttpResponse:
    """Per item: the share decided automatically, the median time to decision, the human
    reviews asked for and the decisions reversed after them."""
    return render(request, "decisions/figures.html", {"rows": selectors.figures()})


@require_roles(*APPLICANTS)
@require_POST
def human_review(request: HttpRequest, number: str) -> HttpResponse:
    """人工复核: the applicant has the automatic decision taken again by a human."""
    case = case_selectors.case_find(request.user, number)
    if case is None or not is_applicant_side(request.user, case):
        raise Http404
    version = request.POST.get("version", "")
    try:
        automatic.review_request(actor=request.user, case=case,
                                 reason=request.POST.get("reason", "").strip(),
                                 expected_version=int(version) if version.isdecimal() else None)
    except AccessDenied as exc:
        raise PermissionDenied(str(exc)) from exc
    except RuleViolation as exc:
        messages.error(request, "；".join(str(p.message) for p in exc.problems))
    else:
        messages.success(request, _("已申请人工复核，工作人员将重新审查并作出决定。"))
    return redirect(reverse("cases:my_case", args=[case.number]) + "#auto-decision")

