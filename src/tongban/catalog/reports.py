"""Reads for the bureau's catalog work (no writes here).

* The catalog quality report (事项梳理): per department, per division (with its sub-divisions)
  and city-wide, computed over the currently published version of every item, checked against
  the published targets in ``settings.CATALOG_TARGETS``.
* The staff's view of the catalog while editing: the items a user may edit with their working
  versions, the review queue, an item's version history and a field-by-field comparison of two
  versions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _

from tongban.accounts import permissions
from tongban.audit.models import AuditRecord
from tongban.clock.deadline import limit_in_working_days
from tongban.core.errors import AccessDenied
from tongban.organizations.models import Department, Division

from .models import (
    Commitment,
    HandlingForm,
    Item,
    ItemVersion,
    Material,
    OnlineDepth,
    ServiceObject,
    VersionStatus,
)
from .rules import ItemData, MaterialData

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

S = VersionStatus

# A week has 5 working days in 7 natural days; limits in natural days are converted with this
# factor so that all limits add up in one unit (domain.md §5: 减时限比例 in working days).
def percent(value: float | None) -> str:
    """A ratio as a percentage with one decimal, or a dash when it is undefined."""
    return "—" if value is None else f"{value * 100:.1f}%"


# --- the quality report ------------------------------------------------------------------------

@dataclass(frozen=True)
class ReportItem:
    """One currently published item as the report sees it."""

    item_id: int
    implementation_code: str
    name: str
    department_id: int
    department_name: str
    commitment: str
    legal_days: float  # working days
    committed_days: float  # working days
    required_visits: int
    online_depth: int

    @property
    def limit_ratio(self) -> float | None:
        """Committed / legal limit; None when the item has no statutory limit (0)."""
        return self.committed_days / self.legal_days if self.legal_days > 0 else None

    @property
    def limit_ratio_pct(self) -> str:
        return percent(self.limit_ratio)


@dataclass
class TargetCheck:
    """One published target checked on a set of items, with the items that pull it down."""

    key: str
    label: Any
    target: float
    actual: float | None
    met: bool
    responsible_label: Any
    responsible: list[ReportItem]

    @property
    def target_pct(self) -> str:
        return percent(self.target)

    @property
    def actual_pct(self) -> str:
        return percent(self.actual)


@dataclass
class Figures:
    """The report's figures for one scope (a department, a division or the whole city)."""

    kind: str  # "city", "division" or "department"
    key: str  # division code, department USCC, or "" for the city
    name: str
    items: int = 0
    per_commitment: dict[str, int] = field(default_factory=dict)
    legal_days: float = 0.0  # Σ legal limits of items that have one, in working days
    saved_days: float = 0.0  # Σ (legal − committed) over the same items
    timed_items: int = 0  # items that have a statutory limit (> 0)
    max_one_visit: int = 0
    zero_visit: int = 0
    fully_online: int = 0
    checks: list[TargetCheck] = field(default_factory=list)

    @property
    def time_reduction(self) -> float | None:
        return self.saved_days / self.legal_days if self.legal_days > 0 else None

    def share(self, count: int) -> float | None:
        return count / self.items if self.items else None

    @property
    def max_one_visit_share(self) -> float | None:
        return self.share(self.max_one_visit)

    @property
    def zero_visit_share(self) -> float | None:
        return self.share(self.zero_visit)

    @property
    def fully_online_share(self) -> float | None:
        return self.share(self.fully_online)

    @property
    def missed(self) -> list[TargetCheck]:
        return [c for c in self.checks if not c.met]

    @property
    def committed_days(self) -> float:
        return self.legal_days - self.saved_days

    # Percentages as shown on the page.
    @property
    def time_reduction_pct(self) -> str:
        return percent(self.time_reduction)

    @property
    def max_one_visit_pct(self) -> str:
        return percent(self.max_one_visit_share)

    @property
    def zero_visit_pct(self) -> str:
        return percent(self.zero_visit_share)

    @property
    def fully_online_pct(self) -> str:
        return percent(self.fully_online_share)

    def commitment_counts(self) -> list[tuple[str, Any, int]]:
        """(value, label, count) for each of the four lists, in their usual order."""
        return [(c.value, c.label, self.per_commitment.get(c.value, 0)) for c in Commitment]


@dataclass
class QualityReport:
    targets: dict[str, float]
    scope: Figures
    divisions: list[Figures]
    departments: list[Figures]


