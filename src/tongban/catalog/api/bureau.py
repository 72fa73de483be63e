"""Write API of the catalog for the bureau and the departments, plus the quality report.

Every write uses the default auth (bearer token or session) and goes through
``catalog.services``: a refused permission is 403, a broken rule is 422 with a list of
``{field, message}`` where ``field`` is the JSON path of the faulty value in the request body
(``committed_limit``, ``materials[2].copy_copies`` — material indices count from 0).
The quality report (事项梳理) is a public read.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.errors import HttpError

from tongban.accounts import permissions
from tongban.core.errors import AccessDenied, Problem, RuleViolation
from tongban.organizations.models import LEVEL_DIGIT, Department, Division, Level

from .. import reports, services
from ..models import Item, ItemVersion, VersionStatus
from ..rules import ItemData, MaterialData
from ..schemas import DepartmentRef, MaterialOut, local_iso
from .public import ErrorOut, ProblemsOut

router = Router(tags=["catalog: bureau"])

S = VersionStatus
# Upper bounds of the database columns; lower bounds are the rules' business (with their message).
SMALL_INT = 32767
INT = 2147483647


# --- write schemas --------------------------------------------------------------------------

class MaterialIn(Schema):
    name: str = Field(max_length=200)
    material_type: str = Field(description="original 原件 / copy 复印件 / both 原件和复印件")
    form: str = Field(description="paper 纸质 / electronic 电子 / both 纸质和电子")
    necessity: str = Field(description="required 必要 / optional 非必要 / deferrable 容缺")
    source: str = Field(description="applicant 申请人自备 / government 政府部门核发 / other 其他")
    licence_type: str = Field("", max_length=100)
    original_copies: int = Field(0, le=SMALL_INT)
    copy_copies: int = Field(0, le=SMALL_INT)
    notes: str = ""
    legal_basis: str = ""


class DraftIn(Schema):
    """Every field of an item version; saving creates the item, or its draft, or a new draft."""

    department: int | str = Field(description="实施主体: the department's id or 统一社会信用代码")
    basic_code: str = Field(description="基本编码, 12 characters")
    implementation_code: str = Field(
        "", description="实施编码; empty: USCC of the department + level digit + basic code")
    name: str = Field(max_length=200)
    item_type: str = Field(description="two-digit type code, e.g. 01 行政许可, 20 公共服务")
    level: str | None = Field(None, description="行使层级; default: the department's level")
    commitment: str = Field(description="on_the_spot / same_day / time_limited / proxy")
    legal_limit: int = Field(le=INT)
    legal_limit_unit: str = Field(description="working_days / natural_days")
    committed_limit: int = Field(le=INT)
    committed_limit_unit: str = Field(description="working_days / natural_days")
    required_visits: int = Field(le=SMALL_INT)
    visit_reason: str = ""
    online_depth: int = Field(1, le=SMALL_INT, description="1–4; 4 = 全程网办")
    handling_forms: list[str] = Field(default_factory=list, description="window / online / post")
    charges_fee: bool = False
    fee_standard: str = ""
    fee_basis: str = ""
    conditions: str = ""
    legal_basis: str = ""
    service_objects: list[str] = Field(default_factory=list,
                                       description="natural_person / legal_person")
    topics: list[str] = Field(default_factory=list)
    location: str = ""
    office_hours: str = ""
    consultation_phone: str = Field("", max_length=40)
    complaint_phone: str = Field("", max_length=40)
    result_type: str = Field("other", description="licence / approval / other")
    result_name: str = Field("", max_length=200)
    receiving_unit: int | str | None = Field(
        None, description="代办受理单位 (proxy items): a department's id or USCC")
    special_procedures: str = ""
    process: str = ""
    review_route: str = ""
    change_note: str = Field("", max_length=300)
    materials: list[MaterialIn] = Field(default_factory=list)


class ReviewIn(Schema):
    approve: bool
    note: str = Field("", max_length=300)


class CancelIn(Schema):
    reason: str = Field(max_length=300)


class StaffVersionOut(Schema):
    """One version of an item as its editors see it, draft or not."""

    implementation_code: str
    basic_code: str
    department: DepartmentRef
    version: int
    status: str
    status_label: str
    change_note: str
    review_note: str
    created_by: str | None
    created_at: datetime
    published_by: str | None
    published_at: datetime | None
    name: str
    item_type: str
    level: str
    commitment: str
    legal_limit: int
    legal_limit_unit: str
    committed_limit: int
    committed_limit_unit: str
    required_visits: int
    visit_reason: str
    online_depth: int
    handling_forms: list[str]
    charges_fee: bool
    fee_standard: str
    fee_basis: str
    conditions: str
    legal_basis: str
    service_objects: list[str]
    topics: list[str]
    location: str
    office_hours: str
    consultation_phone: str
    complaint_phone: str
    result_type: str
    result_name: str
    receiving_unit: str | None  # USCC
    special_procedures: str
    process: str
    review_route: str
    materials: list[MaterialOut]

    @staticmethod
    def from_version(v: ItemVersion) -> StaffVersionOut:
        values = {name: getattr(v, name) for name in ItemData.VERSION_FIELDS}
        values["receiving_unit"] = v.receiving_unit.uscc if v.receiving_unit else None
        return StaffVersionOut(
            implementation_code=v.item.implementation_code, basic_code=v.item.basic_code,
            department=DepartmentRef.from_department(v.item.department), version=v.number,
            status=v.status, status_label=str(S(v.status).label), change_note=v.change_note,
            review_note=v.review_note,
            created_by=v.created_by.username if v.created_by else None,
            created_at=timezone.localtime(v.created_at),
            published_by=v.published_by.username if v.published_by else None,
            published_at=local_iso(v.published_at),
            materials=[MaterialOut.from_material(m) for m in v.materials.all()],
            **values,
        )


# --- helpers --------------------------------------------------------------------------------

MATERIAL_PATH_RE = re.compile(r"^materials\[(\d+)\]\.(.+)$")


def _json_paths(problems: list[Problem]) -> list[Problem]:
    """The rules count materials from 1 (as people do); JSON paths count from 0."""
    out = []
    for p in problems:
        match = MATERIAL_PATH_RE.match(p.field)
        field = f"materials[{int(match.group(1)) - 1}].{match.group(2)}" if match else p.field
        out.append(Problem(field=field, message=p.message))
    return out


def _department(value: int | str | None) -> Department | None:
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return Department.objects.filter(pk=value).select_related("division").first()
    return reports.find_department(value)


def _item_data(payload: DraftIn) -> ItemData:
    department = _department(payload.department)
    receiving_unit = _department(payload.receiving_unit)
    if payload.receiving_unit not in (None, "") and receiving_unit is None:
        raise RuleViolation([Problem(field="receiving_unit", message=_("代办受理单位不存在"))])
    level = payload.level or (department.level if department else "")
    code = payload.implementation_code.strip().upper()
    if not code and department is not None and level in LEVEL_DIGIT:
        code = department.uscc + LEVEL_DIGIT[Level(level)] + payload.basic_code.strip()
    values = payload.model_dump(include=set(ItemData.VERSION_FIELDS) - {"receiving_unit", "level"})
    return ItemData(
        implementation_code=code, basic_code=payload.basic_code.strip(), department=department,
        level=level, receiving_unit=receiving_unit,
        materials=[MaterialData(**m.model_dump()) for m in payload.materials], **values,
    )


def _item(code: str) -> Item:
    item = Item.objects.select_related("department").filter(implementation_code=code).first()
    if item is None:
        raise HttpError(404, _("没有实施编码为“%(code)s”的事项") % {"code": code})
    return item


def _out(version: ItemVersion) -> StaffVersionOut:
    version = (ItemVersion.objects
               .select_related("item", "item__department", "item__department__division",
                               "created_by", "published_by", "receiving_unit")
               .prefetch_related("materials").get(pk=version.pk))
    return StaffVersionOut.from_version(version)


def _version_problem(message: str) -> RuleViolation:
    return RuleViolation([Problem(field="status", message=message)])


# --- endpoints ------------------------------------------------------------------------------

WRITE_RESPONSES: dict[int, Any] = {200: StaffVersionOut, 403: ErrorOut, 404: ErrorOut,
                                   422: ProblemsOut}


@router.get("/drafts", response={200: list[StaffVersionOut], 403: ErrorOut},
            summary="Drafts and versions under review the caller may edit")
def list_drafts(request: HttpRequest) -> Any:
    """The bureau sees every department's; department officers and heads their own."""
    versions = (reports.staff_versions(user=request.user)
                .select_related("item__department__division", "published_by"))
    return [StaffVersionOut.from_version(v) for v in versions]


