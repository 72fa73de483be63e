"""Every write of 双随机一公开: directory import, tasks, the draw, publication, results.

Each service checks the permission (``policies``), validates, writes and audits in one
transaction. The draw itself is the pure algorithm of ``draw.py``.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.accounts.permissions import account_of
from tongban.audit.services import audit_record
from tongban.core.errors import AccessDenied, Problem, RuleViolation
from tongban.organizations.models import Department, Division

from . import draw, policies, selectors
from .models import (
    MIN_INSPECTORS_PER_ENTITY,
    Conflict,
    DrawnEntity,
    DrawnInspector,
    DrawTask,
    EntityType,
    InspectionItem,
    Inspector,
    MarketEntity,
    ResultKind,
    RiskLevel,
    TaskStatus,
)
from .workbook import Plan, Source, plan_import

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

MAX_INSPECTORS_PER_ENTITY = 10
SEED = re.compile(r"[0-9a-f]{1,64}")


# --- directories -----------------------------------------------------------------------------

@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportReport:
    name: str
    dry_run: bool
    counts: dict[str, Counts] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(c.created or c.updated for c in self.counts.values())


def _upsert(model: Any, lookup: dict[str, Any], values: dict[str, Any], counts: Counts) -> Any:
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        counts.created += 1
        return model.objects.create(**lookup, **values)
    changed = [k for k, v in values.items() if getattr(obj, k) != v]
    if changed:
        for k in changed:
            setattr(obj, k, values[k])
        obj.save(update_fields=changed)
        counts.updated += 1
    else:
        counts.unchanged += 1
    return obj


def _write(plan: Plan, report: ImportReport) -> None:
    from .workbook import SHEET_CONFLICTS, SHEET_ENTITIES, SHEET_INSPECTORS, SHEET_ITEMS

    counts = {name: Counts() for name in (SHEET_ENTITIES, SHEET_INSPECTORS, SHEET_CONFLICTS, SHEET_ITEMS)}
    for e in plan.entities:
        _upsert(MarketEntity, {"uscc": e.uscc}, {
            "name": e.name, "entity_type": e.entity_type, "industry": e.industry,
            "division_id": e.division_id, "address": e.address, "risk_level": e.risk_level,
            "department_id": e.department_id}, counts[SHEET_ENTITIES])
    for i in plan.inspectors:
        values: dict[str, Any] = {"name": i.name, "department_id": i.department_id, "active": i.active}
        if i.user_id is not None:
            values["user_id"] = i.user_id
        _upsert(Inspector, {"certificate_number": i.certificate_number}, values, counts[SHEET_INSPECTORS])
    if plan.conflicts:
        inspectors = dict(Inspector.objects.values_list("certificate_number", "pk"))
        entities = dict(MarketEntity.objects.values_list("uscc", "pk"))
        for c in plan.conflicts:
            _upsert(Conflict, {"inspector_id": inspectors[c.certificate_number],
                               "entity_id": entities[c.uscc]}, {"reason": c.reason},
                    counts[SHEET_CONFLICTS])
    for it in plan.items:
        _upsert(InspectionItem, {"code": it.code}, {
            "name": it.name, "department_id": it.department_id, "basis": it.basis,
            "method": it.method}, counts[SHEET_ITEMS])
    report.counts = counts


def directory_import(*, actor: Actor, source: Source, name: str = "", dry_run: bool = False) -> ImportReport:
    """Load a directories workbook whole (or reject it whole); re-importing changes nothing.

    Rows are upserted by their key (统一社会信用代码, 执法证号, the pair of both, 事项编码); rows
    not in the file are left as they are. Officers and heads may load their own department's
    rows, the bureau any department's. ``dry_run`` checks and counts but writes nothing.
    """
    if not any(policies.can_import_directory(actor, pk)
               for pk in Department.objects.values_list("pk", flat=True)):
        raise AccessDenied(_("您无权导入检查名录"))
    plan = plan_import(actor=actor, source=source)
    report = ImportReport(name=name, dry_run=dry_run)
    with transaction.atomic():
        _write(plan, report)
        if dry_run:
            transaction.set_rollback(True)
        elif report.changed:
            audit_record(actor=actor, action="inspection_directory.imported",
                         object_type="inspection_directory", object_id=name[:64] or "-",
                         detail={sheet: vars(c) for sheet, c in report.counts.items()})
    return report


# --- tasks -----------------------------------------------------------------------------------

@dataclass
class TaskFields:
    name: str
    items: list[InspectionItem]
    industries: list[str] = field(default_factory=list)
    division_codes: list[str] = field(default_factory=list)
    risk_levels: list[str] = field(default_factory=list)
    entity_types: list[str] = field(default_factory=list)
    ratio_percent: Decimal | None = None
    count: int | None = None
    inspectors_per_entity: int = MIN_INSPECTORS_PER_ENTITY
    seed: str = ""


def task_check(department: Department, fields: TaskFields) -> list[Problem]:
    """Every rule a task's settings must satisfy."""
    problems: list[Problem] = []
    if not fields.name.strip():
        problems.append(Problem("name", _("任务名称不能为空")))
    elif len(fields.name) > 200:
        problems.append(Problem("name", _("任务名称不能超过200个字符")))
    if not fields.items:
        problems.append(Problem("items", _("请至少选择一个检查事项")))
    elif any(item.department_id != department.pk for item in fields.items):
        problems.append(Problem("items", _("只能选择本部门检查事项清单中的事项")))
    if (fields.ratio_percent is None) == (fields.count is None):
        problems.append(Problem("ratio_percent", _("抽查比例和抽查户数须填写且只填写其中一项")))
    elif fields.ratio_percent is not None and not Decimal(0) < fields.ratio_percent <= Decimal(100):
        problems.append(Problem("ratio_percent", _("抽查比例须大于 0 且不超过 100")))
    elif fields.count is not None and fields.count < 1:
        problems.append(Problem("count", _("抽查户数须至少为 1")))
    if not MIN_INSPECTORS_PER_ENTITY <= fields.inspectors_per_entity <= MAX_INSPECTORS_PER_ENTITY:
        problems.append(Problem("inspectors_per_entity", _("每户检查人员数须在 %(min)s 到 %(max)s 之间") % {
            "min": MIN_INSPECTORS_PER_ENTITY, "max": MAX_INSPECTORS_PER_ENTITY}))
    if fields.seed and not SEED.fullmatch(fields.seed):
        problems.append(Problem("seed", _(
            "随机种子须为 1 到 64 位十六进制数字（0-9、a-f），或留空由系统生成")))
    bad = [v for v in fields.risk_levels if v not in RiskLevel.values]
    if bad:
        problems.append(Problem("risk_levels", _("无效的风险等级：%(v)s") % {"v": "、".join(bad)}))
    bad = [v for v in fields.entity_types if v not in EntityType.values]
    if bad:
        problems.append(Problem("entity_types", _("无效的主体类型：%(v)s") % {"v": "、".join(bad)}))
    known = set(Division.objects.filter(code__in=fields.division_codes).values_list("code", flat=True))
    bad = [v for v in fields.division_codes if v not in known]
    if bad:
        problems.append(Problem("division_codes", _("行政区划代码不存在：%(v)s") % {"v": "、".join(bad)}))
    return problems


