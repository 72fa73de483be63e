"""Reads of supply–demand matching, grants, uses and the census (issue 12 §4–§6)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Count, F, Max, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from tongban.clock import selectors as clock
from tongban.clock.deadline import SHANGHAI
from tongban.core import crypto
from tongban.organizations.models import Department

from .. import policies
from ..models import (
    Credential,
    DataGap,
    DataRequest,
    ExchangeUse,
    Grant,
    OpenType,
    RecordBatch,
    Resource,
    ResourceField,
    ResourceStatus,
    ShareType,
    UpdateCycle,
)
from ..models import RequestStatus as S

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

OPEN = (S.CHECKING, S.AT_PROVIDER)


def with_marks(requests: Any) -> list[DataRequest]:
    """The demands, each with its ``mark``, the calendar checked once for the whole list."""
    out = list(requests)
    with clock.calendar_scope():
        for request in out:
            request.mark = request_mark(request)
    return out


def request_mark(request: DataRequest, *, now: dt.datetime | None = None) -> str:
    """green, yellow or red (past due) for an open demand's stage, by the clock's one rule
    (``clock.selectors.deadline_state``, the stage's own budget as the limit); "" when closed."""
    if request.status not in OPEN or request.stage_due_at is None:
        return ""
    return clock.deadline_state(request.stage_due_at, now=now or timezone.now(),
                                opened_at=request.stage_started_at or request.created_at,
                                hours=clock.office_hours())


def _requests() -> QuerySet[DataRequest]:
    return DataRequest.objects.select_related(
        "requester", "resource", "resource__provider", "resource__current", "requested_by",
        "grant")


def requests_visible(actor: Actor) -> QuerySet[DataRequest]:
    """The data bureau sees every demand; a department's data officer those it filed and those
    on its resources."""
    if policies.is_data_bureau(actor):
        return _requests()
    department_id = getattr(actor, "department_id", None)
    if not policies.is_data_officer(actor) or department_id is None:
        return DataRequest.objects.none()
    return _requests().filter(Q(requester_id=department_id)
                              | Q(resource__provider_id=department_id))


def request_by_number(actor: Actor, number: str) -> DataRequest | None:
    return requests_visible(actor).filter(number=number).first()


def to_check(actor: Actor) -> QuerySet[DataRequest]:
    if not policies.is_data_bureau(actor):
        return DataRequest.objects.none()
    return _requests().filter(status=S.CHECKING).order_by("stage_due_at")


def to_answer(actor: Actor) -> QuerySet[DataRequest]:
    department_id = getattr(actor, "department_id", None)
    if not policies.is_data_officer(actor):
        return DataRequest.objects.none()
    scope = _requests().filter(status=S.AT_PROVIDER)
    if not policies.is_data_bureau(actor):
        scope = scope.filter(resource__provider_id=department_id)
    return scope.order_by("stage_due_at")


def gaps(actor: Actor) -> QuerySet[DataGap]:
    scope = DataGap.objects.select_related("request", "request__requester", "responsible")
    if policies.is_data_bureau(actor):
        return scope
    department_id = getattr(actor, "department_id", None)
    return scope.filter(Q(responsible_id=department_id) | Q(request__requester_id=department_id))


def grants_visible(actor: Actor) -> QuerySet[Grant]:
    scope = Grant.objects.select_related("consumer", "resource", "resource__provider", "request")
    if policies.is_data_bureau(actor):
        return scope
    department_id = getattr(actor, "department_id", None)
    if not policies.is_data_officer(actor):
        return Grant.objects.none()
    return scope.filter(Q(consumer_id=department_id) | Q(resource__provider_id=department_id))


def _item_names(version_ids: set[int]) -> dict[tuple[int, str], str]:
    """The names of the data items of these resource versions, by (version, key): one query."""
    return {(version_id, key): name for version_id, key, name in ResourceField.objects.filter(
        version_id__in=version_ids).values_list("version_id", "key", "name")}


def _named(resource: Resource, keys: list[str], names: dict[tuple[int, str], str]) -> list[str]:
    """Keys as their names in the resource's published version (the key itself where the item is
    no longer described)."""
    version_id = resource.current_id
    return [names.get((version_id, key), key) if version_id else key for key in keys]


def with_item_names(grants: list[Grant]) -> list[Grant]:
    """Each grant with ``item_names`` and ``masked_names``: its granted and its masked items by
    name, in one query for all."""
    names = _item_names({g.resource.current_id for g in grants if g.resource.current_id})
    for grant in grants:
        grant.item_names = _named(  # type: ignore[attr-defined]
            grant.resource, grant.field_keys, names)
        grant.masked_names = _named(  # type: ignore[attr-defined]
            grant.resource, grant.masked_keys, names)
    return grants


def demand_items(demand: DataRequest) -> list[tuple[str, str]]:
    """(key, name) of the items a demand asks for, named by the resource's published version,
    else its newest (a demand may be filed while the resource is still being catalogued)."""
    resource = demand.resource
    if resource is None or not demand.field_keys:
        return []
    version_id = resource.current_id or (resource.versions.order_by("-version")
                                         .values_list("pk", flat=True).first())
    if version_id is None:
        return [(key, key) for key in demand.field_keys]
    names = _item_names({version_id})
    return [(key, names.get((version_id, key), key)) for key in demand.field_keys]


def credentials_of(grant: Grant) -> QuerySet[Credential]:
    return grant.credentials.select_related("issued_to").order_by("-created_at")


def usage(*, department: Department, side: str = "provider", days: int = 30) -> list[dict[str, Any]]:
    """How often a department's data was used (``side="provider"``) or how often it called
    (``"consumer"``): counts by other department, resource and day, the last ``days`` days."""
    since = timezone.now() - dt.timedelta(days=days)
    scope = ExchangeUse.objects.filter(at__gte=since)
    scope = scope.filter(provider=department) if side == "provider" else scope.filter(
        consumer=department)
    other = "consumer__name" if side == "provider" else "provider__name"
    # A licence's use has no resource: it is counted under the licence's name.
    rows = (scope.annotate(day=TruncDate("at", tzinfo=SHANGHAI))
            .values(other, "resource__code", "licence_name", "day")
            .annotate(calls=Count("id"), found=Count("id", filter=Q(found=True)))
            .order_by("-day", other, "resource__code"))
    return [{"department": r[other], "resource": r["resource__code"] or r["licence_name"],
             "day": r["day"],
             "calls": r["calls"], "found": r["found"]} for r in rows]


def calls_of(*, department: Department, limit: int = 200) -> QuerySet[ExchangeUse]:
    """A consumer's own calls, newest first."""
    return (ExchangeUse.objects.filter(consumer=department)
            .select_related("resource", "provider", "person", "grant")[:limit])


def subject_keys(user: Actor) -> list[str]:
    """The blind indexes of an account's ID number and USCC (every configured index key)."""
    out: list[str] = []
    for value in (getattr(user, "id_number", "") or "", getattr(user, "uscc", "") or ""):
        if value:
            out.extend(crypto.blind_indexes(value.upper()))
    return out


def my_data_uses(user: Actor, *, limit: int = 500) -> list[ExchangeUse]:
    """★ Every read of the account holder's own data (by the blind index of their ID number or
    USCC): who read which items, when, for which case and purpose. Only their own."""
    keys = subject_keys(user)
    if not keys:
        return []
    return list(ExchangeUse.objects.filter(subject_index__in=keys)
                .select_related("consumer", "provider", "resource", "resource__current",
                                "grant")[:limit])


def uses_with_item_names(uses: list[ExchangeUse]) -> list[tuple[ExchangeUse, list[str]]]:
    """Each use with the items it read, by name, in one query for all of them (a licence's use:
    the licence's name)."""
    names = _item_names({u.resource.current_id for u in uses
                         if u.resource is not None and u.resource.current_id})
    return [(u, _named(u.resource, u.field_keys, names) if u.resource is not None
             else [u.licence_name or u.licence_identifier]) for u in uses]


# --- the census (公共数据普查) -------------------------------------------------------------

CYCLE_DAYS = {UpdateCycle.REALTIME: 1, UpdateCycle.DAILY: 2, UpdateCycle.WEEKLY: 8,
              UpdateCycle.MONTHLY: 32, UpdateCycle.QUARTERLY: 93, UpdateCycle.YEARLY: 367}


@dataclass
class CensusRow:
    department_id: int
    department: str
    resources: int = 0
    elements: int = 0
    shared: int = 0
    opened: int = 0
    served: int = 0
    refused: int = 0
    fresh: int = 0
    stale: int = 0

    @property
    def share_ratio(self) -> float:
        return round(self.shared / self.resources, 4) if self.resources else 0.0

    @property
    def open_ratio(self) -> float:
        return round(self.opened / self.resources, 4) if self.resources else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"department_id": self.department_id, "department": self.department,
                "resources": self.resources, "elements": self.elements,
                "share_ratio": self.share_ratio, "open_ratio": self.open_ratio,
                "demands_served": self.served, "demands_refused": self.refused,
                "fresh": self.fresh, "stale": self.stale}


