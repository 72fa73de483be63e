"""The data resource catalog's writes (政务数据资源目录) and 数源确认.

A department's data officer drafts a version of a resource (:func:`resource_save_draft`) and
submits it (:func:`resource_version_submit`); the data bureau reviews it
(:func:`resource_version_review`): approval publishes it (the previous published version is
superseded, ``Resource.current`` moves), rejection sends it back with the note. Every rule of an
entry is checked by :func:`resource_check` (the pages, the API and the workbook all ask it).

数源: a data item flagged ``is_source`` claims its provider as the authoritative source of the
item's element. Publication refuses a claim that contradicts a confirmed source or that another
department also claims while no source is confirmed; an uncontested claim is confirmed by the
publication itself. The bureau settles contested claims with :func:`element_source_confirm`.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.audit.services import audit_record
from tongban.core.errors import AccessDenied, Problem, RuleViolation
from tongban.organizations.models import Department

from .. import policies
from ..models import (
    Classification,
    DataElement,
    ElementStatus,
    Network,
    OpenType,
    Resource,
    ResourceField,
    ResourceStatus,
    ResourceVersion,
    ShareMethod,
    ShareType,
    UpdateCycle,
)
from . import announcements

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

PERSON_SUBJECT = "DE00002"  # 公民身份号码
COMPANY_SUBJECT = "DE00021"  # 统一社会信用代码
SUBJECT_ELEMENTS = (PERSON_SUBJECT, COMPANY_SUBJECT)
# 类 (1 digit: 1 基础, 2 主题, 3 部门) 项 (2) 目 (3), then an optional 细目 (3).
CATEGORY_RE = re.compile(r"\d{6}(\d{3})?")
CLASS_DIGIT: dict[str, str] = {Classification.BASIC: "1", Classification.THEME: "2",
                               Classification.DEPARTMENT: "3"}
KEY_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")
CODE_RE = re.compile(r"[A-Z0-9][A-Z0-9-]{2,59}")
CLAIMING = (ResourceStatus.PUBLISHED, ResourceStatus.UNDER_REVIEW)


@dataclass
class ItemData:
    """信息项: one data item as a door gives it, bound to an element by identifier."""

    key: str
    name: str
    element: str
    is_subject: bool = False
    is_source: bool = False


@dataclass
class ResourceData:
    """Every field of a catalog entry (domain §7) and its data items."""

    code: str
    name: str
    provider: Department
    classification: str
    category_code: str
    summary: str
    format: str
    share_type: str
    share_method: str
    update_cycle: str
    share_condition: str = ""
    share_basis: str = ""
    open_type: str = OpenType.NONE
    open_condition: str = ""
    network: str = Network.EXTRANET
    related_items: list[str] = field(default_factory=list)
    related_resources: list[str] = field(default_factory=list)
    endpoint_url: str = ""
    items: list[ItemData] = field(default_factory=list)

    VERSION_FIELDS = ("classification", "category_code", "name", "summary", "format",
                      "share_type", "share_condition", "share_basis", "share_method",
                      "open_type", "open_condition", "update_cycle", "network",
                      "related_items", "related_resources", "endpoint_url")

    def version_values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.VERSION_FIELDS}


def version_to_data(version: ResourceVersion) -> ResourceData:
    resource = version.resource
    values = {name: getattr(version, name) for name in ResourceData.VERSION_FIELDS}
    items = [ItemData(key=f.key, name=f.name, element=f.element.identifier,
                      is_subject=f.is_subject, is_source=f.is_source)
             for f in version.fields.select_related("element").order_by("position")]
    return ResourceData(code=resource.code, provider=resource.provider, items=items, **values)


def data_content(data: ResourceData) -> dict[str, Any]:
    """What a ResourceData stores, comparable between a workbook row and a version."""
    values = data.version_values()
    values["provider"] = data.provider.pk
    values["items"] = [(i.key, i.name, i.element, i.is_subject, i.is_source) for i in data.items]
    return values


def _web_address(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not any(
        c.isspace() for c in url)


def _choice(problems: list[Problem], name: str, value: str, choices: Any, label: Any) -> None:
    if value not in choices.values:
        problems.append(Problem(name, _("%(label)s“%(value)s”无效；可选：%(values)s") % {
            "label": label, "value": value,
            "values": "、".join(str(c.label) for c in choices)}))


def resource_check(data: ResourceData, *, elements: dict[str, DataElement] | None = None,
                   known_items: set[str] | None = None,
                   known_resources: set[str] | None = None) -> list[Problem]:
    """Every problem of a catalog entry, each naming its field (``items.3.element`` for the
    fourth data item); [] when it may be saved. ``elements``, ``known_items`` and
    ``known_resources`` let the workbook pass what it already read."""
    problems: list[Problem] = []
    if not CODE_RE.fullmatch(data.code or ""):
        problems.append(Problem("code", _(
            "资源代码应为大写字母、数字和连字符（3至60位），如 LZ-GA-0001")))
    for name, label, limit in (("name", _("资源名称"), 200), ("summary", _("资源摘要"), 2000),
                               ("format", _("资源格式"), 60)):
        value = (getattr(data, name) or "").strip()
        if not value:
            problems.append(Problem(name, _("须填写%(label)s") % {"label": label}))
        elif len(value) > limit:
            problems.append(Problem(name, _("%(label)s不能超过%(n)s个字") % {
                "label": label, "n": limit}))
    _choice(problems, "classification", data.classification, Classification, _("资源分类"))
    _choice(problems, "share_type", data.share_type, ShareType, _("共享类型"))
    _choice(problems, "share_method", data.share_method, ShareMethod, _("共享方式"))
    _choice(problems, "open_type", data.open_type, OpenType, _("开放属性"))
    _choice(problems, "update_cycle", data.update_cycle, UpdateCycle, _("更新周期"))
    _choice(problems, "network", data.network, Network, _("所在网络"))
    code = data.category_code or ""
    if not CATEGORY_RE.fullmatch(code):
        problems.append(Problem("category_code", _(
            "类目编码“%(code)s”应为 类（1位）项（2位）目（3位）共6位数字，细目（3位）可选，"
            "如 101001") % {"code": code}))
    elif data.classification in CLASS_DIGIT and code[0] != CLASS_DIGIT[data.classification]:
        problems.append(Problem("category_code", _(
            "类目编码“%(code)s”的“类”应为 %(digit)s（%(label)s）") % {
            "code": code, "digit": CLASS_DIGIT[data.classification],
            "label": Classification(data.classification).label}))
    if data.share_type == ShareType.NONE and not data.share_basis.strip():
        problems.append(Problem("share_basis", _("不予共享的资源须填写不予共享依据（法律法规依据）")))
    if data.share_type == ShareType.CONDITIONAL and not data.share_condition.strip():
        problems.append(Problem("share_condition", _("有条件共享的资源须填写共享条件")))
    if data.share_method == ShareMethod.INTERFACE and not data.endpoint_url.strip():
        problems.append(Problem("endpoint_url", _("共享方式为接口的资源须填写接口地址")))
    elif data.endpoint_url.strip() and not _web_address(data.endpoint_url.strip()):
        # The platform calls this address for consumers: only a web address, never a local file.
        problems.append(Problem("endpoint_url", _(
            "接口地址须为以 https:// 或 http:// 开头的网址（如 https://data.example.gov.cn/api/hj）")))
    if data.open_type == OpenType.CONDITIONAL and not data.open_condition.strip():
        problems.append(Problem("open_condition", _("有条件开放的资源须填写开放条件")))
    problems.extend(_items_check(data, elements))
    problems.extend(_related_check(data, known_items, known_resources))
    return problems


def _items_check(data: ResourceData, elements: dict[str, DataElement] | None) -> list[Problem]:
    problems: list[Problem] = []
    if not data.items:
        problems.append(Problem("items", _("资源至少须有一个信息项")))
        return problems
    if elements is None:
        elements = {e.identifier: e for e in DataElement.objects.filter(
            identifier__in=[i.element for i in data.items])}
    seen: set[str] = set()
    subjects = []
    for n, item in enumerate(data.items):
        where = f"items.{n}"
        label = item.name or item.key
        if not KEY_RE.fullmatch(item.key or ""):
            problems.append(Problem(f"{where}.key", _(
                "信息项“%(label)s”的字段名“%(key)s”应为小写英文字母开头的标识（字母、数字、下划线，"
                "至多40位），如 id_number") % {"label": label, "key": item.key}))
        elif item.key in seen:
            problems.append(Problem(f"{where}.key", _("字段名“%(key)s”重复") % {"key": item.key}))
        seen.add(item.key)
        if not (item.name or "").strip():
            problems.append(Problem(f"{where}.name", _("信息项“%(key)s”须填写名称") % {
                "key": item.key}))
        element = elements.get(item.element)
        if element is None:
            problems.append(Problem(f"{where}.element", _(
                "信息项“%(label)s”绑定的数据元“%(id)s”不存在") % {
                "label": label, "id": item.element}))
            continue
        if element.status != ElementStatus.PUBLISHED:
            problems.append(Problem(f"{where}.element", _(
                "信息项“%(label)s”绑定的数据元“%(id)s %(name)s”未发布") % {
                "label": label, "id": element.identifier, "name": element.name}))
        if element.personal and data.open_type in (OpenType.CONDITIONAL,
                                                   OpenType.UNCONDITIONAL):
            problems.append(Problem(f"{where}.element", _(
                "开放数据不得包含个人信息：信息项“%(label)s”绑定的数据元“%(id)s %(name)s”"
                "为个人信息") % {"label": label, "id": element.identifier,
                                 "name": element.name}))
        if item.is_subject:
            subjects.append((where, item, element))
    if len(subjects) > 1:
        problems.append(Problem(subjects[1][0] + ".is_subject", _(
            "资源只能有一个主体标识信息项（现有：%(keys)s）") % {
            "keys": "、".join(s[1].key for s in subjects)}))
    if data.share_method in (ShareMethod.TABLE, ShareMethod.INTERFACE):
        if not subjects:
            problems.append(Problem("items", _(
                "共享方式为库表或接口的资源须有一个主体标识信息项"
                "（绑定 DE00002 公民身份号码或 DE00021 统一社会信用代码）")))
        elif subjects[0][2].identifier not in SUBJECT_ELEMENTS:
            problems.append(Problem(subjects[0][0] + ".is_subject", _(
                "主体标识信息项“%(label)s”须绑定 DE00002 公民身份号码或 DE00021 统一社会信用代码"
                "（现为 %(id)s）") % {"label": subjects[0][1].name,
                                      "id": subjects[0][2].identifier}))
    return problems


def _related_check(data: ResourceData, known_items: set[str] | None,
                   known_resources: set[str] | None) -> list[Problem]:
    from tongban.catalog.models import Item

    problems: list[Problem] = []
    if data.related_items:
        known = known_items if known_items is not None else set(
            Item.objects.filter(implementation_code__in=data.related_items)
            .values_list("implementation_code", flat=True))
        missing = [c for c in data.related_items if c not in known]
        if missing:
            problems.append(Problem("related_items", _("关联服务事项的实施编码不存在：%(codes)s") % {
                "codes": "、".join(missing)}))
    if data.related_resources:
        known = known_resources if known_resources is not None else set(
            Resource.objects.filter(code__in=data.related_resources)
            .values_list("code", flat=True))
        missing = [c for c in data.related_resources if c not in known and c != data.code]
        if missing:
            problems.append(Problem("related_resources", _("关联资源的资源代码不存在：%(codes)s") % {
                "codes": "、".join(missing)}))
    return problems


# --- drafts, submission, review ----------------------------------------------------------------

def _require(allowed: bool) -> None:
    if not allowed:
        raise AccessDenied(_("您无权执行此操作"))


def _write_version(version: ResourceVersion, data: ResourceData,
                   elements: dict[str, DataElement]) -> None:
    for name, value in data.version_values().items():
        setattr(version, name, value)
    version.save()
    version.fields.all().delete()
    ResourceField.objects.bulk_create([
        ResourceField(version=version, position=n + 1, name=item.name.strip(), key=item.key,
                      element=elements[item.element], is_subject=item.is_subject,
                      is_source=item.is_source)
        for n, item in enumerate(data.items)])


def _elements_of(data: ResourceData) -> dict[str, DataElement]:
    return {e.identifier: e for e in DataElement.objects.filter(
        identifier__in=[i.element for i in data.items])}


@transaction.atomic
def resource_save_draft(*, actor: Actor, data: ResourceData,
                        elements: dict[str, DataElement] | None = None,
                        checked: bool = False) -> ResourceVersion:
    """Draft a new resource or the next version of one; an open draft (or a rejected version)
    is edited in place. A version under review cannot be edited."""
    resource = Resource.objects.select_for_update().filter(code=data.code).first()
    provider_id = resource.provider_id if resource else data.provider.pk
    _require(policies.can_act_for_department(actor, provider_id))
    if resource is not None and resource.provider_id != data.provider.pk:
        raise RuleViolation([Problem("provider", _(
            "资源“%(code)s”的提供方为%(dept)s，不能改为其他部门") % {
            "code": resource.code, "dept": resource.provider.name})])
    elements = elements if elements is not None else _elements_of(data)
    if not checked:
        problems = resource_check(data, elements=elements)
        if problems:
            raise RuleViolation(problems)
    created = resource is None
    if resource is None:
        resource = Resource.objects.create(code=data.code, provider=data.provider)
    version = resource.versions.filter(
        status__in=[ResourceStatus.DRAFT, ResourceStatus.UNDER_REVIEW,
                    ResourceStatus.REJECTED]).order_by("-version").first()
    if version is not None and version.status == ResourceStatus.UNDER_REVIEW:
        raise RuleViolation([Problem("status", _(
            "资源“%(code)s”第%(v)s版正在审核中，审核完成前不能修改") % {
            "code": resource.code, "v": version.version})])
    latest = resource.versions.aggregate(n=Max("version"))["n"] or 0
    if version is None or version.version != latest:
        version = ResourceVersion(resource=resource, version=latest + 1,
                                  created_by=_account(actor))
    version.status = ResourceStatus.DRAFT
    _write_version(version, data, elements)
    audit_record(actor=actor, action="data_resource.drafted", object_type="exchange.resourceversion",
                 object_id=version.pk, detail={"code": resource.code, "version": version.version,
                                               "name": version.name, "created": created})
    return version


def _account(actor: Actor) -> Any:
    from tongban.accounts.permissions import account_of

    return account_of(actor)


@transaction.atomic
def resource_draft_from_form(*, actor: Actor, data: ResourceData, new: bool = False,
                             submit: bool = False) -> ResourceVersion:
    """The data officer's draft form: save the draft (``new``: a resource whose code must not be
    taken yet — the workbook's drafting by code would otherwise edit an existing one) and, with
    ``submit``, submit it for review — both or nothing."""
    if new and Resource.objects.filter(code=data.code).exists():
        raise RuleViolation([Problem("code", _(
            "资源代码“%(code)s”已被使用；修改已有资源请在本部门资源中编辑其草稿") % {
            "code": data.code})])
    version = resource_save_draft(actor=actor, data=data)
    if submit:
        version = resource_version_submit(actor=actor, version=version)
    return version


@transaction.atomic
def resource_version_submit(*, actor: Actor, version: ResourceVersion) -> ResourceVersion:
    version = ResourceVersion.objects.select_for_update().select_related("resource").get(
        pk=version.pk)
    _require(policies.can_act_for_department(actor, version.resource.provider_id))
    if version.status not in (ResourceStatus.DRAFT, ResourceStatus.REJECTED):
        raise RuleViolation([Problem("status", _("只有草稿或已退回的版本可以提交审核（现为%(s)s）") % {
            "s": ResourceStatus(version.status).label})])
    problems = resource_check(version_to_data(version))
    if problems:
        raise RuleViolation(problems)
    version.status = ResourceStatus.UNDER_REVIEW
    version.submitted_at = timezone.now()
    version.save(update_fields=["status", "submitted_at"])
    audit_record(actor=actor, action="data_resource.submitted", object_type="exchange.resourceversion",
                 object_id=version.pk, detail={"code": version.resource.code,
                                               "version": version.version})
    return version


def source_problems(version: ResourceVersion) -> list[Problem]:
    """Why a version's 数源 claims stop its publication ([] when none do)."""
    problems: list[Problem] = []
    provider_id = version.resource.provider_id
    for item in version.fields.filter(is_source=True).select_related(
            "element", "element__source_department"):
        element = item.element
        if element.source_department_id is not None:
            if element.source_department_id != provider_id:
                problems.append(Problem(f"items.{item.key}.is_source", _(
                    "信息项“%(item)s”申报为数据元“%(id)s %(name)s”的数源，但该数据元已确认的数源部门为"
                    "%(dept)s；请取消数源标记后重新提交，或由数据管理部门在数源冲突中重新确认") % {
                    "item": item.name, "id": element.identifier, "name": element.name,
                    "dept": element.source_department.name}))  # type: ignore[union-attr]
            continue
        others = sorted(set(ResourceField.objects.filter(
            element=element, is_source=True, version__status__in=CLAIMING)
            .exclude(version__resource__provider_id=provider_id)
            .values_list("version__resource__provider__name", flat=True)))
        if others:
            problems.append(Problem(f"items.{item.key}.is_source", _(
                "信息项“%(item)s”申报为数据元“%(id)s %(name)s”的数源，%(others)s也申报了该数据元的"
                "数源，数源尚未确认；请先在数源冲突中确认数源部门") % {
                "item": item.name, "id": element.identifier, "name": element.name,
                "others": "、".join(others)}))
    return problems


