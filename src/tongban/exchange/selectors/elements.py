"""Reads of the element dictionary and the code lists (pages and the API)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet

from .. import policies
from ..models import CodeEntry, CodeList, DataElement, ElementStatus

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor


def visible_statuses(user: Actor | None) -> set[str]:
    """Everyone reads published elements; the data bureau every status (a department's data
    officer also reads its own proposals, see :func:`elements`)."""
    if policies.can_manage_elements(user):
        return set(ElementStatus.values)
    return {ElementStatus.PUBLISHED}


def elements(user: Actor | None, *, q: str = "", object_class: str = "",
             status: str = "") -> QuerySet[DataElement]:
    """The elements the user may read, filtered: ``q`` matches the identifier, the Chinese or
    English name and the definition; ``status`` is honoured only for what the user may read."""
    allowed = visible_statuses(user)
    qs = DataElement.objects.select_related("code_list", "submitting_department")
    condition = Q(status__in=allowed)
    if policies.is_data_officer(user) and not policies.can_manage_elements(user):
        condition |= Q(status=ElementStatus.DRAFT,
                       submitting_department_id=getattr(user, "department_id", None))
    qs = qs.filter(condition)
    if status:
        qs = qs.filter(status=status)
    text = q.strip()
    if text:
        qs = qs.filter(Q(identifier__iexact=text) | Q(name__icontains=text)
                       | Q(name_en__icontains=text) | Q(definition__icontains=text)
                       | Q(object_class__icontains=text))
    if object_class:
        qs = qs.filter(object_class=object_class)
    return qs.order_by("identifier")


def element(user: Actor | None, identifier: str) -> DataElement | None:
    return elements(user).filter(identifier=identifier).first()


def object_classes() -> list[str]:
    """The object classes of published elements (a filter's choices)."""
    return list(DataElement.objects.filter(status=ElementStatus.PUBLISHED)
                .exclude(object_class="").values_list("object_class", flat=True)
                .distinct().order_by("object_class"))


def drafts() -> QuerySet[DataElement]:
    return (DataElement.objects.filter(status=ElementStatus.DRAFT)
            .select_related("submitting_department", "submitter").order_by("identifier"))


def code_lists() -> QuerySet[CodeList]:
    return CodeList.objects.annotate(entry_count=Count("entries")).order_by("code")


def code_list(code: str) -> CodeList | None:
    return CodeList.objects.filter(code=code).first()


def code_entries(code_list: CodeList) -> QuerySet[CodeEntry]:
    return code_list.entries.order_by("position", "value")


def element_history(identifier: str, *, limit: int = 50) -> list[dict[str, object]]:
    """The element's audited changes, newest first (the bureau's view of its versions):
    action, when, who, and for an edit each changed field before and after."""
    from tongban.audit.models import AuditRecord

    rows = (AuditRecord.objects.filter(object_type="data_element", object_id=identifier)
            .order_by("-seq").values("action", "at", "actor_name", "detail")[:limit])
    return [{**row, "changes": sorted((row["detail"] or {}).get("changes", {}).items())}
            for row in rows]