def task_create(*, actor: Actor, department: Department, fields: TaskFields) -> DrawTask:
    """A new task in state 待抽取 of ``department``."""
    if not policies.can_manage_tasks(actor, department.pk):
        raise AccessDenied(_("只有本部门的经办人和负责人可以创建抽查任务"))
    fields.seed = fields.seed.strip().lower()
    fields.name = fields.name.strip()
    problems = task_check(department, fields)
    if problems:
        raise RuleViolation(problems)
    with transaction.atomic():
        task = DrawTask.objects.create(
            department=department, name=fields.name, industries=sorted(set(fields.industries)),
            division_codes=sorted(set(fields.division_codes)),
            risk_levels=sorted(set(fields.risk_levels)), entity_types=sorted(set(fields.entity_types)),
            ratio_percent=fields.ratio_percent, count=fields.count,
            inspectors_per_entity=fields.inspectors_per_entity, seed=fields.seed,
            created_by=account_of(actor))
        task.items.set(fields.items)
        audit_record(actor=actor, action="draw_task.created", object_type="draw_task",
                     object_id=task.pk, detail={
                         "name": task.name, "department": department.name,
                         "items": [i.code for i in fields.items], "industries": task.industries,
                         "division_codes": task.division_codes, "risk_levels": task.risk_levels,
                         "entity_types": task.entity_types, "ratio_percent": task.ratio_percent,
                         "count": task.count, "inspectors_per_entity": task.inspectors_per_entity,
                         "seed_given": bool(task.seed)})
    return task


