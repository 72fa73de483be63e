"""Verifying a draw (复核): anyone can do it from the stored snapshots and the seed.

:func:`verify_task` recomputes both pool hashes from the stored snapshots, re-runs the draw
(``draw.run_draw``) and compares it with the stored drawn entities, inspectors and recusals, and
compares the seed, hashes and draw, and every recorded result, with the audit log written when
they were made (the audit log itself is checked by ``tongban verify_audit``). It also says
whether the directories as they are now still give the same pools; that is information, not a
fault (the directories change after every import).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from tongban.audit.models import AuditRecord

from . import draw, selectors
from .models import DrawTask, TaskStatus
from .services import result_object_id


@dataclass
class Check:
    label: str
    ok: bool
    details: list[str] = field(default_factory=list)


@dataclass
class Verification:
    task: DrawTask
    checks: list[Check]
    directories_unchanged: bool | None  # None before the draw

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def lines(self) -> list[str]:
        out = []
        for c in self.checks:
            out.append(f"{'✓' if c.ok else '✗'} {c.label}")
            out.extend(f"    {d}" for d in c.details)
        return out


def _hash_check(label: str, pool: list[dict[str, Any]], stored: str) -> Check:
    computed = draw.pool_hash(pool)
    if computed == stored:
        return Check(label, True, [computed])
    return Check(label, False, [_("记录的哈希：%(stored)s") % {"stored": stored},
                                _("按快照复算：%(computed)s") % {"computed": computed}])


def _rerun_check(task: DrawTask, drawn: list[Any]) -> Check:
    label = _("按种子复算抽取结果")
    wanted = draw.sample_size(len(task.entity_pool), count=task.count, ratio_percent=task.ratio_percent)
    try:
        rows = draw.run_draw(entity_pool=task.entity_pool, inspector_pool=task.inspector_pool,
                             seed=task.seed, entities=wanted,
                             inspectors_per_entity=task.inspectors_per_entity)
    except (draw.TooFewInspectors, ValueError, KeyError, TypeError) as exc:
        return Check(label, False, [_("无法按快照复算：%(error)s") % {"error": exc}])
    details: list[str] = []
    if len(rows) != len(drawn):
        details.append(_("记录抽中 %(stored)s 户，复算应抽中 %(computed)s 户") % {
            "stored": len(drawn), "computed": len(rows)})
    for n, (row, d) in enumerate(zip(rows, drawn, strict=False), start=1):
        if row.uscc != d.uscc:
            details.append(_("第%(n)s户：记录为 %(stored)s（%(name)s），复算为 %(computed)s") % {
                "n": n, "stored": d.uscc, "name": d.name, "computed": row.uscc})
            continue
        stored = [i.certificate_number for i in d.inspectors.all()]
        if stored != row.inspectors:
            details.append(_("第%(n)s户 %(name)s 的检查人员：记录为 %(stored)s，复算为 %(computed)s") % {
                "n": n, "name": d.name, "stored": "、".join(stored) or "-",
                "computed": "、".join(row.inspectors)})
        recused = [r.get("certificate_number") for r in d.recused]
        if recused != row.recused:
            details.append(_("第%(n)s户 %(name)s 的回避人员：记录为 %(stored)s，复算为 %(computed)s") % {
                "n": n, "name": d.name, "stored": "、".join(map(str, recused)) or "-",
                "computed": "、".join(row.recused) or "-"})
    if not details:
        return Check(label, True, [_("复算抽中 %(n)s 户，与记录一致") % {"n": len(rows)}])
    return Check(label, False, details)


def _audit_check(task: DrawTask, drawn: list[Any]) -> Check:
    label = _("与审计日志中的抽取记录比对")
    record = (AuditRecord.objects.filter(action="draw_task.drawn", object_type="draw_task",
                                         object_id=str(task.pk)).order_by("-seq").first())
    if record is None:
        return Check(label, False, [_("审计日志中没有该任务的抽取记录")])
    detail = record.detail
    details = []
    for key, name, value in (("seed", _("随机种子"), task.seed),
                             ("entity_pool_hash", _("市场主体库哈希"), task.entity_pool_hash),
                             ("inspector_pool_hash", _("检查人员库哈希"), task.inspector_pool_hash)):
        if detail.get(key) != value:
            details.append(_("%(name)s：审计记录为 %(audit)s，现存为 %(stored)s") % {
                "name": name, "audit": detail.get(key), "stored": value})
    stored = [[d.uscc, [i.certificate_number for i in d.inspectors.all()]] for d in drawn]
    if detail.get("drawn") != stored:
        details.append(_("抽中主体或检查人员与审计记录 #%(seq)s 不一致") % {"seq": record.seq})
    if details:
        return Check(label, False, details)
    return Check(label, True, [_("审计记录 #%(seq)s") % {"seq": record.seq}])


def _results_check(task: DrawTask, drawn: list[Any]) -> Check:
    label = _("检查结果与审计日志比对")
    latest: dict[str, dict[str, Any]] = {}
    for record in AuditRecord.objects.filter(action="inspection_result.recorded",
                                             object_type="inspection_result",
                                             object_id__startswith=f"{task.pk}:").order_by("seq"):
        latest[record.object_id] = record.detail
    details = []
    for d in drawn:
        audited = latest.get(result_object_id(d))
        if audited is None:
            if d.result:
                details.append(_("%(name)s（%(uscc)s）：有检查结果，但审计日志中没有录入记录") % {
                    "name": d.name, "uscc": d.uscc})
            continue
        stored = {"result": d.result, "findings": d.findings,
                  "inspected_on": d.inspected_on.isoformat() if d.inspected_on else None}
        changed = [k for k, v in stored.items() if audited.get(k) != v]
        if changed:
            details.append(_("%(name)s（%(uscc)s）：%(fields)s 与审计记录不一致") % {
                "name": d.name, "uscc": d.uscc, "fields": "、".join(changed)})
    recorded = sum(1 for d in drawn if d.result)
    if details:
        return Check(label, False, details)
    return Check(label, True, [_("已录入 %(n)s / %(total)s 户，均与审计记录一致") % {
        "n": recorded, "total": len(drawn)}])


def verify_task(task: DrawTask) -> Verification:
    """Every check of a drawn task; a task not yet drawn has nothing to verify."""
    if task.status == TaskStatus.DRAFT:
        return Verification(task, [Check(_("该任务尚未抽取"), False)], None)
    drawn = list(task.drawn.prefetch_related("inspectors").order_by("position"))
    checks = [
        _hash_check(_("市场主体库快照哈希"), task.entity_pool, task.entity_pool_hash),
        _hash_check(_("检查人员库快照哈希"), task.inspector_pool, task.inspector_pool_hash),
        _rerun_check(task, drawn),
        _audit_check(task, drawn),
        _results_check(task, drawn),
    ]
    current = selectors.current_pools(task)
    unchanged = (draw.pool_hash(current.entities) == task.entity_pool_hash
                 and draw.pool_hash(current.inspectors) == task.inspector_pool_hash)
    return Verification(task, checks, unchanged)
