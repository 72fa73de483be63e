"""API schemas of the catalog.

The read schemas describe a published item version as the public sees it; every enumerated
field carries its code and its Chinese label (``*_label``). Times are ISO 8601 in Asia/Shanghai
(+08:00). Write schemas of the bureau API live in their own section below.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone
from ninja import Schema

from tongban.organizations.models import Department, Level

from .models import (
    Commitment,
    Faq,
    Fee,
    HandlingForm,
    ItemType,
    ItemVersion,
    LimitUnit,
    Material,
    OnlineDepth,
    ResultType,
    ServiceObject,
    VersionStatus,
)


def _label(enum: Any, value: Any) -> str:
    try:
        return str(enum(value).label)
    except ValueError:
        return str(value)


def local_iso(value: datetime | None) -> datetime | None:
    """An aware time in the site's time zone, so it serialises with +08:00."""
    return timezone.localtime(value) if value is not None else None


# --- public reads -----------------------------------------------------------------------------

class DepartmentRef(Schema):
    name: str
    uscc: str
    division_code: str
    division_name: str
    level: str
    level_label: str
    consultation_phone: str
    complaint_phone: str
    address: str

    @staticmethod
    def from_department(d: Department) -> DepartmentRef:
        return DepartmentRef(
            name=d.name, uscc=d.uscc, division_code=d.division.code, division_name=d.division.name,
            level=d.level, level_label=_label(Level, d.level),
            consultation_phone=d.consultation_phone, complaint_phone=d.complaint_phone,
            address=d.address,
        )


class ItemOut(Schema):
    """One listed item (a list entry or a search result)."""

    implementation_code: str
    basic_code: str
    name: str
    name_highlighted: str | None = None  # search only: HTML-escaped name with <mark> around matches
    snippet: str | None = None  # search only: excerpt of 受理条件 with <mark> around matches
    item_type: str
    item_type_label: str
    department: str
    department_uscc: str
    receiving_unit: str | None
    commitment: str
    commitment_label: str
    committed_limit: int
    committed_limit_unit: str
    committed_limit_unit_label: str
    required_visits: int
    online_depth: int
    online_depth_label: str
    service_objects: list[str]
    topics: list[str]
    version: int
    published_at: datetime | None

    @staticmethod
    def from_version(v: ItemVersion, *, name_highlighted: str | None = None,
                     snippet: str | None = None) -> ItemOut:
        return ItemOut(
            implementation_code=v.item.implementation_code, basic_code=v.item.basic_code,
            name=v.name, name_highlighted=name_highlighted, snippet=snippet,
            item_type=v.item_type, item_type_label=_label(ItemType, v.item_type),
            department=v.item.department.name, department_uscc=v.item.department.uscc,
            receiving_unit=v.receiving_unit.name if v.receiving_unit else None,
            commitment=v.commitment, commitment_label=_label(Commitment, v.commitment),
            committed_limit=v.committed_limit, committed_limit_unit=v.committed_limit_unit,
            committed_limit_unit_label=_label(LimitUnit, v.committed_limit_unit),
            required_visits=v.required_visits, online_depth=v.online_depth,
            online_depth_label=_label(OnlineDepth, v.online_depth),
            service_objects=list(v.service_objects), topics=list(v.topics),
            version=v.number, published_at=local_iso(v.published_at),
        )


class ItemPage(Schema):
    total: int
    limit: int
    offset: int
    query: str | None = None
    expanded_with: list[str] = []  # synonyms the query was widened with
    matched_all_words: bool = True
    message: str | None = None
    items: list[ItemOut]


class MaterialOut(Schema):
    position: int
    name: str
    material_type: str
    material_type_label: str
    form: str
    form_label: str
    necessity: str
    necessity_label: str
    deferrable: bool  # 容缺: may be supplied later on a written commitment
    source: str
    source_label: str
    licence_type: str
    original_copies: int
    copy_copies: int
    notes: str
    legal_basis: str

    @staticmethod
    def from_material(m: Material) -> MaterialOut:
        return MaterialOut(
            position=m.position, name=m.name, material_type=m.material_type,
            material_type_label=m.get_material_type_display(), form=m.form,
            form_label=m.get_form_display(), necessity=m.necessity,
            necessity_label=m.get_necessity_display(), deferrable=m.deferrable, source=m.source,
            source_label=m.get_source_display(), licence_type=m.licence_type,
            original_copies=m.original_copies, copy_copies=m.copy_copies, notes=m.notes,
            legal_basis=m.legal_basis,
        )


class FeeOut(Schema):
    name: str
    amount: Decimal
    unit: str
    basis: str

    @staticmethod
    def from_fee(f: Fee) -> FeeOut:
        return FeeOut(name=f.name, amount=f.amount, unit=f.unit, basis=f.basis)