def _figures(kind: str, key: str, name: str, items: list[ReportItem],
             targets: dict[str, float]) -> Figures:
    fig = Figures(kind=kind, key=key, name=name, items=len(items),
                  per_commitment={c.value: 0 for c in Commitment})
    for it in items:
        fig.per_commitment[it.commitment] = fig.per_commitment.get(it.commitment, 0) + 1
        if it.legal_days > 0:
            # Items without a statutory limit (0) have nothing to reduce; they stay out of both sums.
            fig.timed_items += 1
            fig.legal_days += it.legal_days
            fig.saved_days += it.legal_days - it.committed_days
        fig.max_one_visit += it.required_visits <= 1
        fig.zero_visit += it.required_visits == 0
        fig.fully_online += it.online_depth == OnlineDepth.FULLY_ONLINE
    if items:
        fig.checks = _checks(fig, items, targets)
    return fig


def _checks(fig: Figures, items: list[ReportItem], targets: dict[str, float]) -> list[TargetCheck]:
    by_visits = sorted(items, key=lambda i: (-i.required_visits, i.implementation_code))
    checks = []
    target = targets["max_one_visit_share"]
    share = fig.max_one_visit_share
    checks.append(TargetCheck(
        key="max_one_visit_share", label=_("最多跑一次事项占比"), target=target, actual=share,
        met=share is not None and share >= target,
        responsible_label=_("到现场次数多于1次的事项"),
        responsible=[i for i in by_visits if i.required_visits > 1]))
    target = targets["zero_visit_share"]
    share = fig.zero_visit_share
    checks.append(TargetCheck(
        key="zero_visit_share", label=_("零跑动事项占比"), target=target, actual=share,
        met=share is not None and share >= target,
        responsible_label=_("仍需到现场的事项"),
        responsible=[i for i in by_visits if i.required_visits >= 1]))
    target = targets["time_reduction"]
    reduction = fig.time_reduction
    ceiling = 1 - target  # committed/legal above this pulls the average reduction under target
    slow = [i for i in items if i.limit_ratio is not None and i.limit_ratio > ceiling]
    checks.append(TargetCheck(
        key="time_reduction", label=_("承诺时限压缩比例"), target=target, actual=reduction,
        # With no statutory limits at all there is nothing to compress, hence nothing missed.
        met=reduction is None or reduction >= target,
        responsible_label=_("承诺时限超过法定时限%(pct)s%%的事项") % {"pct": round(ceiling * 100)},
        responsible=sorted(slow, key=lambda i: (-(i.limit_ratio or 0), i.implementation_code))))
    return checks


def report_items(*, department_ids: Iterable[int] | None = None) -> list[ReportItem]:
    """Every item whose current version is published (optionally of some departments)."""
    qs = Item.objects.filter(current__status=S.PUBLISHED)
    if department_ids is not None:
        qs = qs.filter(department_id__in=list(department_ids))
    rows = qs.order_by("implementation_code").values_list(
        "pk", "implementation_code", "current__name", "department_id", "department__name",
        "current__commitment", "current__legal_limit", "current__legal_limit_unit",
        "current__committed_limit", "current__committed_limit_unit", "current__required_visits",
        "current__online_depth",
    )
    return [
        ReportItem(item_id=pk, implementation_code=code, name=name, department_id=dept_id,
                   department_name=dept_name, commitment=commitment,
                   legal_days=limit_in_working_days(legal, legal_unit),
                   committed_days=limit_in_working_days(committed, committed_unit),
                   required_visits=visits, online_depth=depth)
        for (pk, code, name, dept_id, dept_name, commitment, legal, legal_unit, committed,
             committed_unit, visits, depth) in rows
    ]