def _publish(actor: Actor, version: ResourceVersion, note: str) -> None:
    now = timezone.now()
    problems = source_problems(version)
    if problems:
        raise RuleViolation(problems)
    resource = version.resource
    resource.versions.filter(status=ResourceStatus.PUBLISHED).update(
        status=ResourceStatus.SUPERSEDED)
    version.status = ResourceStatus.PUBLISHED
    version.published_on = timezone.localdate(now)
    version.reviewed_at, version.reviewed_by = now, _account(actor)
    version.review_note = note
    version.save()
    resource.current = version
    resource.save(update_fields=["current"])
    # Uncontested claims are confirmed by the publication.
    for item in version.fields.filter(is_source=True, element__source_department__isnull=True):
        DataElement.objects.filter(pk=item.element_id).update(
            source_department_id=resource.provider_id, source_confirmed_at=now,
            source_reason=str(_("资源%(code)s发布时确认（无其他部门申报）") % {
                "code": resource.code}))
        audit_record(actor=actor, action="data_element.source_confirmed",
                     object_type="exchange.dataelement", object_id=item.element_id,
                     detail={"department": resource.provider_id, "by_resource": resource.code})


@transaction.atomic
def resource_version_review(*, actor: Actor, version: ResourceVersion, approve: bool,
                            note: str = "") -> ResourceVersion:
    """The data bureau's review: approve publishes, reject sends the version back."""
    _require(policies.is_data_bureau(actor))
    version = ResourceVersion.objects.select_for_update().select_related("resource").get(
        pk=version.pk)
    if version.status != ResourceStatus.UNDER_REVIEW:
        raise RuleViolation([Problem("status", _("只有审核中的版本可以审核（现为%(s)s）") % {
            "s": ResourceStatus(version.status).label})])
    if approve:
        _publish(actor, version, note)
    else:
        if not note.strip():
            raise RuleViolation([Problem("note", _("退回须填写审核意见"))])
        version.status = ResourceStatus.REJECTED
        version.review_note = note
        version.reviewed_at, version.reviewed_by = timezone.now(), _account(actor)
        version.save()
    audit_record(actor=actor, action="data_resource.published" if approve else "data_resource.rejected",
                 object_type="exchange.resourceversion", object_id=version.pk,
                 detail={"code": version.resource.code, "version": version.version,
                         "note": note})
    announcements.resource_reviewed(version, approved=approve)
    return version


