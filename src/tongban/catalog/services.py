"""Writes to the catalog. Every door (admin, API, pages, workbook, commands) calls these.

Versions follow one state machine (``TRANSITIONS``); a published version is frozen, an edit
makes a new draft, publication supersedes the previous published version, and every change is
audited in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import CharField, F, Max, OuterRef, Subquery, Value
from django.db.models.functions import Concat
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.accounts import permissions
from tongban.audit.services import audit_record
from tongban.core.errors import AccessDenied, Problem, RuleViolation
from tongban.organizations.models import Department

from . import bulk, search
from .models import Faq, Fee, Item, ItemVersion, Material, VersionStatus
from .rules import ItemData, MaterialData, check_item

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

S = VersionStatus
TRANSITIONS: dict[str, set[str]] = {
    S.DRAFT: {S.UNDER_REVIEW},
    S.UNDER_REVIEW: {S.DRAFT, S.PUBLISHED},
    S.PUBLISHED: {S.SUPERSEDED, S.CANCELLED},
    S.SUPERSEDED: set(),
    S.CANCELLED: set(),
}


def _require(allowed: bool) -> None:
    if not allowed:
        raise AccessDenied(_("您无权执行此操作"))


def _move(version: ItemVersion, to: str) -> None:
    if to not in TRANSITIONS[version.status]:
        raise RuleViolation([Problem(field="status", message=_(
            "版本状态“%(from)s”不能变为“%(to)s”") % {
            "from": S(version.status).label, "to": S(to).label})])
    version.status = to


# --- content: the comparable form of a version ------------------------------------------------

def material_values(material: MaterialData) -> dict[str, Any]:
    return {k: getattr(material, k) for k in MaterialData.__dataclass_fields__}


def data_content(data: ItemData) -> dict[str, Any]:
    """What an ItemData would store, in a form comparable with :func:`version_content`."""
    values = data.version_values()
    values["receiving_unit"] = data.receiving_unit.pk if data.receiving_unit else None
    values["materials"] = [material_values(m) for m in data.materials]
    return values


def version_content(version: ItemVersion) -> dict[str, Any]:
    values = {name: getattr(version, name) for name in ItemData.VERSION_FIELDS}
    values["receiving_unit"] = version.receiving_unit_id
    values["materials"] = [
        {k: getattr(m, k) for k in MaterialData.__dataclass_fields__}
        for m in version.materials.all()
    ]
    return values


def version_to_data(version: ItemVersion) -> ItemData:
    """The editable content of a stored version (used to start a new draft from it)."""
    item = version.item
    values = {name: getattr(version, name) for name in ItemData.VERSION_FIELDS}
    return ItemData(
        implementation_code=item.implementation_code, basic_code=item.basic_code,
        department=item.department,
        materials=[MaterialData(**{k: getattr(m, k) for k in MaterialData.__dataclass_fields__})
                   for m in version.materials.all()],
        **values,
    )


def _validate(data: ItemData) -> None:
    problems = check_item(data)
    if problems:
        raise RuleViolation(problems)


def _write_version(item: Item, data: ItemData, *, actor: Actor, status: str,
                   change_note: str = "") -> ItemVersion:
    number = (item.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    user = permissions.account_of(actor)
    version = ItemVersion.objects.create(
        item=item, number=number, status=status, created_by=user,
        change_note=change_note, **data.version_values(),
    )
    Material.objects.bulk_create([
        Material(version=version, position=i, **material_values(m))
        for i, m in enumerate(data.materials, start=1)
    ])
    return version


def published_unindexed() -> Exact:
    """``status = 'published'``, written so that no index serves it, for queries that also
    name their items: SQLite's planner (no statistics) otherwise prefers the index on the
    versions' status to the item ids and scans every published version for each chunk of
    500 items — most of a 50,000-item import's publishing and of its re-import's comparison
    and carry-over."""
    return Exact(Concat(F("status"), Value(""), output_field=CharField()), S.PUBLISHED)


def versions_publish(*, actor: Actor, contents: Mapping[int, ItemData], note: str = "",
                     import_detail: dict[str, Any] | None = None, checked: bool = False) -> None:
    """Publish versions under review: the one way a version becomes the public one.

    ``contents`` maps each version's id to its content (what :func:`check_item` checks).
    Every door comes here — the review of one version (admin action, bureau page, API:
    :func:`version_review`) and a bureau workbook (:func:`catalog_apply`, whose new versions
    enter under review) — so the same checks apply: the bureau's right to publish, each version
    under review, each content passing the catalog rules as they are now. The previous published
    version of each item is superseded, the item points at its new version, search follows.

    Audited as ``catalog.published`` per version with ``note``; a workbook is recorded as one
    ``catalog.imported`` with ``import_detail`` (the file is the approval of all its items).
    Must run inside the caller's transaction. Works in chunks, for a province-sized workbook.

    ``checked``: the caller has just run :func:`check_item` on every one of these contents in
    this same transaction and refused any fault (the workbook import, which points each fault
    at its cell): the rules are not run a second time over the same objects.
    """
    _require(permissions.can_publish_item(actor))
    ids = list(contents)
    states: dict[int, tuple[int, str]] = {}
    for chunk in _chunks(ids):
        states.update((pk, (item_id, status)) for pk, item_id, status in (
            ItemVersion.objects.select_for_update().filter(pk__in=chunk)
            .values_list("pk", "item_id", "status")))
    for pk in ids:
        status = states[pk][1]
        if S.PUBLISHED not in TRANSITIONS[status]:
            _move(ItemVersion(status=status), S.PUBLISHED)  # raises with the state names
    if not checked:
        # Re-checked: the rules may have tightened since the content was written.
        problems = [p for data in contents.values() for p in check_item(data)]
        if problems:
            raise RuleViolation(problems)

    user = permissions.account_of(actor)
    now = timezone.now()
    item_ids = [states[pk][0] for pk in ids]
    for chunk in _chunks(list(zip(ids, item_ids, strict=True))):
        versions, items = [pk for pk, _i in chunk], [i for _pk, i in chunk]
        # Superseded first: the database allows one published version per item.
        ItemVersion.objects.filter(published_unindexed(), item_id__in=items).update(status=S.SUPERSEDED)
        ItemVersion.objects.filter(pk__in=versions).update(
            status=S.PUBLISHED, published_at=now, published_by=user, review_note=note)
        Item.objects.filter(pk__in=items).update(current=Subquery(
            ItemVersion.objects.filter(item_id=OuterRef("pk"), status=S.PUBLISHED).values("pk")[:1]))
    search.reindex_items(item_ids)
    if import_detail is not None:
        source = str(import_detail["source"])
        audit_record(actor=actor, action="catalog.imported", object_type="catalog",
                     object_id=source[:64],  # the column's width; the detail keeps the whole name
                     detail=import_detail)
        return
    for code, number in ItemVersion.objects.filter(pk__in=ids).order_by("pk").values_list(
            "item__implementation_code", "number"):
        audit_record(actor=actor, action="catalog.published", object_type="item",
                     object_id=code, detail={"version": number, "note": note})


# --- the editing path: draft → under review → published -------------------------------------

@transaction.atomic
def item_save_draft(*, actor: Actor, data: ItemData, change_note: str = "") -> ItemVersion:
    """Create or update the draft version of the item ``data.implementation_code``.

    A new code creates the item. If the item has a draft, it is overwritten; otherwise a new
    draft is made (published versions are never edited).
    """
    if data.department is None:
        raise RuleViolation([Problem(field="department", message=_("实施主体不存在"))])
    _require(permissions.can_edit_item(actor, data.department))
    _validate(data)
    item, created = Item.objects.select_for_update().get_or_create(
        implementation_code=data.implementation_code,
        defaults={"basic_code": data.basic_code, "department": data.department},
    )
    draft = item.versions.filter(status__in=[S.DRAFT, S.UNDER_REVIEW]).first()
    if draft is not None and draft.status == S.UNDER_REVIEW:
        raise RuleViolation([Problem(field="status", message=_(
            "该事项有一个审核中的版本，请先审核或退回后再修改"))])
    if draft is not None:
        for name, value in data.version_values().items():
            setattr(draft, name, value)
        draft.change_note = change_note
        draft.save()
        draft.materials.all().delete()
        Material.objects.bulk_create([
            Material(version=draft, position=i, **material_values(m))
            for i, m in enumerate(data.materials, start=1)
        ])
    else:
        draft = _write_version(item, data, actor=actor, status=S.DRAFT, change_note=change_note)
        if item.current is not None:
            # Fees and FAQ are not part of ItemData; a new draft keeps the current version's.
            Fee.objects.bulk_create([Fee(version=draft, name=f.name, amount=f.amount, unit=f.unit,
                                         basis=f.basis) for f in item.current.fees.all()])
            Faq.objects.bulk_create([Faq(version=draft, position=f.position, question=f.question,
                                         answer=f.answer) for f in item.current.faqs.all()])
    audit_record(actor=actor, action="catalog.draft_saved", object_type="item",
                 object_id=item.implementation_code,
                 detail={"version": draft.number, "created": created, "note": change_note})
    return draft


@transaction.atomic
def version_submit(*, actor: Actor, version: ItemVersion) -> ItemVersion:
    version = ItemVersion.objects.select_for_update().get(pk=version.pk)
    _require(permissions.can_edit_item(actor, version.item.department))
    _move(version, S.UNDER_REVIEW)
    version.save(update_fields=["status"])
    audit_record(actor=actor, action="catalog.submitted", object_type="item",
                 object_id=version.item.implementation_code, detail={"version": version.number})
    return version


@transaction.atomic
def version_review(*, actor: Actor, version: ItemVersion, approve: bool, note: str = "") -> ItemVersion:
    """The bureau publishes a version under review, or returns it to draft with a note."""
    version = ItemVersion.objects.select_for_update().get(pk=version.pk)
    _require(permissions.can_publish_item(actor))
    if approve:
        if version.status != S.UNDER_REVIEW:
            _move(version, S.PUBLISHED)  # raises with the state names
        versions_publish(actor=actor, contents={version.pk: version_to_data(version)}, note=note)
        version.refresh_from_db()
        return version
    if not note.strip():
        raise RuleViolation([Problem(field="note", message=_("退回时须填写审核意见"))])
    _move(version, S.DRAFT)
    version.review_note = note
    version.save(update_fields=["status", "review_note"])
    audit_record(actor=actor, action="catalog.returned", object_type="item",
                 object_id=version.item.implementation_code,
                 detail={"version": version.number, "note": note})
    return version


@transaction.atomic
def item_cancel(*, actor: Actor, item: Item, reason: str) -> Item:
    """Cancel (取消) an item: its published version leaves the public lists for good."""
    _require(permissions.can_publish_item(actor))
    if not reason.strip():
        raise RuleViolation([Problem(field="reason", message=_("取消事项须说明理由"))])
    item = Item.objects.select_for_update().get(pk=item.pk)
    version = item.versions.filter(status=S.PUBLISHED).first()
    if version is None:
        raise RuleViolation([Problem(field="status", message=_("该事项没有已发布的版本"))])
    _move(version, S.CANCELLED)
    version.review_note = reason
    version.save(update_fields=["status", "review_note"])
    search.reindex_items([item.pk])
    audit_record(actor=actor, action="catalog.cancelled", object_type="item",
                 object_id=item.implementation_code,
                 detail={"version": version.number, "reason": reason})
    return item


# --- the bulk path: a whole workbook from the bureau -----------------------------------------

@dataclass
class DepartmentData:
    name: str
    uscc: str
    division_code: str
    level: str
    parent_name: str
    consultation_phone: str
    complaint_phone: str
    address: str


@dataclass
class ApplyResult:
    departments_created: int = 0
    departments_updated: int = 0
    departments_unchanged: int = 0
    items_created: int = 0
    items_updated: int = 0
    items_unchanged: int = 0
    materials_written: int = 0  # materials of the versions written (created or updated items)
    materials_unchanged: int = 0  # materials of the unchanged items

    @property
    def changed(self) -> bool:
        return bool(self.departments_created or self.departments_updated
                    or self.items_created or self.items_updated)


# Rows per query in the bulk path: keeps ``IN (...)`` lists under SQLite's parameter limit.
BULK_CHUNK = 500


def _chunks(values: list[Any], size: int = BULK_CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _published_contents(item_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Item id → :func:`version_content` of its published version, read in a few queries."""
    contents: dict[int, dict[str, Any]] = {}
    fields = [*ItemData.VERSION_FIELDS]
    for chunk in _chunks(item_ids):
        by_version: dict[int, dict[str, Any]] = {}
        rows = ItemVersion.objects.filter(published_unindexed(), item_id__in=chunk).values(
            "pk", "item_id", *fields)
        for row in rows:
            # values() gives a foreign key's id under its field name, as version_content has it.
            content = {name: row[name] for name in fields}
            content["materials"] = []
            contents[row["item_id"]] = by_version[row["pk"]] = content
        materials = Material.objects.filter(version_id__in=list(by_version)).order_by(
            "version_id", "position").values("version_id", *MaterialData.__dataclass_fields__)
        for m in materials:
            by_version[m.pop("version_id")]["materials"].append(m)
    return contents


