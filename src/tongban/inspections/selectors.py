"""Reads for the pages and the API: pools, tasks, drawn rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Prefetch, Q, QuerySet

from tongban.accounts import permissions
from tongban.accounts.models import Role
from tongban.organizations.models import Division

from . import policies
from .models import Conflict, DrawnEntity, DrawnInspector, DrawTask, Inspector, MarketEntity, TaskStatus

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor


@dataclass
class Pools:
    entities: list[dict[str, Any]]
    inspectors: list[dict[str, Any]]
    reasons: dict[str, str]  # "certificate|uscc" → reason of the declared conflict


def _division_ids(codes: list[str]) -> set[int]:
    """The divisions with these codes and every division below them."""
    ids = set(Division.objects.filter(code__in=codes).values_list("pk", flat=True))
    frontier = set(ids)
    while frontier:
        frontier = set(Division.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)) - ids
        ids |= frontier
    return ids


def entity_queryset(task: DrawTask) -> QuerySet[MarketEntity]:
    """The department's market entities matching the task's filters (empty filter: any)."""
    qs = MarketEntity.objects.filter(department_id=task.department_id)
    if task.industries:
        qs = qs.filter(industry__in=task.industries)
    if task.division_codes:
        qs = qs.filter(division_id__in=_division_ids(task.division_codes))
    if task.risk_levels:
        qs = qs.filter(risk_level__in=task.risk_levels)
    if task.entity_types:
        qs = qs.filter(entity_type__in=task.entity_types)
    return qs


def current_pools(task: DrawTask) -> Pools:
    """Both pools as the directories stand now, in canonical order (see ``draw.py``)."""
    entities = [
        {"uscc": e.uscc, "name": e.name, "entity_type": e.entity_type, "industry": e.industry,
         "division_code": e.division.code, "risk_level": e.risk_level}
        for e in entity_queryset(task).select_related("division").order_by("uscc")]
    in_pool = {e["uscc"] for e in entities}
    inspectors = list(Inspector.objects.filter(department_id=task.department_id, active=True)
                      .order_by("certificate_number"))
    recuse: dict[int, list[str]] = {i.pk: [] for i in inspectors}
    reasons: dict[str, str] = {}
    for c in (Conflict.objects.filter(inspector__in=inspectors, entity__uscc__in=in_pool)
              .select_related("inspector", "entity")):
        recuse[c.inspector_id].append(c.entity.uscc)
        reasons[f"{c.inspector.certificate_number}|{c.entity.uscc}"] = c.reason
    pool = [{"certificate_number": i.certificate_number, "name": i.name,
             "recuse": sorted(recuse[i.pk])} for i in inspectors]
    return Pools(entities=entities, inspectors=pool, reasons=reasons)


def task_complete(task: DrawTask) -> bool:
    """Drawn, and every drawn entity has a result."""
    return (task.status != TaskStatus.DRAFT and task.drawn.exists()
            and not task.drawn.filter(result="").exists())


def _with_drawn(qs: QuerySet[DrawTask]) -> QuerySet[DrawTask]:
    return qs.select_related("department").prefetch_related(
        "items", Prefetch("drawn", queryset=DrawnEntity.objects.prefetch_related(
            Prefetch("inspectors", queryset=DrawnInspector.objects.order_by("position")))
            .order_by("position")))


def _counted(qs: QuerySet[DrawTask]) -> QuerySet[DrawTask]:
    return qs.select_related("department").annotate(
        drawn_count=Count("drawn", distinct=True),
        recorded_count=Count("drawn", filter=~Q(drawn__result=""), distinct=True))


def published_tasks() -> QuerySet[DrawTask]:
    return _counted(DrawTask.objects.filter(status=TaskStatus.PUBLISHED)).order_by("-published_at", "-pk")


def published_task(pk: int) -> DrawTask | None:
    return _with_drawn(DrawTask.objects.filter(status=TaskStatus.PUBLISHED, pk=pk)).first()


def staff_tasks(user: Actor) -> QuerySet[DrawTask]:
    """Tasks the user may read: the own department's; supervisors and the bureau all."""
    qs = DrawTask.objects.all()
    if not (permissions.is_bureau_admin(user) or getattr(user, "role", None) == Role.SUPERVISOR):
        qs = qs.filter(department_id=getattr(user, "department_id", None) or 0)
    return _counted(qs)


def staff_task(user: Actor, pk: int) -> DrawTask | None:
    """One task with its drawn rows, or None when missing or not the user's to read."""
    task = _with_drawn(DrawTask.objects.filter(pk=pk)).first()
    if task is None or not policies.can_read_department(user, task.department_id):
        return None
    return task


def my_drawn_ids(user: Actor, task: DrawTask) -> set[int]:
    """Drawn entities of the task the user is one of the drawn inspectors of."""
    account = permissions.account_of(user)
    if account is None:
        return set()
    return set(DrawnInspector.objects.filter(drawn_entity__task=task, inspector__user_id=account.pk)
               .values_list("drawn_entity_id", flat=True))


def directory_counts(user: Actor) -> dict[str, int]:
    """Sizes of the directories the user's department keeps (all for supervisors and bureau)."""
    entities, inspectors = MarketEntity.objects.all(), Inspector.objects.all()
    if not (permissions.is_bureau_admin(user) or getattr(user, "role", None) == Role.SUPERVISOR):
        dept = getattr(user, "department_id", None) or 0
        entities, inspectors = entities.filter(department_id=dept), inspectors.filter(department_id=dept)
    return {"entities": entities.count(), "inspectors": inspectors.filter(active=True).count(),
            "conflicts": Conflict.objects.filter(inspector__in=inspectors).count()}