@transaction.atomic
def resource_publish_direct(*, actor: Actor, data: ResourceData,
                            elements: dict[str, DataElement] | None = None,
                            checked: bool = False) -> ResourceVersion:
    """The data bureau's own publication (the workbook): draft, submit and approve at once."""
    _require(policies.is_data_bureau(actor))
    version = resource_save_draft(actor=actor, data=data, elements=elements, checked=checked)
    version.status = ResourceStatus.UNDER_REVIEW
    version.submitted_at = timezone.now()
    version.save(update_fields=["status", "submitted_at"])
    _publish(actor, version, "")
    audit_record(actor=actor, action="data_resource.published", object_type="exchange.resourceversion",
                 object_id=version.pk, detail={"code": data.code, "version": version.version,
                                               "direct": True})
    return version


@transaction.atomic
def element_source_confirm(*, actor: Actor, identifier: str, department: Department,
                           reason: str) -> DataElement:
    """The data bureau confirms one department as the source of an element, with a reason.

    The claiming departments see the outcome on their data officer page (本部门资源 → 数源确认结果).
    """
    _require(policies.is_data_bureau(actor))
    element = DataElement.objects.select_for_update().filter(identifier=identifier).first()
    if element is None:
        raise RuleViolation([Problem("identifier", _("数据元“%(id)s”不存在") % {
            "id": identifier})])
    if not reason.strip():
        raise RuleViolation([Problem("reason", _("确认数源须填写理由"))])
    claimants = set(ResourceField.objects.filter(
        element=element, is_source=True, version__status__in=CLAIMING)
        .values_list("version__resource__provider_id", flat=True))
    if department.pk not in claimants:
        raise RuleViolation([Problem("department", _(
            "%(dept)s没有申报数据元“%(id)s”的数源，只能在申报的部门中确认") % {
            "dept": department.name, "id": identifier})])
    element.source_department = department
    element.source_confirmed_at = timezone.now()
    element.source_reason = reason.strip()
    element.save(update_fields=["source_department", "source_confirmed_at", "source_reason",
                                "updated_at"])
    audit_record(actor=actor, action="data_element.source_confirmed",
                 object_type="exchange.dataelement", object_id=element.pk,
                 detail={"identifier": identifier, "department": department.pk,
                         "claimants": sorted(claimants), "reason": reason.strip()})
    announcements.source_confirmed(element, claimants)
    return element
