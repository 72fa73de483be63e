"""Reads of the data resource catalog: its public part, a department's resources, the review
queue and the 数源 conflicts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from tongban.organizations.models import Department

from ..models import (
    DataElement,
    ElementStatus,
    Resource,
    ResourceField,
    ResourceStatus,
    ResourceVersion,
)

CLAIMING = (ResourceStatus.PUBLISHED, ResourceStatus.UNDER_REVIEW)


def published_resources(*, provider: int | None = None, classification: str = "",
                        share_type: str = "", open_type: str = "",
                        query: str = "", with_items: bool = False) -> QuerySet[Resource]:
    """The public catalog: resources with a published version, filtered."""
    rows = (Resource.objects.filter(current__isnull=False)
            .select_related("current", "provider").order_by("code"))
    if with_items:
        rows = rows.prefetch_related(Prefetch(
            "current__fields", queryset=ResourceField.objects.select_related("element")
            .order_by("position")))
    if provider:
        rows = rows.filter(provider_id=provider)
    if classification:
        rows = rows.filter(current__classification=classification)
    if share_type:
        rows = rows.filter(current__share_type=share_type)
    if open_type:
        rows = rows.filter(current__open_type=open_type)
    if query.strip():
        q = query.strip()
        rows = rows.filter(Q(code__icontains=q) | Q(current__name__icontains=q)
                           | Q(current__summary__icontains=q))
    return rows


def published_resource(code: str) -> Resource | None:
    return (Resource.objects.filter(code=code, current__isnull=False)
            .select_related("current", "provider").first())


def version_items(version: ResourceVersion) -> list[ResourceField]:
    return list(version.fields.select_related("element").order_by("position"))


def provider_departments() -> QuerySet[Department]:
    return Department.objects.filter(data_resources__current__isnull=False).distinct()\
        .order_by("name")


def department_versions(department_id: int) -> QuerySet[ResourceVersion]:
    """A department's versions, newest first per resource (its drafts, reviews, publications)."""
    return (ResourceVersion.objects.filter(resource__provider_id=department_id)
            .select_related("resource").order_by("resource__code", "-version"))


def resource_of(code: str) -> Resource | None:
    return Resource.objects.filter(code=code).select_related("provider").first()


def latest_version(resource: Resource) -> ResourceVersion | None:
    """The version the draft form starts from: the newest one (an open draft, a rejected or
    published version, or one under review, which cannot be edited)."""
    return resource.versions.order_by("-version").first()


def published_elements() -> list[DataElement]:
    """The elements a data item may bind (the draft form offers them)."""
    return list(DataElement.objects.filter(status=ElementStatus.PUBLISHED)
                .only("identifier", "name", "personal").order_by("identifier"))


def review_queue() -> QuerySet[ResourceVersion]:
    """Versions waiting for the bureau, each with its items (``fields``) and their elements
    fetched with it: two queries however long the queue."""
    return (ResourceVersion.objects.filter(status=ResourceStatus.UNDER_REVIEW)
            .select_related("resource", "resource__provider").order_by("submitted_at", "pk")
            .prefetch_related(Prefetch("fields", ResourceField.objects.select_related("element")
                                       .order_by("position"))))


@dataclass
class Conflict:
    element: DataElement
    claims: list[tuple[Department, list[str]]] = field(default_factory=list)  # dept, codes

    @property
    def reopened(self) -> bool:
        """Confirmed before (at a publication or by the bureau) and claimed again since."""
        return self.element.source_department_id is not None


def _claims() -> dict[int, dict[int, set[str]]]:
    by_element: dict[int, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for element_id, provider_id, code, _submitted in _claim_rows():
        by_element[element_id][provider_id].add(code)
    return by_element


def _claim_rows() -> Any:
    return (ResourceField.objects.filter(is_source=True, version__status__in=CLAIMING)
            .values_list("element_id", "version__resource__provider_id",
                         "version__resource__code", "version__submitted_at"))


def source_conflicts(*, include_confirmed: bool = False) -> list[Conflict]:
    """Elements claimed as source by published or submitted resources of two or more
    departments, waiting for the data bureau: those without a confirmed source, and those
    whose source was confirmed before another department claimed them (a publication confirms
    an uncontested claim by itself; a later claim opens the question again). With
    ``include_confirmed``, every contested element."""
    by_element: dict[int, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    latest: dict[tuple[int, int], Any] = {}
    for element_id, provider_id, code, submitted in _claim_rows():
        by_element[element_id][provider_id].add(code)
        if submitted is not None:
            key = (element_id, provider_id)
            latest[key] = max(latest.get(key, submitted), submitted)
    contested = {e: d for e, d in by_element.items() if len(d) > 1}
    if not contested:
        return []
    elements = (DataElement.objects.filter(pk__in=contested).select_related("source_department")
                .order_by("identifier"))

    def waiting(e: DataElement) -> bool:
        if e.source_department_id is None or e.source_confirmed_at is None:
            return True
        return any(latest.get((e.pk, d)) is not None and latest[(e.pk, d)] > e.source_confirmed_at
                   for d in contested[e.pk] if d != e.source_department_id)

    departments = Department.objects.in_bulk(
        {d for claims in contested.values() for d in claims})
    return [Conflict(element=e, claims=[(departments[d], sorted(codes))
                                        for d, codes in sorted(contested[e.pk].items())])
            for e in elements if include_confirmed or waiting(e)]


def source_outcomes(department_id: int) -> list[dict[str, Any]]:
    """数源确认结果 for a department: each element it claims, whether confirmed, and to whom —
    how the claiming departments are told of the bureau's decision."""
    element_ids = {e for e, d in _claims().items() if department_id in d}
    rows = (DataElement.objects.filter(pk__in=element_ids).select_related("source_department")
            .order_by("-source_confirmed_at", "identifier"))
    return [{"element": e, "confirmed": e.source_department_id is not None,
             "ours": e.source_department_id == department_id} for e in rows]