def find_department(value: str) -> Department | None:
    """A department by id or by 统一社会信用代码."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isdecimal() and len(value) < 18:
        return Department.objects.filter(pk=int(value)).first()
    return Department.objects.filter(uscc=value.upper()).first()


def quality_report(*, division: Division | None = None,
                   department: Department | None = None) -> QualityReport:
    """The 事项梳理 report, city-wide or limited to a division (with sub-divisions) or department.

    Only items whose current version is published count.
    """
    targets = dict(settings.CATALOG_TARGETS)
    divisions = {d.pk: d for d in Division.objects.all()}
    children: dict[int | None, list[int]] = defaultdict(list)
    for d in divisions.values():
        children[d.parent_id].append(d.pk)

    def subtree(root: int) -> list[int]:
        ids, frontier = [], [root]
        while frontier:
            ids.extend(frontier)
            frontier = [c for p in frontier for c in children.get(p, [])]
        return ids

    departments = Department.objects.all()
    scope_divisions: list[int] | None = None
    if division is not None:
        scope_divisions = subtree(division.pk)
        departments = departments.filter(division_id__in=scope_divisions)
    if department is not None:
        departments = departments.filter(pk=department.pk)
    dept_division = dict(departments.values_list("pk", "division_id"))
    uscc = dict(departments.values_list("pk", "uscc"))
    items = report_items(department_ids=dept_division.keys())

    if department is not None:
        scope = _figures("department", department.uscc, department.name, items, targets)
    elif division is not None:
        scope = _figures("division", division.code, division.name, items, targets)
    else:
        scope = _figures("city", "", str(_("全市")), items, targets)

    by_department: dict[int, list[ReportItem]] = defaultdict(list)
    for it in items:
        by_department[it.department_id].append(it)
    department_rows = sorted(
        (_figures("department", uscc[d], group[0].department_name, group, targets)
         for d, group in by_department.items()),
        key=lambda f: f.name)

    # Each division's row covers its own departments and those of every division below it.
    by_division: dict[int, list[ReportItem]] = defaultdict(list)
    for it in items:
        by_division[dept_division[it.department_id]].append(it)
    candidates = scope_divisions if scope_divisions is not None else list(divisions)
    division_rows = []
    for pk in sorted(candidates, key=lambda p: divisions[p].code):
        group = [it for d in subtree(pk) for it in by_division.get(d, [])]
        if group:
            division_rows.append(_figures("division", divisions[pk].code, divisions[pk].name,
                                          group, targets))
    return QualityReport(targets=targets, scope=scope, divisions=division_rows,
                         departments=department_rows)


# --- the staff's view while editing ------------------------------------------------------------

def editable_departments(user: Actor) -> QuerySet[Department]:
    """The departments whose items ``user`` may draft; AccessDenied for those who may draft none.

    The bureau edits every department; department staff only their own (``can_edit_item``).
    """
    if permissions.is_bureau_admin(user):
        return Department.objects.all()
    department = getattr(user, "department", None)
    if department is not None and permissions.can_edit_item(user, department):
        return Department.objects.filter(pk=department.pk)
    raise AccessDenied(_("您无权查看或编辑事项目录"))


WORKING = (S.DRAFT, S.UNDER_REVIEW)


def staff_items(*, user: Actor, status: str = "", department: int | None = None,
                commitment: str = "", query: str = "") -> QuerySet[Item]:
    """Items ``user`` may edit, each with its latest version and working version annotated.

    ``status``: ``draft`` / ``under_review`` (has such a version), ``published`` /
    ``cancelled`` (state of the current version).
    """
    latest = ItemVersion.objects.filter(item=OuterRef("pk")).order_by("-number")
    working = ItemVersion.objects.filter(item=OuterRef("pk"), status__in=WORKING)
    qs = (Item.objects.filter(department__in=editable_departments(user))
          .select_related("department", "current")
          .annotate(latest_name=Subquery(latest.values("name")[:1]),
                    latest_commitment=Subquery(latest.values("commitment")[:1]),
                    working_status=Subquery(working.values("status")[:1]),
                    working_number=Subquery(working.values("number")[:1])))
    if status in WORKING:
        qs = qs.filter(Exists(working.filter(status=status)))
    elif status in (S.PUBLISHED, S.CANCELLED):
        qs = qs.filter(current__status=status)
    if department:
        qs = qs.filter(department_id=department)
    if commitment:
        qs = qs.filter(latest_commitment=commitment)
    if query.strip():
        q = query.strip()
        qs = qs.filter(Q(latest_name__icontains=q) | Q(implementation_code__icontains=q))
    return qs.order_by("department__name", "implementation_code")


def staff_versions(*, user: Actor, statuses: Iterable[str] = WORKING) -> QuerySet[ItemVersion]:
    """Versions in ``statuses`` of the items ``user`` may edit (drafts and those under review)."""
    return (ItemVersion.objects
            .filter(status__in=list(statuses), item__department__in=editable_departments(user))
            .select_related("item", "item__department", "created_by", "receiving_unit")
            .prefetch_related("materials")
            .order_by("item__implementation_code", "-number"))


def review_queue() -> QuerySet[ItemVersion]:
    """Versions waiting for the bureau's review, oldest first."""
    return (ItemVersion.objects.filter(status=S.UNDER_REVIEW)
            .select_related("item", "item__department", "created_by")
            .order_by("created_at", "pk"))


def working_version(item: Item) -> ItemVersion | None:
    """The item's draft or version under review, if any (there is at most one)."""
    return item.versions.filter(status__in=WORKING).order_by("-number").first()


def item_for_staff(*, user: Actor, implementation_code: str) -> Item | None:
    """The item with this code if ``user`` may see its drafts and history, else None."""
    return (Item.objects.filter(implementation_code=implementation_code,
                                department__in=editable_departments(user))
            .select_related("department", "current").first())


def version_history(item: Item) -> QuerySet[ItemVersion]:
    """Every version of ``item``, newest first, with who made and published it."""
    return (item.versions.select_related("created_by", "published_by", "receiving_unit")
            .prefetch_related("materials").order_by("-number"))