def catalog_apply(*, actor: Actor, items: Iterable[ItemData], source: str) -> ApplyResult:
    """Upsert validated items by 实施编码, publishing a new version where content changed.

    Must be called inside the importer's transaction after departments were written, with items
    that passed :func:`check_item` and distinct codes. Items whose content equals their
    published version are left alone, so re-importing a file changes nothing. A changed item
    gets a new version published by :func:`versions_publish` (the previous one is superseded)
    without waiting for a review: the bureau's workbook is the approved list. One audit record
    covers the import.

    Works in bulk (a few queries per 500 items) so that a province-sized workbook loads in
    minutes, not hours.
    """
    _require(permissions.can_import_catalog(actor))
    result = ApplyResult()
    items = list(items)
    writes: list[tuple[Item | int, ItemData]] = []  # a new Item, or the id of an existing one
    # Compared a chunk at a time: only one chunk's stored content is held in memory.
    for batch in _chunks(items):
        existing = dict(Item.objects.filter(
            implementation_code__in=[d.implementation_code for d in batch],
        ).values_list("implementation_code", "pk"))
        published = _published_contents(list(existing.values()))
        for data in batch:
            item_id = existing.get(data.implementation_code)
            if item_id is None:
                assert data.department is not None  # checked by check_item before we get here
                item = Item(implementation_code=data.implementation_code,
                            basic_code=data.basic_code, department=data.department)
                writes.append((item, data))
                result.items_created += 1
            elif published.get(item_id) == data_content(data):
                result.items_unchanged += 1
                result.materials_unchanged += len(data.materials)
            else:
                writes.append((item_id, data))
                result.items_updated += 1
    if not writes:
        return result

    updated_ids = [target for target, _data in writes if isinstance(target, int)]
    numbers: dict[int, int] = {}
    for chunk in _chunks(updated_ids):
        numbers.update(ItemVersion.objects.filter(item_id__in=chunk).values("item_id")
                       .annotate(n=Max("number")).values_list("item_id", "n"))

    user = permissions.account_of(actor)
    user_id = user.pk if user is not None else None
    note = str(_("目录导入：%(source)s") % {"source": source})
    now = timezone.now()
    contents: dict[int, ItemData] = {}
    # Written a chunk at a time, as rows rather than model objects (``bulk``), so that a large
    # workbook never holds all rows as model objects. They enter under review; versions_publish
    # then publishes them all, as a review would.
    for chunk in _chunks(writes):
        codes = [t.implementation_code for t, _data in chunk if isinstance(t, Item)]
        if codes:
            _ITEM_ROWS.insert((t.implementation_code, t.basic_code, t.department_id, now)
                              for t, _data in chunk if isinstance(t, Item))
            ids = dict(Item.objects.filter(implementation_code__in=codes)
                       .values_list("implementation_code", "pk"))
            for t, _data in chunk:
                if isinstance(t, Item):
                    t.pk = ids[t.implementation_code]
        targets = [(t.pk if isinstance(t, Item) else t, data) for t, data in chunk]
        _VERSION_ROWS.insert(
            (item_id, numbers.get(item_id, 0) + 1, S.UNDER_REVIEW, user_id, note, "", now,
             *[getattr(data, name) for name in _VERSION_DATA],
             data.receiving_unit.pk if data.receiving_unit is not None else None)
            for item_id, data in targets)
        wanted = {(item_id, numbers.get(item_id, 0) + 1) for item_id, _data in targets}
        version_ids = {(item_id, number): pk for pk, item_id, number in ItemVersion.objects.filter(
            item_id__in=[item_id for item_id, _data in targets]).values_list("pk", "item_id", "number")
            if (item_id, number) in wanted}
        written = [(version_ids[(item_id, numbers.get(item_id, 0) + 1)], item_id, data)
                   for item_id, data in targets]
        _MATERIAL_ROWS.insert(
            (version_id, i, *[getattr(m, name) for name in _MATERIAL_DATA])
            for version_id, _item_id, data in written
            for i, m in enumerate(data.materials, start=1))
        result.materials_written += sum(len(data.materials) for _v, _i, data in written)
        _carry_fees_and_faqs([(version_id, item_id) for version_id, item_id, _data in written],
                             numbers)
        contents.update((version_id, data) for version_id, _item_id, data in written)
    # The importer has run check_item on every item of the file (each fault at its cell)
    # moments ago, in this transaction, on these very objects: the rules run once.
    versions_publish(actor=actor, contents=contents, checked=True, import_detail={
        "source": source, "created": result.items_created, "updated": result.items_updated,
        "unchanged": result.items_unchanged})
    return result