@router.post("/drafts", response=WRITE_RESPONSES, summary="Create or update an item's draft")
def save_draft(request: HttpRequest, payload: DraftIn) -> Any:
    """Saves the draft of the item ``implementation_code`` (creating the item if it is new).

    A published version is never changed: if the item has no draft, a new one is made. Rule
    violations answer 422 with ``[{field, message}]``, ``field`` being the JSON path.
    """
    data = _item_data(payload)
    try:
        version = services.item_save_draft(actor=request.user, data=data,
                                           change_note=payload.change_note)
    except RuleViolation as exc:
        raise RuleViolation(_json_paths(exc.problems)) from exc
    return _out(version)


@router.post("/items/{implementation_code}/submit", response=WRITE_RESPONSES,
             summary="Submit an item's draft for review")
def submit_item(request: HttpRequest, implementation_code: str) -> Any:
    item = _item(implementation_code)
    working = reports.working_version(item)
    if working is None or working.status != S.DRAFT:
        if not permissions.can_edit_item(request.user, item.department):
            raise AccessDenied(_("您无权执行此操作"))
        if working is None:
            raise _version_problem(_("该事项没有草稿"))
    assert working is not None
    return _out(services.version_submit(actor=request.user, version=working))


@router.post("/items/{implementation_code}/review", response=WRITE_RESPONSES,
             summary="Publish or return the version under review (bureau only)")