def _locked(task: DrawTask) -> DrawTask:
    return DrawTask.objects.select_for_update().get(pk=task.pk)


def task_draw(*, actor: Actor, task: DrawTask) -> DrawTask:
    """Draw entities and inspectors (``draw.py``), storing pools, hashes and seed. Once only."""
    if not policies.can_manage_tasks(actor, task.department_id):
        raise AccessDenied(_("只有本部门的经办人和负责人可以抽取"))
    with transaction.atomic():
        task = _locked(task)
        if task.status != TaskStatus.DRAFT:
            raise RuleViolation([Problem("status", _("该任务已抽取，抽取结果不可更改"))])
        pools = selectors.current_pools(task)
        wanted = draw.sample_size(len(pools.entities), count=task.count,
                                  ratio_percent=task.ratio_percent)
        if wanted == 0:
            raise RuleViolation([Problem("entities", _("没有符合筛选条件的市场主体，无法抽取"))])
        seed = task.seed or secrets.token_hex(16)
        try:
            rows = draw.run_draw(entity_pool=pools.entities, inspector_pool=pools.inspectors,
                                 seed=seed, entities=wanted,
                                 inspectors_per_entity=task.inspectors_per_entity)
        except draw.TooFewInspectors as exc:
            raise RuleViolation([Problem("inspectors", _(
                "市场主体“%(name)s”（%(uscc)s）回避后仅剩 %(available)s 名检查人员，"
                "少于每户 %(needed)s 名，无法抽取。请补充本部门在岗检查人员或减少每户人数。") % {
                    "name": exc.name, "uscc": exc.uscc, "available": exc.available,
                    "needed": exc.needed})]) from exc
        task.seed, task.algorithm = seed, draw.ALGORITHM
        task.entity_pool, task.inspector_pool = pools.entities, pools.inspectors
        task.entity_pool_hash = draw.pool_hash(pools.entities)
        task.inspector_pool_hash = draw.pool_hash(pools.inspectors)
        task.conflict_reasons = pools.reasons
        task.status, task.drawn_at = TaskStatus.DRAWN, timezone.now()
        task.drawn_by = account_of(actor)
        task.save()
        _store_rows(task, rows, pools)
        audit_record(actor=actor, action="draw_task.drawn", object_type="draw_task",
                     object_id=task.pk, detail={
                         "algorithm": task.algorithm, "seed": seed,
                         "entity_pool_hash": task.entity_pool_hash,
                         "inspector_pool_hash": task.inspector_pool_hash,
                         "entity_pool_size": len(pools.entities),
                         "inspector_pool_size": len(pools.inspectors),
                         "drawn": [[r.uscc, r.inspectors] for r in rows]})
    return task


def _store_rows(task: DrawTask, rows: list[draw.DrawnRow], pools: selectors.Pools) -> None:
    names = {e["uscc"]: e["name"] for e in pools.entities}
    inspector_names = {p["certificate_number"]: p["name"] for p in pools.inspectors}
    inspectors = dict(Inspector.objects.filter(certificate_number__in=inspector_names)
                      .values_list("certificate_number", "pk"))
    entities = dict(MarketEntity.objects.filter(uscc__in=[r.uscc for r in rows]).values_list("uscc", "pk"))
    drawn = DrawnEntity.objects.bulk_create([
        DrawnEntity(task=task, position=n, entity_id=entities[r.uscc], uscc=r.uscc,
                    name=names[r.uscc], recused=[
                        {"certificate_number": c, "name": inspector_names[c],
                         "reason": pools.reasons.get(f"{c}|{r.uscc}", "")} for c in r.recused])
        for n, r in enumerate(rows, start=1)])
    DrawnInspector.objects.bulk_create([
        DrawnInspector(drawn_entity=d, position=k, inspector_id=inspectors[c], certificate_number=c,
                       name=inspector_names[c])
        for d, r in zip(drawn, rows, strict=True) for k, c in enumerate(r.inspectors, start=1)])