# The columns the import writes, in the order of its rows (bulk.Rows).
_VERSION_DATA = [name for name in ItemData.VERSION_FIELDS if name != "receiving_unit"]
_MATERIAL_DATA = list(MaterialData.__dataclass_fields__)
_ITEM_ROWS = bulk.Rows(Item, ["implementation_code", "basic_code", "department", "created_at"])
_VERSION_ROWS = bulk.Rows(ItemVersion, ["item", "number", "status", "created_by", "change_note",
                                        "review_note", "created_at", *_VERSION_DATA,
                                        "receiving_unit"])
_MATERIAL_ROWS = bulk.Rows(Material, ["version", "position", *_MATERIAL_DATA])


def _carry_fees_and_faqs(versions: list[tuple[int, int]], previous: dict[int, int]) -> None:
    """Fee and FAQ rows have no column in the workbook: a re-imported item keeps those of the
    version it supersedes (``versions``: the new versions' ids and item ids; ``previous`` maps
    item id → the number of the version it supersedes)."""
    wanted = {(item_id, previous[item_id]): pk for pk, item_id in versions if item_id in previous}
    if not wanted:
        return
    old_to_new = {
        pk: wanted[(item_id, number)]
        for pk, item_id, number in ItemVersion.objects.filter(
            item_id__in=[item_id for item_id, _n in wanted]).values_list("pk", "item_id", "number")
        if (item_id, number) in wanted
    }
    Fee.objects.bulk_create([
        Fee(version_id=old_to_new[f.version_id], name=f.name, amount=f.amount, unit=f.unit,
            basis=f.basis)
        for f in Fee.objects.filter(version_id__in=old_to_new)
    ])
    Faq.objects.bulk_create([
        Faq(version_id=old_to_new[f.version_id], position=f.position, question=f.question,
            answer=f.answer)
        for f in Faq.objects.filter(version_id__in=old_to_new)
    ])


