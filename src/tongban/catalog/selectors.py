"""Reads of the public catalog: the four lists, the power list, guides, history and search.

Only items whose current version is published are listed; pages and the public API both read
through these functions, so they show the same items with the same counts. Functions that take
a :class:`CatalogFilter` accept it already validated by :func:`parse_filters`.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, NamedTuple

from django.core.cache import cache
from django.db.models import Count, F, Lookup, Q, QuerySet
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from tongban.core.errors import Problem
from tongban.organizations.models import Department, Division

from . import guide_cache, search
from .models import (
    Commitment,
    Item,
    ItemType,
    ItemVersion,
    OnlineDepth,
    ServiceObject,
    VersionStatus,
)

S = VersionStatus
# Versions the public has seen: their guides stay readable in the history.
PUBLIC_STATUSES = (S.PUBLISHED, S.SUPERSEDED, S.CANCELLED)
MAX_TOPIC_CHARS = 50


class JsonArrayHas(Lookup):
    """``json_array_has(field, value)``: the JSON list in ``field`` contains ``value``.

    Django's ``contains`` lookup on JSONField is not available on SQLite, so membership is
    tested with ``json_each`` there and with ``@>`` on PostgreSQL.
    """

    lookup_name = "json_array_has"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = compiler.compile(self.lhs)
        if connection.vendor == "postgresql":
            return f"({lhs})::jsonb @> %s::jsonb", (*lhs_params, json.dumps([self.rhs]))
        return (f"EXISTS (SELECT 1 FROM json_each({lhs}) WHERE json_each.value = %s)",
                (*lhs_params, self.rhs))


# --- filters ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class CatalogFilter:
    """What a list is narrowed to. ``division`` is a division code (its sub-divisions count),
    ``department`` a 统一社会信用代码."""

    commitment: str | None = None
    division: str | None = None
    department: str | None = None
    item_type: str | None = None
    service_object: str | None = None
    topic: str | None = None
    online_depth: int | None = None

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))

    def as_params(self) -> dict[str, str]:
        return {f.name: str(getattr(self, f.name)) for f in fields(self)
                if getattr(self, f.name) is not None}


FILTER_NAMES = tuple(f.name for f in fields(CatalogFilter))


def _choice_problem(name: str, value: str, choices: Any, label: Any) -> Problem:
    options = "、".join(f"{c.value}（{c.label}）" for c in choices)
    return Problem(field=name, message=_("%(label)s“%(value)s”无效，可选值：%(options)s") % {
        "label": label, "value": value, "options": options})


def parse_filters(params: Mapping[str, Any], *,
                  allowed: tuple[str, ...] = FILTER_NAMES) -> tuple[CatalogFilter, list[Problem]]:
    """Validate filter values from a query string; returns the filter and what was wrong.

    Empty values mean "no filter". A faulty value is left out of the filter and reported with
    the parameter's name, so a page can show the message and an API call can answer 422.
    """
    values: dict[str, Any] = {}
    problems: list[Problem] = []

    def raw(name: str) -> str:
        value = params.get(name)
        return str(value).strip() if value is not None and name in allowed else ""

    enum_params = (
        ("commitment", Commitment, _("承诺类别")),
        ("item_type", ItemType, _("事项类型")),
        ("service_object", ServiceObject, _("服务对象")),
    )
    for name, enum, label in enum_params:
        value = raw(name)
        if value and value in enum.values:
            values[name] = value
        elif value:
            problems.append(_choice_problem(name, value, enum, label))
    depth = raw("online_depth")
    if depth:
        if depth.isdecimal() and int(depth) in OnlineDepth.values:
            values["online_depth"] = int(depth)
        else:
            problems.append(_choice_problem("online_depth", depth, OnlineDepth, _("网上办理深度")))
    topic = raw("topic")
    if topic:
        if len(topic) <= MAX_TOPIC_CHARS:
            values["topic"] = topic
        else:
            problems.append(Problem(field="topic", message=_("主题分类过长（最多%(n)s个字）") % {
                "n": MAX_TOPIC_CHARS}))
    division = raw("division")
    if division:
        if Division.objects.filter(code=division).exists():
            values["division"] = division
        else:
            problems.append(Problem(field="division", message=_(
                "行政区划代码“%(value)s”不存在") % {"value": division}))
    department = raw("department")
    if department:
        if Department.objects.filter(uscc=department).exists():
            values["department"] = department
        else:
            problems.append(Problem(field="department", message=_(
                "部门（统一社会信用代码“%(value)s”）不存在") % {"value": department}))
    return CatalogFilter(**values), problems


def division_ids(code: str) -> set[int]:
    """Ids of the division with ``code`` and of every division below it (one query)."""
    children: dict[int | None, list[int]] = defaultdict(list)
    root: int | None = None
    for pk, parent_id, div_code in Division.objects.values_list("pk", "parent_id", "code"):
        children[parent_id].append(pk)
        if div_code == code:
            root = pk
    found: set[int] = set()
    frontier = [root] if root is not None else []
    while frontier:
        pk = frontier.pop()
        found.add(pk)
        frontier.extend(children.get(pk, []))
    return found


def published_versions(f: CatalogFilter = CatalogFilter(), *,
                       received_counts: bool = True) -> QuerySet[ItemVersion]:
    """The current published versions, narrowed by ``f``.

    A 代办服务 item belongs to the lists of the body that receives it as well as of the body
    that implements it: filtering by division or department matches either, unless
    ``received_counts`` is False (the power list is about the implementing body alone).
    """
    qs = ItemVersion.objects.filter(status=S.PUBLISHED).select_related(
        "item__department__division", "receiving_unit")
    if f.commitment:
        qs = qs.filter(commitment=f.commitment)
    if f.division:
        ids = division_ids(f.division)
        where = Q(item__department__division_id__in=ids)
        if received_counts:
            where |= Q(receiving_unit__division_id__in=ids)
        qs = qs.filter(where)
    if f.department:
        where = Q(item__department__uscc=f.department)
        if received_counts:
            where |= Q(receiving_unit__uscc=f.department)
        qs = qs.filter(where)
    if f.item_type:
        qs = qs.filter(item_type=f.item_type)
    if f.service_object:
        qs = qs.filter(JsonArrayHas(F("service_objects"), f.service_object))
    if f.topic:
        qs = qs.filter(JsonArrayHas(F("topics"), f.topic))
    if f.online_depth:
        qs = qs.filter(online_depth=f.online_depth)
    return qs.order_by("item__department__division__code", "item__department__name",
                       "item__basic_code", "pk")


# --- counts -----------------------------------------------------------------------------------

@dataclass
class ListCount:
    commitment: str
    label: str
    count: int


def list_counts(f: CatalogFilter = CatalogFilter()) -> list[ListCount]:
    """Items in each of the four lists (in the lists' own order), ignoring ``f.commitment``."""
    rows = dict(published_versions(replace(f, commitment=None)).order_by()
                .values_list("commitment").annotate(n=Count("pk")).values_list("commitment", "n"))
    return [ListCount(commitment=c.value, label=str(c.label), count=rows.get(c.value, 0))
            for c in Commitment]


@dataclass
class DivisionCounts:
    division: Division
    depth: int
    counts: dict[str, int]
    total: int


def division_list_counts() -> list[DivisionCounts]:
    """Per division (sub-divisions included), the items of each list; divisions with none are
    left out. Two queries whatever the size of the catalog."""
    divisions = list(Division.objects.order_by("code"))
    parent = {d.pk: d.parent_id for d in divisions}

    def ancestors(pk: int | None) -> set[int]:
        found: set[int] = set()
        while pk is not None:
            found.add(pk)
            pk = parent.get(pk)
        return found

    per_division: dict[int, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    rows = (ItemVersion.objects.filter(status=S.PUBLISHED)
            .values_list("item_id", "commitment", "item__department__division_id",
                         "receiving_unit__division_id"))
    for item_id, commitment, own, received in rows:
        for pk in ancestors(own) | ancestors(received):
            per_division[pk][commitment].add(item_id)
    depth: dict[int, int] = {}
    for d in divisions:
        depth[d.pk] = depth[d.parent_id] + 1 if d.parent_id in depth else 0
    result = []
    for d in divisions:
        if d.pk not in per_division:
            continue
        counts = {c.value: len(per_division[d.pk][c.value]) for c in Commitment}
        result.append(DivisionCounts(division=d, depth=depth[d.pk], counts=counts,
                                     total=sum(counts.values())))
    return result


def topic_counts(f: CatalogFilter = CatalogFilter()) -> list[tuple[str, int]]:
    """主题分类 of the listed items with their counts, most used first."""
    counter: Counter[str] = Counter()
    for topics in published_versions(replace(f, topic=None)).order_by().values_list("topics", flat=True):
        counter.update(t for t in topics or [] if t)
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))