def task_publish(*, actor: Actor, task: DrawTask) -> DrawTask:
    """Show a drawn task on the public page (双随机一公开). The draw stays as it is."""
    if not policies.can_publish_task(actor, task.department_id):
        raise AccessDenied(_("只有本部门负责人可以公示抽查任务"))
    with transaction.atomic():
        task = _locked(task)
        if task.status == TaskStatus.PUBLISHED:
            return task
        if task.status != TaskStatus.DRAWN:
            raise RuleViolation([Problem("status", _("请先抽取再公示"))])
        task.status, task.published_at = TaskStatus.PUBLISHED, timezone.now()
        task.save(update_fields=["status", "published_at"])
        audit_record(actor=actor, action="draw_task.published", object_type="draw_task",
                     object_id=task.pk, detail={"name": task.name})
    return task


# --- results ---------------------------------------------------------------------------------

def result_object_id(drawn: DrawnEntity) -> str:
    return f"{drawn.task_id}:{drawn.uscc}"


def result_record(*, actor: Actor, drawn: DrawnEntity, result: str, findings: str,
                  inspected_on: date | None) -> DrawnEntity:
    """Record (or, while the task is not complete, correct) the result of one drawn entity.

    Only the inspectors drawn for that entity may do so.
    """
    user_ids = set(DrawnInspector.objects.filter(drawn_entity=drawn, inspector__user__isnull=False)
                   .values_list("inspector__user_id", flat=True))
    if not policies.can_record_result(actor, user_ids):
        raise AccessDenied(_("只有抽中检查该主体的检查人员可以录入结果"))
    findings = findings.strip()
    problems: list[Problem] = []
    if result not in ResultKind.values:
        problems.append(Problem("result", _("请选择检查结果")))
    elif result != ResultKind.NO_PROBLEM and not findings:
        problems.append(Problem("findings", _("检查结果不是“未发现问题”时须填写检查情况")))
    if len(findings) > 2000:
        problems.append(Problem("findings", _("检查情况不能超过2000个字符")))
    today = timezone.localdate()
    if inspected_on is None:
        problems.append(Problem("inspected_on", _("请填写检查日期")))
    elif inspected_on > today:
        problems.append(Problem("inspected_on", _("检查日期不能晚于今天")))
    with transaction.atomic():
        task = _locked(drawn.task)
        drawn = DrawnEntity.objects.select_for_update().get(pk=drawn.pk)
        if task.status == TaskStatus.DRAFT:
            problems.append(Problem("status", _("该任务尚未抽取")))
        elif selectors.task_complete(task):
            problems.append(Problem("status", _("该任务的检查结果已全部录入，不可再更改")))
        if (inspected_on is not None and task.drawn_at is not None
                and inspected_on < timezone.localdate(task.drawn_at)):
            problems.append(Problem("inspected_on", _("检查日期不能早于抽取日期")))
        if problems:
            raise RuleViolation(problems)
        previous = drawn.result
        drawn.result, drawn.findings, drawn.inspected_on = result, findings, inspected_on
        drawn.recorded_by, drawn.recorded_at = account_of(actor), timezone.now()
        drawn.save(update_fields=["result", "findings", "inspected_on", "recorded_by", "recorded_at"])
        audit_record(actor=actor, action="inspection_result.recorded", object_type="inspection_result",
                     object_id=result_object_id(drawn), detail={
                         "task": task.pk, "uscc": drawn.uscc, "result": result, "findings": findings,
                         "inspected_on": inspected_on.isoformat() if inspected_on else None,
                         "corrected": bool(previous)})
    return drawn