def review_item(request: HttpRequest, implementation_code: str, payload: ReviewIn) -> Any:
    """``approve: true`` publishes (the previous published version is superseded);
    ``approve: false`` returns the version to draft with ``note`` (required)."""
    item = _item(implementation_code)
    working = reports.working_version(item)
    if working is None or working.status != S.UNDER_REVIEW:
        if not permissions.can_publish_item(request.user):
            raise AccessDenied(_("您无权执行此操作"))
        raise _version_problem(_("该事项没有待审核的版本"))
    version = services.version_review(actor=request.user, version=working,
                                      approve=payload.approve, note=payload.note)
    return _out(version)


@router.post("/items/{implementation_code}/cancel", response=WRITE_RESPONSES,
             summary="Cancel an item (bureau only)")
def cancel_item(request: HttpRequest, implementation_code: str, payload: CancelIn) -> Any:
    """The published version is cancelled and leaves the public catalog; history is kept."""
    item = services.item_cancel(actor=request.user, item=_item(implementation_code),
                                reason=payload.reason)
    cancelled = item.versions.filter(status=S.CANCELLED).order_by("-number").first()
    assert cancelled is not None
    return _out(cancelled)


@router.get("/items/{implementation_code}/history",
            response={200: list[StaffVersionOut], 403: ErrorOut, 404: ErrorOut},
            summary="Every version of an item, drafts included (its editors only)")
def item_history(request: HttpRequest, implementation_code: str) -> Any:
    item = _item(implementation_code)
    if not permissions.can_edit_item(request.user, item.department):
        raise AccessDenied(_("您无权查看该事项的版本历史"))
    versions = reports.version_history(item).select_related(
        "item", "item__department", "item__department__division")
    return [StaffVersionOut.from_version(v) for v in versions]


# --- quality report (public) ----------------------------------------------------------------

class ResponsibleItemOut(Schema):
    implementation_code: str
    name: str
    department: str
    required_visits: int
    legal_days: float  # working days
    committed_days: float  # working days
    limit_ratio: float | None