@dataclass
class DepartmentCounts:
    department: Department
    counts: dict[str, int]  # per commitment, implemented + received
    total: int


def department_counts() -> list[DepartmentCounts]:
    """Departments having listed items, with their items per list (received 代办 included)."""
    per: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    base = ItemVersion.objects.filter(status=S.PUBLISHED).order_by()
    for dept_id, commitment, n in (base.values_list("item__department_id", "commitment")
                                   .annotate(n=Count("pk"))):
        per[dept_id][commitment] += n
    for dept_id, commitment, n in (base.filter(receiving_unit__isnull=False)
                                   .values_list("receiving_unit_id", "commitment")
                                   .annotate(n=Count("pk"))):
        if dept_id is not None:
            per[dept_id][commitment] += n
    departments = Department.objects.filter(pk__in=list(per)).select_related("division")
    return [DepartmentCounts(department=d, counts={c.value: per[d.pk].get(c.value, 0)
                                                   for c in Commitment},
                             total=sum(per[d.pk].values()))
            for d in departments.order_by("division__code", "name")]


@dataclass
class TypeCount:
    item_type: str
    label: str
    count: int


@dataclass
class DepartmentTypeCounts:
    department: Department
    counts: dict[str, int]
    total: int


@dataclass
class PowerList:
    by_type: list[TypeCount]
    by_department: list[DepartmentTypeCounts]
    total: int
    types: list[tuple[str, str]] = field(default_factory=list)  # types present, for columns


