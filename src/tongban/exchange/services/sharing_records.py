"""Held records of 库表/文件 resources (issue 12 §5): a provider's upload or scheduled import
of a CSV or XLSX, every value checked by its data element, refused whole on any bad row."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.accounts.masking import mask_id_number
from tongban.accounts.permissions import SYSTEM, account_of
from tongban.audit.services import audit_record
from tongban.core import crypto
from tongban.core.errors import AccessDenied, Problem, RuleViolation

from .. import elements, policies
from ..models import RecordBatch, Resource, ResourceField, ResourceRecord, ShareMethod
from .sharing import _fields, describing_version

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

MAX_RECORD_ROWS = 200_000

@dataclass
class ImportResult:
    rows: int
    created: int = 0
    updated: int = 0
    removed: int = 0
    dry_run: bool = False
    batch: RecordBatch | None = None


def _table(content: bytes, file_name: str) -> list[list[str]]:
    if file_name.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:
            raise RuleViolation([Problem("file", _("无法读取该电子表格：%(e)s") % {
                "e": exc.__class__.__name__})]) from exc
        sheet = book.worksheets[0]
        out = []
        for row in sheet.iter_rows(values_only=True):
            out.append(["" if v is None else (v.isoformat()[:10] if isinstance(v, dt.datetime)
                                              else str(v)) for v in row])
        return out
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RuleViolation([Problem("file", _("CSV文件须为UTF-8编码"))]) from exc
    return [row for row in csv.reader(io.StringIO(text))]




@transaction.atomic
def records_import(*, actor: Actor, resource: Resource, content: bytes, file_name: str,
                   replace: bool = True, dry_run: bool = False) -> ImportResult:
    """Upload a CSV or XLSX of a 库表/文件 resource's records: columns named by data item key (or
    name), every value cleaned by its element's rule; refused whole on any bad row, with the row
    and column of each problem; a good file replaces (or, ``replace=False``, upserts by subject)
    the held records, recorded as a :class:`RecordBatch` and audited."""
    if actor is not SYSTEM and not policies.is_department_data_officer(actor, resource.provider_id):
        raise AccessDenied(_("只有资源提供部门的数据管理员可以上传记录"))
    version = describing_version(resource)
    sheet = file_name[:60]
    if version is None:
        raise RuleViolation([Problem("resource", _("资源%(c)s尚无目录内容") % {"c": resource.code})])
    if version.share_method == ShareMethod.INTERFACE:
        raise RuleViolation([Problem("resource", _("资源%(c)s以接口方式共享，数据由提供方接口实时提供，"
                                                   "不上传记录") % {"c": resource.code})])
    fields = _fields(version)
    table = [r for r in _table(content, file_name) if any(c.strip() for c in r)]
    if not table:
        raise RuleViolation([Problem("file", _("文件为空"))])
    header = [h.strip() for h in table[0]]
    by_name = {f.key: f for f in fields} | {f.name: f for f in fields}
    columns: list[ResourceField | None] = []
    problems: list[Problem] = []
    for h in header:
        f = by_name.get(h)
        if f is None and h:
            problems.append(Problem(h, _("列“%(h)s”不是该资源的信息项（应为：%(k)s）") % {
                "h": h, "k": "、".join(x.key for x in fields)}, sheet=sheet, row=1, column=h))
        columns.append(f)
    subject = next((f for f in fields if f.is_subject), None)
    if subject is None:
        problems.append(Problem("resource", _("资源%(c)s没有主体标识信息项") % {"c": resource.code}))
    elif subject not in columns:
        problems.append(Problem(subject.key, _("缺少主体标识列“%(k)s”（%(n)s）") % {
            "k": subject.key, "n": subject.name}, sheet=sheet, row=1, column=subject.key))
    if len(table) - 1 > MAX_RECORD_ROWS:
        problems.append(Problem("file", _("一次最多导入%(n)s条记录") % {"n": MAX_RECORD_ROWS}))
    if problems:
        raise RuleViolation(problems)
    assert subject is not None
    rule_by_id = elements.rules(f.element.identifier for f in fields)
    records: dict[str, dict[str, Any]] = {}
    for number, row in enumerate(table[1:], start=2):
        values: dict[str, Any] = {}
        for position, f in enumerate(columns):
            if f is None:
                continue
            raw = row[position].strip() if position < len(row) else ""
            if not raw:
                if f is subject:
                    problems.append(Problem(f.key, _("主体标识不能为空"), sheet=sheet,
                                            row=number, column=header[position]))
                continue
            cleaned, message = elements.clean(rule_by_id[f.element.identifier], raw,
                                              label=f.name)
            if message is not None:
                problems.append(Problem(f.key, message, sheet=sheet, row=number,
                                        column=header[position]))
            else:
                values[f.key] = cleaned
        key = values.get(subject.key)
        if key is not None:
            if key in records:
                problems.append(Problem(subject.key, _("主体标识%(s)s在文件中重复") % {
                    "s": mask_id_number(str(key))}, sheet=sheet, row=number, column=subject.key))
            records[str(key)] = values
        if len(problems) >= 200:
            break
    if problems:
        raise RuleViolation(problems)
    result = ImportResult(rows=len(records), dry_run=dry_run)
    existing: dict[str, int] = {}
    for pk, index in ResourceRecord.objects.filter(resource=resource).values_list(
            "pk", "subject_index"):
        existing[index] = pk
    ring = crypto.keys()
    index_of = {s: crypto.blind_index(s, ring) for s in records}
    # A record held under an older index key (before a rotation finished) is the same subject.
    held_of = {s: next((existing[i] for i in crypto.blind_indexes(s, ring) if i in existing), None)
               for s in records}
    if dry_run:
        known = sum(1 for s in records if held_of[s] is not None)
        result.updated, result.created = known, len(records) - known
        result.removed = (len(existing) - len({pk for pk in held_of.values() if pk})
                          if replace else 0)
        transaction.set_rollback(True)
        return result
    now = timezone.now()
    batch = RecordBatch.objects.create(resource=resource, file_name=file_name[:200],
                                       rows=len(records), uploaded_by=account_of(actor),
                                       digest=hashlib.sha256(content).hexdigest())
    if replace:
        result.removed = ResourceRecord.objects.filter(resource=resource).delete()[0]
        held_of = dict.fromkeys(records)
    new: list[ResourceRecord] = []
    changed: list[ResourceRecord] = []
    for subj, values in records.items():
        held_pk = held_of[subj]
        held = ResourceRecord(pk=held_pk, resource=resource, subject=subj, values=values,
                              as_of=now, batch=batch, subject_index=index_of[subj])
        (changed if held_pk else new).append(held)
    ResourceRecord.objects.bulk_create(new, batch_size=2000)
    if changed:
        ResourceRecord.objects.bulk_update(
            changed, ["subject", "subject_index", "values", "as_of", "batch"], batch_size=1000)
    result.created, result.updated, result.batch = len(new), len(changed), batch
    audit_record(actor=actor, action="resource_records.imported", object_type="exchange.Resource",
                 object_id=resource.code,
                 detail={"file": file_name[:200], "rows": len(records), "created": len(new),
                         "updated": len(changed), "removed": result.removed, "replace": replace})
    return result
