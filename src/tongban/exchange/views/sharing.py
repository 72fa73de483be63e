"""Pages of 供需对接 and the exchange under ``/data/``: the data officers' sharing desk (demands,
answers, gaps, grants and keys, uploads, usage), the data bureau's census, and ★ the citizen's
or company's own "我的数据使用记录"."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from tongban.accounts.models import Role
from tongban.core.access import require_roles
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.organizations.models import Department

from .. import policies
from ..models import RequestStatus, Resource, ShareMethod
from ..selectors import sharing as selectors
from ..services import sharing as services
from ..services import sharing_records as records

DATA_STAFF = (Role.DATA_OFFICER, Role.ADMIN)


def _problems(exc: RuleViolation) -> str:
    return "；".join(str(p) for p in exc.problems)


def _marked(rows: Any) -> list[Any]:
    return selectors.with_marks(rows)


@require_roles(*DATA_STAFF)
def desk(request: HttpRequest) -> HttpResponse:
    """The sharing desk: demands to check (bureau), to answer (provider), the department's own
    demands, the gap list, grants."""
    user = request.user
    department = getattr(user, "department", None)
    return render(request, "exchange/sharing/desk.html", {
        "to_check": _marked(selectors.to_check(user)[:200]),
        "to_answer": _marked(selectors.to_answer(user)[:200]),
        "mine": _marked(selectors.requests_visible(user).filter(
            requester=department)[:200]) if department else [],
        "gaps": list(selectors.gaps(user)[:200]),
        "grants": selectors.with_item_names(list(selectors.grants_visible(user)[:200])),
        "is_bureau": policies.is_data_bureau(user),
        "may_file": policies.is_data_officer(user),
        "uploadable": list(Resource.objects.filter(provider=department).exclude(
            current__share_method=ShareMethod.INTERFACE).select_related("current"))
        if department else [],
    })


class DemandForm(forms.Form):
    resource = forms.CharField(label=_("资源代码"), required=False, max_length=60,
                               help_text=_("如 LZ-GA-0001；无资源提供时留空并填写所需数据元"))
    field_keys = forms.CharField(label=_("所需信息项（字段名，逗号分隔）"), required=False,
                                 max_length=500)
    wanted_elements = forms.CharField(label=_("所需数据元（无资源时，逗号分隔）"), required=False,
                                      max_length=500)
    description = forms.CharField(label=_("需求说明"), required=False, widget=forms.Textarea)
    purpose = forms.CharField(label=_("用途"), widget=forms.Textarea)
    legal_basis = forms.CharField(label=_("依据"), widget=forms.Textarea)
    scenarios = forms.CharField(label=_("应用场景"), required=False, widget=forms.Textarea)
    related_items = forms.CharField(label=_("关联服务事项（实施编码，逗号分隔）"), required=False,
                                    max_length=1000)
    period_from = forms.DateField(label=_("使用期限自"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}))
    period_to = forms.DateField(label=_("使用期限至"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.replace("，", ",").split(",") if p.strip()]


@require_roles(Role.DATA_OFFICER)
def demand_new(request: HttpRequest) -> HttpResponse:
    form = DemandForm(request.POST or None, initial=request.GET.dict() or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        resource = None
        if data["resource"]:
            resource = Resource.objects.filter(code=data["resource"].strip()).first()
            if resource is None:
                form.add_error("resource", _("资源代码不存在"))
        if not form.errors:
            try:
                demand = services.data_request_file(
                    actor=request.user, resource=resource, field_keys=_split(data["field_keys"]),
                    wanted_elements=_split(data["wanted_elements"]),
                    description=data["description"], purpose=data["purpose"],
                    legal_basis=data["legal_basis"], scenarios=data["scenarios"],
                    related_items=_split(data["related_items"]), period_from=data["period_from"],
                    period_to=data["period_to"])
            except AccessDenied as exc:
                raise PermissionDenied from exc
            except RuleViolation as exc:
                for problem in exc.problems:
                    form.add_error(problem.field if problem.field in form.fields else None,
                                   str(problem.message))
            else:
                messages.success(request, _("需求已提交，数据管理部门将在2个工作日内审核"))
                return redirect("exchange:sharing_request", number=demand.number)
    return render(request, "exchange/sharing/demand_new.html", {"form": form},
                  status=400 if form.errors else 200)


def _demand(request: HttpRequest, number: str) -> Any:
    demand = selectors.request_by_number(request.user, number)
    if demand is None:
        raise Http404
    return demand


@require_roles(*DATA_STAFF)
def demand_detail(request: HttpRequest, number: str) -> HttpResponse:
    demand = _demand(request, number)
    user = request.user
    provider_id = demand.resource.provider_id if demand.resource else None
    grant = getattr(demand, "grant", None) if demand.status == RequestStatus.GRANTED else None
    return render(request, "exchange/sharing/demand.html", {
        "demand": demand, "mark": selectors.request_mark(demand),
        "items": selectors.demand_items(demand),
        "events": [{"event": e, "label": services.ACTION_LABELS.get(e.action, e.action)}
                   for e in demand.events.all()],
        "grant": grant,
        "may_check": demand.status == RequestStatus.CHECKING and policies.is_data_bureau(user),
        "may_answer": demand.status == RequestStatus.AT_PROVIDER
        and policies.is_department_data_officer(user, provider_id),
        "may_withdraw": demand.status in services.OPEN
        and policies.is_department_data_officer(user, demand.requester_id),
        "departments": Department.objects.order_by("name").only("pk", "name")
        if demand.resource is None else [],
    })


@require_roles(*DATA_STAFF)
@require_POST
def demand_action(request: HttpRequest, number: str) -> HttpResponse:
    demand = _demand(request, number)
    action = request.POST.get("action", "")
    post = request.POST
    try:
        if action == "check":
            responsible = Department.objects.filter(
                pk=int(post["responsible"])).first() if post.get("responsible", "").isdigit() else None
            services.data_request_check(actor=request.user, request=demand,
                                        responsible=responsible,
                                        refuse_reason=post.get("refuse_reason", ""),
                                        note=post.get("note", ""))
        elif action in ("approve", "refuse"):
            services.data_request_answer(
                actor=request.user, request=demand, approve=action == "approve",
                masked_keys=post.getlist("masked_keys"), reason=post.get("reason", ""),
                legal_basis=post.get("legal_basis", ""),
                calls_per_minute=int(post.get("calls_per_minute") or 60))
        elif action == "withdraw":
            services.data_request_withdraw(actor=request.user, request=demand,
                                           reason=post.get("reason", ""))
        else:
            raise Http404
    except AccessDenied as exc:
        raise PermissionDenied from exc
    except (RuleViolation, ValueError) as exc:
        messages.error(request, _problems(exc) if isinstance(exc, RuleViolation) else str(exc))
    else:
        messages.success(request, _("已办理"))
    return redirect("exchange:sharing_request", number=number)


@require_roles(*DATA_STAFF)
def grant_detail(request: HttpRequest, grant_id: int) -> HttpResponse:
    grant = selectors.grants_visible(request.user).filter(pk=grant_id).first()
    if grant is None:
        raise Http404
    new_key = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "issue":
                _credential, new_key = services.credential_issue(
                    actor=request.user, grant=grant, days=int(request.POST.get("days") or 90))
            elif action == "revoke_key":
                credential = grant.credentials.filter(pk=int(request.POST.get("key", 0))).first()
                if credential is None:
                    raise Http404
                services.credential_revoke(actor=request.user, credential=credential)
                messages.success(request, _("密钥已吊销"))
            elif action == "revoke_grant":
                services.grant_revoke(actor=request.user, grant=grant,
                                      reason=request.POST.get("reason", ""))
                messages.success(request, _("授权已撤销"))
            else:
                raise Http404
        except AccessDenied as exc:
            raise PermissionDenied from exc
        except RuleViolation as exc:
            messages.error(request, _problems(exc))
        except ValueError as exc:
            messages.error(request, str(exc))
    return render(request, "exchange/sharing/grant.html", {
        "grant": selectors.with_item_names([grant])[0],
        "credentials": list(selectors.credentials_of(grant)), "new_key": new_key,
        "may_issue": policies.is_department_data_officer(request.user, grant.consumer_id)
        and grant.revoked_at is None,
        "example": f"/api/v1/exchange/{grant.resource.code}?subject=…"})


class RecordsForm(forms.Form):
    file = forms.FileField(label=_("记录文件（CSV或XLSX）"))
    upsert = forms.BooleanField(label=_("按主体标识更新或新增（不勾选则整体替换）"), required=False)
    dry_run = forms.BooleanField(label=_("只校验，不保存"), required=False)


@require_roles(*DATA_STAFF)
def records_upload(request: HttpRequest, code: str) -> HttpResponse:
    resource = Resource.objects.filter(code=code).select_related("current", "provider").first()
    if resource is None or not policies.is_department_data_officer(
            request.user, resource.provider_id):
        raise Http404
    form = RecordsForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"resource": resource, "form": form,
                               "version": services.describing_version(resource)}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            context["result"] = records.records_import(
                actor=request.user, resource=resource, content=upload.read(),
                file_name=upload.name or "records.csv", replace=not form.cleaned_data["upsert"],
                dry_run=form.cleaned_data["dry_run"])
        except AccessDenied as exc:
            raise PermissionDenied from exc
        except RuleViolation as exc:
            context["problems"] = exc.problems
            return render(request, "exchange/sharing/records.html", context, status=422)
    context["batches"] = list(resource.batches.all()[:20])
    return render(request, "exchange/sharing/records.html", context)


@require_roles(*DATA_STAFF)
def usage(request: HttpRequest) -> HttpResponse:
    department = getattr(request.user, "department", None)
    if department is None:
        raise Http404
    return render(request, "exchange/sharing/usage.html", {
        "department": department,
        "provided": selectors.usage(department=department, side="provider"),
        "called": selectors.usage(department=department, side="consumer"),
        "calls": selectors.uses_with_item_names(
            list(selectors.calls_of(department=department, limit=100)))})


@require_roles(*DATA_STAFF)
def census(request: HttpRequest) -> HttpResponse:
    if not policies.is_data_bureau(request.user):
        raise PermissionDenied
    return render(request, "exchange/sharing/census.html", {"rows": selectors.census(),
                                                            "now": dt.datetime.now(dt.UTC)})


@require_roles(Role.CITIZEN, Role.ENTERPRISE)
def my_data_uses(request: HttpRequest) -> HttpResponse:
    """★ 我的数据使用记录: which department read which of my data items, when, for what."""
    uses = list(selectors.my_data_uses(request.user))
    rows = [{"use": u, "items": names} for u, names in selectors.uses_with_item_names(uses)]
    return render(request, "exchange/sharing/my_data_uses.html", {"rows": rows})


urlpatterns: list[URLPattern] = [
    path("sharing/", desk, name="sharing"),
    path("sharing/requests/new/", demand_new, name="sharing_request_new"),
    path("sharing/requests/<str:number>/", demand_detail, name="sharing_request"),
    path("sharing/requests/<str:number>/act/", demand_action, name="sharing_request_action"),
    path("sharing/grants/<int:grant_id>/", grant_detail, name="sharing_grant"),
    path("sharing/resources/<str:code>/records/", records_upload, name="sharing_records"),
    path("sharing/usage/", usage, name="sharing_usage"),
    path("census/", census, name="census"),
    path("my-data-uses/", my_data_uses, name="my_data_uses"),
]