def power_list(f: CatalogFilter = CatalogFilter()) -> PowerList:
    """权力清单: every listed item counted by type and by implementing department."""
    rows = list(published_versions(replace(f, item_type=None), received_counts=False).order_by()
                .values_list("item_type", "item__department_id").annotate(n=Count("pk")))
    by_type: Counter[str] = Counter()
    per_dept: dict[int, Counter[str]] = defaultdict(Counter)
    for item_type, dept_id, n in rows:
        by_type[item_type] += n
        per_dept[dept_id][item_type] += n
    departments = Department.objects.filter(pk__in=list(per_dept)).select_related("division")
    present = [t for t in ItemType if by_type[t.value]]
    return PowerList(
        by_type=[TypeCount(item_type=t.value, label=str(t.label), count=by_type[t.value])
                 for t in ItemType],
        by_department=[DepartmentTypeCounts(department=d, counts=dict(per_dept[d.pk]),
                                            total=sum(per_dept[d.pk].values()))
                       for d in departments.order_by("division__code", "name")],
        total=sum(by_type.values()),
        types=[(t.value, str(t.label)) for t in present],
    )


# --- choices for filter forms -----------------------------------------------------------------

class DepartmentChoice(NamedTuple):
    uscc: str
    name: str


@dataclass
class FilterChoices:
    divisions: list[tuple[str, str]]  # code, name indented by its depth in the tree
    departments: list[DepartmentChoice]
    topics: list[tuple[str, int]]


def filter_choices(f: CatalogFilter = CatalogFilter()) -> FilterChoices:
    divisions, departments = _places()
    return FilterChoices(divisions=divisions, departments=departments, topics=topic_counts(f))


