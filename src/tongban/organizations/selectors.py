"""Reads of divisions, departments and service halls."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from .models import Department, Division, Hall, Window


def division_list() -> QuerySet[Division]:
    return Division.objects.select_related("parent").order_by("code")


def division_and_descendants(code: str) -> list[int]:
    """Ids of the division with ``code`` and every division below it."""
    ids: list[int] = []
    frontier = list(Division.objects.filter(code=code).values_list("pk", flat=True))
    while frontier:
        ids.extend(frontier)
        frontier = list(Division.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
    return ids


def department_list(*, division: str | None = None, level: str | None = None) -> QuerySet[Department]:
    qs = Department.objects.select_related("division", "parent")
    if division:
        qs = qs.filter(division_id__in=division_and_descendants(division))
    if level:
        qs = qs.filter(Q(level=level))
    return qs.order_by("division__code", "name")


def hall_list(*, division: str | None = None) -> QuerySet[Hall]:
    """Halls with their windows (and each window's departments) and office periods."""
    qs = Hall.objects.select_related("division", "department").prefetch_related(
        "office_periods", Prefetch("windows", queryset=Window.objects.prefetch_related("departments")))
    if division:
        qs = qs.filter(division_id__in=division_and_descendants(division))
    return qs.order_by("division__code", "name")