def department_values(data: DepartmentData, division_id: int, parent_id: int | None) -> dict[str, Any]:
    return {
        "name": data.name, "division_id": division_id, "level": data.level,
        "parent_id": parent_id, "consultation_phone": data.consultation_phone,
        "complaint_phone": data.complaint_phone, "address": data.address,
    }


def departments_apply(*, actor: Actor, departments: list[DepartmentData],
                      division_ids: dict[str, int], result: ApplyResult) -> dict[str, Department]:
    """Upsert departments by 统一社会信用代码; returns every department by its name after the upsert.

    Must be called inside the importer's transaction with checked data (distinct names and
    codes, parents that exist in ``departments`` or the database). New departments are created
    first, so that a parent named later in the list exists when parents are linked; each created
    or changed department is audited.
    """
    _require(permissions.can_import_catalog(actor))
    every = list(Department.objects.order_by("pk"))
    by_uscc = {d.uscc: d for d in every}
    created: set[str] = set()
    new = [Department(uscc=data.uscc, **department_values(data, division_ids[data.division_code],
                                                          None))
           for data in departments if data.uscc not in by_uscc]
    Department.objects.bulk_create(new, batch_size=BULK_CHUNK)
    for dept in new:
        by_uscc[dept.uscc] = dept
        created.add(dept.uscc)
        result.departments_created += 1
        audit_record(actor=actor, action="department.created", object_type="department",
                     object_id=dept.uscc, detail={"name": dept.name})

    in_list = {data.uscc for data in departments}
    by_name = {d.name: d for d in every if d.uscc not in in_list}
    by_name.update({data.name: by_uscc[data.uscc] for data in departments})
    for data in departments:
        dept = by_uscc[data.uscc]
        parent = by_name[data.parent_name] if data.parent_name else None
        values = department_values(data, division_ids[data.division_code],
                                   parent.pk if parent else None)
        changed = {k: v for k, v in values.items() if getattr(dept, k) != v}
        if not changed:
            if data.uscc not in created:
                result.departments_unchanged += 1
            continue
        for k, v in changed.items():
            setattr(dept, k, v)
        dept.save(update_fields=list(changed))
        if data.uscc not in created:
            result.departments_updated += 1
            audit_record(actor=actor, action="department.updated", object_type="department",
                         object_id=data.uscc, detail={"fields": sorted(changed)})
    return by_name