def _places() -> tuple[list[tuple[str, str]], list[DepartmentChoice]]:
    """Divisions (as an indented tree) and departments of the filter forms, kept in the cache
    under the guide cache's generation, which a saved or deleted division or department bumps."""
    key = f"catalog:filter-places:{guide_cache.generation()}"
    kept: tuple[list[tuple[str, str]], list[DepartmentChoice]] | None = cache.get(key)
    if kept is None:
        kept = _read_places()
        cache.set(key, kept, timeout=guide_cache.TIMEOUT)
    return kept


def _read_places() -> tuple[list[tuple[str, str]], list[DepartmentChoice]]:
    divisions = list(Division.objects.order_by("code").values_list("pk", "parent_id", "code", "name"))
    depth: dict[int, int] = {}
    for pk, parent_id, _code, _name in divisions:
        depth[pk] = depth[parent_id] + 1 if parent_id in depth else 0
    # Children right after their parent, so the indented list reads as a tree.
    children: dict[int | None, list[tuple[int, str, str]]] = defaultdict(list)
    for pk, parent_id, code, name in divisions:
        children[parent_id if parent_id in depth else None].append((pk, code, name))
    ordered: list[tuple[str, str]] = []

    def walk(parent_id: int | None) -> None:
        for pk, code, name in children.get(parent_id, []):
            ordered.append((code, "\u3000" * depth[pk] + name))
            walk(pk)

    walk(None)
    departments = [DepartmentChoice(uscc, name) for uscc, name in Department.objects.order_by(
        "division__code", "name").values_list("uscc", "name")]
    return ordered, departments


# --- one item ---------------------------------------------------------------------------------

def _with_guide(qs: QuerySet[ItemVersion]) -> QuerySet[ItemVersion]:
    return qs.select_related(
        "item__department__division", "item__department__parent", "receiving_unit__division",
    ).prefetch_related("materials", "fees", "faqs")


def item_by_code(code: str) -> Item | None:
    return Item.objects.select_related("current").filter(implementation_code=code).first()


def published_version_of(item: Item) -> ItemVersion | None:
    """The guide the public sees now, with materials, fees and FAQ loaded."""
    return _with_guide(ItemVersion.objects.filter(item=item, status=S.PUBLISHED)).first()


def published_version_by_id(version_id: int) -> ItemVersion | None:
    """A published version by id, loaded as :func:`published_version_of` loads it."""
    return _with_guide(ItemVersion.objects.filter(pk=version_id, status=S.PUBLISHED)).first()


def public_history(item: Item) -> list[ItemVersion]:
    """Versions the public has seen, newest first (drafts and reviews are never shown)."""
    return list(ItemVersion.objects.filter(item=item, status__in=PUBLIC_STATUSES,
                                           published_at__isnull=False).order_by("-number"))


def public_version(item: Item, number: int) -> ItemVersion | None:
    return _with_guide(ItemVersion.objects.filter(
        item=item, number=number, status__in=PUBLIC_STATUSES, published_at__isnull=False)).first()


def is_cancelled(item: Item) -> bool:
    """The item was published once and its last public version was cancelled."""
    return (item.current is not None and item.current.status == S.CANCELLED
            and not item.versions.filter(status=S.PUBLISHED).exists())


# --- search -----------------------------------------------------------------------------------

@dataclass
class Ranked:
    """Search results among the listed items matching a filter, best first."""

    query: search.ParsedQuery
    item_ids: list[int]
    matched_all: bool  # False when no item had every word and items with any word are shown


def search_ranked(text: str, f: CatalogFilter = CatalogFilter()) -> Ranked:
    result = search.search(text)
    if not result.hits:
        return Ranked(query=result.query, item_ids=[], matched_all=True)
    listed = set(published_versions(f).order_by().values_list("item_id", flat=True))
    return Ranked(query=result.query, item_ids=[h.item_id for h in result.hits if h.item_id in listed],
                  matched_all=result.matched_all)


@dataclass
class SearchRow:
    version: ItemVersion
    highlighted_name: SafeString  # the name, escaped, with matched words in <mark>
    snippet: SafeString  # an excerpt of 受理条件 around the first match, or ""