class FaqOut(Schema):
    question: str
    answer: str

    @staticmethod
    def from_faq(f: Faq) -> FaqOut:
        return FaqOut(question=f.question, answer=f.answer)


class ItemDetailOut(Schema):
    """The full service guide (办事指南) of one published version."""

    implementation_code: str
    basic_code: str
    version: int
    status: str
    status_label: str
    is_current: bool
    published_at: datetime | None
    name: str
    item_type: str
    item_type_label: str
    department: DepartmentRef
    level: str
    level_label: str
    commitment: str
    commitment_label: str
    legal_limit: int
    legal_limit_unit: str
    legal_limit_unit_label: str
    committed_limit: int
    committed_limit_unit: str
    committed_limit_unit_label: str
    required_visits: int
    visit_reason: str
    online_depth: int
    online_depth_label: str
    handling_forms: list[str]
    handling_forms_labels: list[str]
    charges_fee: bool
    fee_standard: str
    fee_basis: str
    conditions: str
    legal_basis: str
    service_objects: list[str]
    service_objects_labels: list[str]
    topics: list[str]
    location: str
    office_hours: str
    consultation_phone: str
    complaint_phone: str
    review_route: str
    result_type: str
    result_type_label: str
    result_name: str
    receiving_unit: DepartmentRef | None
    special_procedures: str
    process: str
    materials: list[MaterialOut]
    fees: list[FeeOut]
    faqs: list[FaqOut]

    @staticmethod
    def from_version(v: ItemVersion) -> ItemDetailOut:
        """``v`` should come with materials, fees and faqs prefetched (see selectors)."""
        return ItemDetailOut(
            implementation_code=v.item.implementation_code, basic_code=v.item.basic_code,
            version=v.number, status=v.status, status_label=_label(VersionStatus, v.status),
            is_current=v.status == VersionStatus.PUBLISHED, published_at=local_iso(v.published_at),
            name=v.name, item_type=v.item_type, item_type_label=_label(ItemType, v.item_type),
            department=DepartmentRef.from_department(v.item.department),
            level=v.level, level_label=_label(Level, v.level),
            commitment=v.commitment, commitment_label=_label(Commitment, v.commitment),
            legal_limit=v.legal_limit, legal_limit_unit=v.legal_limit_unit,
            legal_limit_unit_label=_label(LimitUnit, v.legal_limit_unit),
            committed_limit=v.committed_limit, committed_limit_unit=v.committed_limit_unit,
            committed_limit_unit_label=_label(LimitUnit, v.committed_limit_unit),
            required_visits=v.required_visits, visit_reason=v.visit_reason,
            online_depth=v.online_depth, online_depth_label=_label(OnlineDepth, v.online_depth),
            handling_forms=list(v.handling_forms),
            handling_forms_labels=[_label(HandlingForm, x) for x in v.handling_forms],
            charges_fee=v.charges_fee, fee_standard=v.fee_standard, fee_basis=v.fee_basis,
            conditions=v.conditions, legal_basis=v.legal_basis,
            service_objects=list(v.service_objects),
            service_objects_labels=[_label(ServiceObject, x) for x in v.service_objects],
            topics=list(v.topics), location=v.location, office_hours=v.office_hours,
            consultation_phone=v.consultation_phone, complaint_phone=v.complaint_phone,
            review_route=v.review_route, result_type=v.result_type,
            result_type_label=_label(ResultType, v.result_type), result_name=v.result_name,
            receiving_unit=DepartmentRef.from_department(v.receiving_unit) if v.receiving_unit else None,
            special_procedures=v.special_procedures, process=v.process,
            materials=[MaterialOut.from_material(m) for m in v.materials.all()],
            fees=[FeeOut.from_fee(f) for f in v.fees.all()],
            faqs=[FaqOut.from_faq(f) for f in v.faqs.all()],
        )


class VersionOut(Schema):
    """One entry of an item's public history."""

    version: int
    name: str
    status: str
    status_label: str
    is_current: bool
    published_at: datetime | None

    @staticmethod
    def from_version(v: ItemVersion) -> VersionOut:
        return VersionOut(version=v.number, name=v.name, status=v.status,
                          status_label=_label(VersionStatus, v.status),
                          is_current=v.status == VersionStatus.PUBLISHED,
                          published_at=local_iso(v.published_at))


class ListCountOut(Schema):
    commitment: str
    label: str
    count: int


class ListsOut(Schema):
    division: str | None
    department: str | None
    total: int
    lists: list[ListCountOut]


class TypeCountOut(Schema):
    item_type: str
    label: str
    count: int


class DepartmentPowerOut(Schema):
    department: str
    uscc: str
    division_code: str
    total: int
    by_type: dict[str, int]


class PowerListOut(Schema):
    total: int
    by_type: list[TypeCountOut]
    by_department: list[DepartmentPowerOut]


# --- bureau writes ----------------------------------------------------------------------------