ACTION_LABELS = {
    "catalog.draft_saved": _("保存草稿"),
    "catalog.submitted": _("提交审核"),
    "catalog.returned": _("退回修改"),
    "catalog.published": _("审核发布"),
    "catalog.cancelled": _("取消事项"),
}


@dataclass
class TrailEntry:
    at: Any
    actor: str
    action: Any
    version: Any
    note: str


def item_audit_trail(item: Item) -> list[TrailEntry]:
    """The recorded actions on ``item`` (draft saved, submitted, returned, ...), oldest first."""
    records = AuditRecord.objects.filter(object_type="item", object_id=item.implementation_code)
    return [
        TrailEntry(at=r.at, actor=r.actor_name, action=ACTION_LABELS.get(r.action, r.action),
                   version=r.detail.get("version", ""),
                   note=str(r.detail.get("note") or r.detail.get("reason") or ""))
        for r in records.order_by("seq")
    ]


# --- comparing two versions --------------------------------------------------------------------

@dataclass
class FieldChange:
    name: str
    label: str
    old: str
    new: str

    @property
    def changed(self) -> bool:
        return self.old != self.new


@dataclass
class MaterialChange:
    name: str
    change: str  # "added", "removed", "changed" or "same"
    fields: list[FieldChange]

    @property
    def label(self) -> Any:
        return {"added": _("新增"), "removed": _("删除"), "changed": _("修改"),
                "same": _("未变")}[self.change]


@dataclass
class VersionDiff:
    old: ItemVersion
    new: ItemVersion
    fields: list[FieldChange]
    materials: list[MaterialChange]

    @property
    def changed_fields(self) -> list[FieldChange]:
        return [f for f in self.fields if f.changed]

    @property
    def changed_materials(self) -> list[MaterialChange]:
        return [m for m in self.materials if m.change != "same"]


def _verbose_name(model: Any, name: str) -> str:
    return str(getattr(model._meta.get_field(name), "verbose_name", name))


def _choice_labels(model: Any, name: str) -> dict[Any, Any]:
    return dict(getattr(model._meta.get_field(name), "choices", None) or [])


_CHOICE_LISTS: dict[str, Any] = {"handling_forms": HandlingForm, "service_objects": ServiceObject}


def _display_version_value(version: ItemVersion, name: str) -> str:
    value = getattr(version, name)
    if name == "receiving_unit":
        return value.name if value else ""
    if name in _CHOICE_LISTS:
        labels = dict(_CHOICE_LISTS[name].choices)
        return "、".join(str(labels.get(v, v)) for v in value)
    if name == "topics":
        return "；".join(value)
    if isinstance(value, bool):
        return str(_("是") if value else _("否"))
    labels = _choice_labels(ItemVersion, name)
    if labels:
        return str(labels.get(value, value))
    return "" if value is None else str(value)


def _display_material_value(material: Material, name: str) -> str:
    value = getattr(material, name)
    labels = _choice_labels(Material, name)
    return str(labels.get(value, value)) if labels else str(value)


MATERIAL_FIELDS = [f for f in MaterialData.__dataclass_fields__ if f != "name"]


def version_diff(old: ItemVersion, new: ItemVersion) -> VersionDiff:
    """Field by field, and material by material (matched by name), what changed from old to new."""
    fields = [
        FieldChange(name=name, label=_verbose_name(ItemVersion, name),
                    old=_display_version_value(old, name), new=_display_version_value(new, name))
        for name in ItemData.VERSION_FIELDS
    ]
    old_materials = {m.name: m for m in old.materials.all()}
    new_materials = {m.name: m for m in new.materials.all()}
    materials: list[MaterialChange] = []
    for name, m in new_materials.items():
        before = old_materials.get(name)
        changes = [
            FieldChange(name=f, label=_verbose_name(Material, f),
                        old=_display_material_value(before, f) if before else "",
                        new=_display_material_value(m, f))
            for f in MATERIAL_FIELDS
        ]
        if before is None:
            materials.append(MaterialChange(name=name, change="added", fields=changes))
        else:
            changed = [c for c in changes if c.changed]
            if before.position != m.position:
                changed.insert(0, FieldChange(name="position", label=str(_("序号")),
                                              old=str(before.position), new=str(m.position)))
            materials.append(MaterialChange(name=name, change="changed" if changed else "same",
                                            fields=changed))
    for name, m in old_materials.items():
        if name not in new_materials:
            materials.append(MaterialChange(name=name, change="removed", fields=[
                FieldChange(name=f, label=_verbose_name(Material, f),
                            old=_display_material_value(m, f), new="")
                for f in MATERIAL_FIELDS]))
    return VersionDiff(old=old, new=new, fields=fields, materials=materials)