def search_rows(ids: list[int], query: search.ParsedQuery) -> list[SearchRow]:
    """Published versions of these items in the given order (a page of search results)."""
    found = {v.item_id: v for v in published_versions().filter(item_id__in=ids)}
    return [SearchRow(version=v, highlighted_name=search.highlight(v.name, query),
                      snippet=search.snippet(v.conditions, query))
            for v in (found[i] for i in ids if i in found)]


def department_by_uscc(uscc: str) -> Department | None:
    return (Department.objects.select_related("division", "parent")
            .filter(uscc=uscc).first())


def department_lists(department: Department) -> dict[str, list[ItemVersion]]:
    """A department's listed items per list: those it implements and the 代办 it receives."""
    lists: dict[str, list[ItemVersion]] = {c.value: [] for c in Commitment}
    for v in published_versions(CatalogFilter(department=department.uscc)):
        lists[v.commitment].append(v)
    return lists



# --- finding a service: audiences, life events, how to get it done ---------------------------

def life_event_versions(event: Any) -> QuerySet[ItemVersion]:
    """Listed items of a life event (``catalog.life_events``) for its audience: those in one
    of its 主题分类 or with one of its words in their name."""
    where = Q()
    for topic in event.topics:
        where |= Q(JsonArrayHas(F("topics"), topic))
    for word in event.keywords:
        where |= Q(name__contains=word)
    qs = published_versions(CatalogFilter(service_object=event.audience))
    return qs.filter(where) if where else qs.none()


def life_event_counts(events: Any) -> list[tuple[Any, int]]:
    return [(event, life_event_versions(event).count()) for event in events]


def applies_online(version: ItemVersion) -> bool:
    """Whether an application can be made on this site: handled online (办理形式 网上办理)
    with at least online acceptance (深度 Ⅲ 网上受理 or Ⅳ 全程网办). Depth Ⅰ–Ⅱ items only
    inform or book online; the applicant goes to the window."""
    return "online" in (version.handling_forms or []) and version.online_depth >= OnlineDepth.ACCEPTANCE


@dataclass
class Place:
    """A hall or centre where an item is handled, for the guide's "到哪里办"."""

    hall: Any
    windows: list[Any]
    periods: list[str]  # office periods of a working day, "09:00-12:00"


def places_for(version: ItemVersion, *, limit: int = 4) -> list[Place]:
    """Halls with a window for the item's department (or, for 代办服务, the receiving centre's),
    then halls of the same division with a comprehensive window (综合窗口 accepts any item)."""
    from tongban.organizations.models import Hall, Window

    department_ids = [version.item.department_id]
    if version.receiving_unit_id:
        department_ids.insert(0, version.receiving_unit_id)
    division_id = version.item.department.division_id
    windows = list(
        Window.objects.filter(Q(departments__in=department_ids)
                              | Q(is_comprehensive=True, hall__division_id=division_id)
                              | Q(hall__department_id__in=department_ids))
        .select_related("hall").order_by("hall__name", "number").distinct())
    specific = {w.hall_id for w in windows if not w.is_comprehensive}
    by_hall: dict[int, list[Any]] = defaultdict(list)
    for w in windows:
        by_hall[w.hall_id].append(w)
    receiving_halls = set(Hall.objects.filter(department_id=version.receiving_unit_id)
                          .values_list("pk", flat=True)) if version.receiving_unit_id else set()
    halls = sorted({w.hall for w in windows}, key=lambda h: (h.pk not in receiving_halls,
                                                             h.pk not in specific, h.name))[:limit]
    periods: dict[int, list[str]] = defaultdict(list)
    from tongban.organizations.models import OfficePeriod

    for p in OfficePeriod.objects.filter(hall__in=halls, season_from="").order_by("starts"):
        periods[p.hall_id].append(f"{p.starts:%H:%M}-{p.ends:%H:%M}")
    return [Place(hall=h, windows=by_hall[h.pk], periods=periods[h.pk]) for h in halls]
