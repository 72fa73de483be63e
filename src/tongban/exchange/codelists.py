"""Code lists (代码集) as data: saved whole, versioned, audited; the standard lists shipped with
the platform (``data/code_lists``: GB/T 2260 for the demo province, GB/T 2261.1 sex, GB/T 2261.2
marital status, GB/T 4658 education, GB/T 3304 ethnic groups, GA/T 517 identity documents).

A list is always replaced whole (its entries as one set), so a value's meaning never depends on a
half-applied change; each save bumps ``CodeList.version``, which is what the element validator's
per-process copy of the values is keyed on.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from tongban.audit.services import audit_record
from tongban.core.errors import AccessDenied, Problem, RuleViolation

from . import policies
from .models import CodeEntry, CodeList

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

BUNDLED = Path(__file__).resolve().parent / "data" / "code_lists"
CSV_HEADER = ["代码", "名称", "英文名称", "上级代码"]


@dataclass(frozen=True)
class Entry:
    value: str
    label: str
    label_en: str = ""
    parent_value: str = ""


def entries_check(entries: list[Entry]) -> list[Problem]:
    """Problems of a list's entries, each naming its row (1 = the first entry)."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for row, entry in enumerate(entries, start=1):
        where = f"entries.{row}"
        if not entry.value or len(entry.value) > 40 or entry.value != entry.value.strip():
            problems.append(Problem(f"{where}.value", _(
                "第%(row)s项：代码须填写（至多40个字符，前后无空格）") % {"row": row}))
        elif entry.value in seen:
            problems.append(Problem(f"{where}.value", _("第%(row)s项：代码“%(value)s”重复") % {
                "row": row, "value": entry.value}))
        seen.add(entry.value)
        if not entry.label.strip() or len(entry.label) > 200:
            problems.append(Problem(f"{where}.label", _("第%(row)s项：名称须填写（至多200个字）") % {
                "row": row}))
    for row, entry in enumerate(entries, start=1):
        if entry.parent_value and entry.parent_value not in seen:
            problems.append(Problem(f"entries.{row}.parent_value", _(
                "第%(row)s项：上级代码“%(parent)s”不在本代码集中") % {
                    "row": row, "parent": entry.parent_value}))
    if not entries:
        problems.append(Problem("entries", _("代码集至少应有一个代码")))
    return problems


@transaction.atomic
def code_list_save(*, actor: Actor, code: str, name: str, entries: list[Entry], name_en: str = "",
                   standard: str = "") -> CodeList:
    """Create a code list or replace its entries whole; the version goes up by one on a change."""
    if not policies.can_manage_elements(actor):
        raise AccessDenied(_("只有数据管理部门可以维护代码集"))
    problems = entries_check(entries)
    if not code.strip() or len(code) > 40:
        problems.insert(0, Problem("code", _("须填写代码集标识（至多40个字符）")))
    if not name.strip() or len(name) > 100:
        problems.insert(0, Problem("name", _("须填写代码集名称（至多100个字）")))
    if problems:
        raise RuleViolation(problems)
    code_list = CodeList.objects.select_for_update().filter(code=code).first()
    wanted = [(e.value, e.label, e.label_en, e.parent_value) for e in entries]
    if code_list is None:
        code_list = CodeList.objects.create(code=code, name=name, name_en=name_en,
                                            standard=standard)
        changed = True
    else:
        had = list(code_list.entries.order_by("position", "value").values_list(
            "value", "label", "label_en", "parent_value"))
        changed = had != wanted or (code_list.name, code_list.name_en, code_list.standard) != (
            name, name_en, standard)
        if changed:
            code_list.name, code_list.name_en, code_list.standard = name, name_en, standard
            code_list.version += 1
            code_list.save()
            code_list.entries.all().delete()
    if changed:
        CodeEntry.objects.bulk_create(
            CodeEntry(code_list=code_list, value=e.value, label=e.label, label_en=e.label_en,
                      parent_value=e.parent_value, position=position)
            for position, e in enumerate(entries))
        audit_record(actor=actor, action="code_list.save", object_type="code_list",
                     object_id=code_list.pk, detail={"code": code, "version": code_list.version,
                                                     "entries": len(entries)})
    return code_list


def entries_from_csv(path: Path) -> list[Entry]:
    """A code list file: UTF-8 CSV with the columns 代码, 名称, 英文名称, 上级代码."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        if [h.strip() for h in header[:2]] != CSV_HEADER[:2]:
            raise RuleViolation([Problem("file", _("代码集文件第一行应为：%(header)s") % {
                "header": ",".join(CSV_HEADER)})])
        return [Entry(*(cell.strip() for cell in [*row, "", "", "", ""][:4]))
                for row in reader if any(cell.strip() for cell in row)]


def bundled_manifest() -> list[dict[str, Any]]:
    manifest: list[dict[str, Any]] = json.loads((BUNDLED / "manifest.json").read_text("utf-8"))
    return manifest


def load_bundled_code_lists(*, actor: Actor) -> list[CodeList]:
    """Save every standard list shipped with the platform (unchanged lists stay as they are)."""
    return [code_list_save(actor=actor, code=entry["code"], name=entry["name"],
                           name_en=entry.get("name_en", ""), standard=entry.get("standard", ""),
                           entries=entries_from_csv(BUNDLED / entry["file"]))
            for entry in bundled_manifest()]
