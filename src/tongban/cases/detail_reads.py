"""One case with everything its detail shows, read by statements compiled once.

:func:`tongban.cases.selectors.case_detail` reads this for the API's case detail (a kept
detail's first rendering, and the answer of every state-changing call), and for the workbench's
case page. Built through the ORM it was nine queries — the case with its related rows, then
eight ``prefetch_related`` sets — and most of its cost was the ORM compiling them on every call
(``prefetch_related`` also re-filters each set per call). Here:

- the case row with its related rows, and one ``EXISTS`` flag per related set (indexed by case),
  in one statement compiled once (``core.prepared``);
- only the sets that have rows, each by a statement compiled once: a draft just created reads
  its row and its history, nothing else;
- the item version and the workflow version (rows that never change once saved) and the item
  version's checklist taken from this process's copies (``prepared.Immutable`` and
  ``ImmutableRows``), not joined: on PostgreSQL their wide JSON and text columns were most of the
  statement's cost (3.3 ms of the server's CPU with them, 1.4 ms without), sent again on every
  read. :func:`attach_versions` gives every read of a case the same copies (the transitions'
  locked row, the API's case head).

The instances are those the ORM gives for the same query — same columns, same order (each set
in the order its ``prefetch_related`` gave, the model's default where it had none), the same
related rows selected with them — and each set is in the case's prefetched cache, so
``case.materials.all()`` and the like read no more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Exists, Model, OuterRef, QuerySet

from tongban.cases.workflows.models import StepTask, WorkflowDefinition
from tongban.catalog.models import ItemVersion, Material
from tongban.core import prepared

from .models import Case, CaseEvent, CaseMaterial, ClockStop, Extension, Notice, Visit

# Each related set: (the case's accessor, the model, how its rows are read for one case).
_SETS: dict[str, tuple[type[Model], Callable[[QuerySet[Any]], QuerySet[Any]]]] = {
    "materials": (CaseMaterial, lambda qs: qs.order_by("pk")),
    "events": (CaseEvent, lambda qs: qs.select_related("actor").order_by("seq")),
    "notices": (Notice, lambda qs: qs),
    "tasks": (StepTask, lambda qs: qs.select_related("department", "assignee", "finished_by")
              .order_by("opened_at", "pk")),
    "extensions": (Extension, lambda qs: qs.select_related("requested_by", "decided_by")),
    "visit_records": (Visit, lambda qs: qs.select_related("hall", "window")),
    "clock_stops": (ClockStop, lambda qs: qs),
}


def _flag(name: str) -> str:
    return f"detail_has_{name}"


def _case_query(pk: Any) -> QuerySet[Case]:
    flags = {_flag(name): Exists(model._default_manager.filter(case_id=OuterRef("pk")))
             for name, (model, _order) in _SETS.items()}
    return (Case.objects.select_related("item", "department", "receiving_unit", "hall",
                                        "applicant", "agent")
            .annotate(**flags).filter(pk=pk))


def _set_lookup(model: type[Model], order: Callable[[QuerySet[Any]], QuerySet[Any]]
                ) -> prepared.Lookup[Any]:
    return prepared.Lookup(lambda pk: order(model._default_manager.filter(case_id=pk)))


_CASE = prepared.Lookup(_case_query)
_SET_ROWS = {name: _set_lookup(model, order) for name, (model, order) in _SETS.items()}
_CHECKLIST = prepared.ImmutableRows(lambda pk: Material.objects.filter(version_id=pk),
                                    parent="version_id")
_ITEM_VERSIONS = prepared.Immutable(lambda pk: ItemVersion.objects.filter(pk=pk))
_WORKFLOWS = prepared.Immutable(lambda pk: WorkflowDefinition.objects.filter(pk=pk))
_item_version = Case._meta.get_field("item_version")
_workflow = Case._meta.get_field("workflow")
_case_field = {name: Case._meta.get_field(name).field for name in _SETS}  # type: ignore[union-attr]


def attach_versions(case: Case) -> Case:
    """Give ``case`` its item version and workflow version from this process's copies (shared:
    callers read them, never change them)."""
    _item_version.set_cached_value(case, _ITEM_VERSIONS.get(case.item_version_id))
    if case.workflow_id is not None:
        _workflow.set_cached_value(case, _WORKFLOWS.get(case.workflow_id))
    return case


def case_detail(pk: int) -> Case:
    """The case with everything its detail shows (``Case.DoesNotExist`` if there is none)."""
    case = _CASE.get(pk)
    cache: dict[str, list[Any]] = {}
    for name, lookup in _SET_ROWS.items():
        rows = lookup.all(pk) if getattr(case, _flag(name)) else []
        back = _case_field[name]
        for row in rows:  # as ``prefetch_related`` leaves them: each row's case is this one
            back.set_cached_value(row, case)
        cache[name] = rows
    case._prefetched_objects_cache = cache  # type: ignore[attr-defined]
    version = attach_versions(case).item_version
    if "materials" not in getattr(version, "_prefetched_objects_cache", {}):
        # The shared copy's checklist, set once (the same rows every time).
        version._prefetched_objects_cache = {  # type: ignore[attr-defined]
            "materials": list(_CHECKLIST.all(version.pk))}
    return case