def census(*, now: dt.datetime | None = None) -> list[CensusRow]:
    """Per department: published resources, data elements bound in them, the share ratio
    (无条件 + 有条件 over all), the open ratio, demands on its resources served and refused, and
    freshness (a 库表/文件 resource whose last batch is older than its update cycle allows is
    stale; never uploaded counts as stale)."""
    now = now or timezone.now()
    rows: dict[int, CensusRow] = {}

    def row(department_id: int, name: str) -> CensusRow:
        if department_id not in rows:
            rows[department_id] = CensusRow(department_id, name)
        return rows[department_id]

    published = list(Resource.objects.filter(current__status=ResourceStatus.PUBLISHED)
                     .select_related("current", "provider"))
    last_batch = dict(RecordBatch.objects.values("resource_id")
                      .annotate(last=Max("uploaded_at")).values_list("resource_id", "last"))
    elements: dict[int, set[int]] = defaultdict(set)
    for provider_id, element_id in ResourceField.objects.filter(
            version__resource__current=F("version")).values_list(
            "version__resource__provider_id", "element_id"):
        elements[provider_id].add(element_id)
    for resource in published:
        version = resource.current
        assert version is not None
        r = row(resource.provider_id, resource.provider.name)
        r.resources += 1
        if version.share_type in (ShareType.UNCONDITIONAL, ShareType.CONDITIONAL):
            r.shared += 1
        if version.open_type in (OpenType.UNCONDITIONAL, OpenType.CONDITIONAL):
            r.opened += 1
        if version.share_method != "interface":
            limit = CYCLE_DAYS.get(version.update_cycle)  # type: ignore[call-overload]
            last = last_batch.get(resource.pk)
            if limit is None:  # irregular: fresh once uploaded
                if last:
                    r.fresh += 1
                else:
                    r.stale += 1
            elif last and now - last <= dt.timedelta(days=limit):
                r.fresh += 1
            else:
                r.stale += 1
    for department_id, name, status, n in (
            DataRequest.objects.filter(resource__isnull=False,
                                       status__in=[S.GRANTED, S.REFUSED])
            .values_list("resource__provider_id", "resource__provider__name", "status")
            .annotate(n=Count("id"))):
        r = row(department_id, name)
        if status == S.GRANTED:
            r.served += n
        else:
            r.refused += n
    for department_id, element_ids in elements.items():
        if department_id in rows:
            rows[department_id].elements = len(element_ids)
    return sorted(rows.values(), key=lambda r: (-r.resources, r.department))