class TargetCheckOut(Schema):
    key: str
    label: str
    target: float
    actual: float | None
    met: bool
    responsible_label: str
    responsible: list[ResponsibleItemOut]  # listed only when the target is missed


class FiguresOut(Schema):
    kind: str  # city / division / department
    key: str  # division code or department USCC ("" for the city)
    name: str
    items: int
    per_commitment: dict[str, int]
    timed_items: int
    legal_days: float
    committed_days: float
    saved_days: float
    time_reduction: float | None
    max_one_visit: int
    max_one_visit_share: float | None
    zero_visit: int
    zero_visit_share: float | None
    fully_online: int
    fully_online_share: float | None
    missed_targets: list[str]
    checks: list[TargetCheckOut]


class QualityReportOut(Schema):
    formulas: dict[str, str]
    targets: dict[str, float]
    scope: FiguresOut
    divisions: list[FiguresOut]
    departments: list[FiguresOut]


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _figures_out(f: reports.Figures) -> FiguresOut:
    return FiguresOut(
        kind=f.kind, key=f.key, name=f.name, items=f.items, per_commitment=f.per_commitment,
        timed_items=f.timed_items, legal_days=round(f.legal_days, 2),
        committed_days=round(f.committed_days, 2), saved_days=round(f.saved_days, 2),
        time_reduction=_round(f.time_reduction), max_one_visit=f.max_one_visit,
        max_one_visit_share=_round(f.max_one_visit_share), zero_visit=f.zero_visit,
        zero_visit_share=_round(f.zero_visit_share), fully_online=f.fully_online,
        fully_online_share=_round(f.fully_online_share),
        missed_targets=[c.key for c in f.missed],
        checks=[TargetCheckOut(
            key=c.key, label=str(c.label), target=c.target, actual=_round(c.actual), met=c.met,
            responsible_label=str(c.responsible_label),
            responsible=[] if c.met else [ResponsibleItemOut(
                implementation_code=i.implementation_code, name=i.name,
                department=i.department_name, required_visits=i.required_visits,
                legal_days=round(i.legal_days, 2), committed_days=round(i.committed_days, 2),
                limit_ratio=_round(i.limit_ratio)) for i in c.responsible],
        ) for c in f.checks],
    )


@router.get("/quality-report", response={200: QualityReportOut, 404: ErrorOut}, auth=None,
            tags=["catalog"], summary="Catalog quality report (事项梳理)")
def quality_report(request: HttpRequest, division: str | None = None,
                   department: str | None = None) -> Any:
    """Figures over the currently published items, city-wide or for a division (with its
    sub-divisions, by code) or a department (id or USCC), with the targets each scope misses."""
    division_obj = None
    if division:
        division_obj = Division.objects.filter(code=division).first()
        if division_obj is None:
            raise HttpError(404, _("没有代码为“%(code)s”的行政区划") % {"code": division})
    department_obj = None
    if department:
        department_obj = reports.find_department(department)
        if department_obj is None:
            raise HttpError(404, _("没有找到部门“%(value)s”") % {"value": department})
    report = reports.quality_report(division=division_obj, department=department_obj)
    return QualityReportOut(
        formulas={
            "time_reduction": _("Σ(法定办结时限 − 承诺办结时限) ÷ Σ法定办结时限，单位为工作日："
                                "自然日 × 5/7 折算为工作日；法定时限为0的事项不计入"),
            "max_one_visit_share": _("到现场次数 ≤ 1 的事项数 ÷ 事项数"),
            "zero_visit_share": _("到现场次数 = 0 的事项数 ÷ 事项数"),
            "fully_online_share": _("网上办理深度为Ⅳ（全程网办）的事项数 ÷ 事项数"),
            "scope": _("只统计当前版本为已发布的事项"),
        },
        targets=report.targets, scope=_figures_out(report.scope),
        divisions=[_figures_out(f) for f in report.divisions],
        departments=[_figures_out(f) for f in report.departments],
    )
