"""Writing rule sets: save a draft (page, API, import of a JDM file), publish it once its test
cases pass, retire it. Each use case in one transaction with its audit record; bad input is
refused whole, each problem naming where it is."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.accounts.permissions import account_of
from tongban.audit.services import audit_record
from tongban.catalog.models import Item, ItemVersion, VersionStatus
from tongban.core.errors import AccessDenied, Problem, RuleViolation

from .. import engine, policies
from ..models import RuleSet, RuleSetStatus

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

PARTS = ("jdm", "conditions", "exchange", "licences", "tests")
EXPORT_KEY = "tongban"


@dataclass
class RuleSetData:
    name: str
    jdm: dict[str, Any]
    conditions: dict[str, str]
    tests: list[dict[str, Any]]
    exchange: list[dict[str, Any]] = field(default_factory=list)
    licences: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""


def _deny() -> AccessDenied:
    return AccessDenied(_("只有政务服务管理局可以维护自动审批规则"))


def current_item_version(item: Item) -> ItemVersion | None:
    return item.versions.filter(status=VersionStatus.PUBLISHED).order_by("-number").first()


@transaction.atomic
def rule_set_save(*, actor: Actor, item: Item, data: RuleSetData) -> RuleSet:
    """Save ``data`` as the item's draft rule set: the open draft is changed, or a new version
    is made (a published one never changes). Saving an unchanged draft changes nothing."""
    if not policies.can_manage_rule_sets(actor):
        raise _deny()
    problems = engine.check_rule_set(jdm=data.jdm, conditions=data.conditions,
                                     exchange=data.exchange, licences=data.licences,
                                     tests=data.tests)
    if not data.name.strip():
        problems.insert(0, Problem("name", _("须填写规则名称")))
    version = current_item_version(item)
    if version is None:
        problems.insert(0, Problem("item", _("事项%(n)s没有已发布的版本") % {"n": item.implementation_code}))
    if problems:
        raise RuleViolation(problems)
    assert version is not None
    draft = (RuleSet.objects.select_for_update()
             .filter(item=item, status=RuleSetStatus.DRAFT).order_by("-version").first())
    values = {"name": data.name.strip(), "jdm": data.jdm, "conditions": data.conditions,
              "exchange": data.exchange, "licences": data.licences, "tests": data.tests,
              "note": data.note, "item_version": version}
    if draft is not None:
        changed = [k for k, v in values.items() if getattr(draft, k) != v]
        if not changed:
            return draft
        for key in changed:
            setattr(draft, key, values[key])
        draft.save(update_fields=changed)
        audit_record(actor=actor, action="rule_set.changed", object_type="decisions.RuleSet",
                     object_id=draft.pk, detail={"item": item.implementation_code,
                                                 "version": draft.version, "changed": changed})
        return draft
    number = (RuleSet.objects.filter(item=item).aggregate(n=Max("version"))["n"] or 0) + 1
    draft = RuleSet.objects.create(item=item, version=number, created_by=account_of(actor),
                                   **values)
    audit_record(actor=actor, action="rule_set.created", object_type="decisions.RuleSet",
                 object_id=draft.pk, detail={"item": item.implementation_code, "version": number})
    return draft


def parse_file(text: str | bytes, *, default_name: str = "") -> RuleSetData:
    """A rule set file: the JDM graph with the platform's parts under ``tongban`` (as exported).
    A file that is not JSON names the line and column."""
    try:
        document = json.loads(text)
    except UnicodeDecodeError:
        raise RuleViolation([Problem("file", _("文件须为 UTF-8 编码的 JSON"))]) from None
    except json.JSONDecodeError as exc:
        raise RuleViolation([Problem("file", _("不是有效的 JSON：第%(line)s行第%(col)s列，%(msg)s") % {
            "line": exc.lineno, "col": exc.colno, "msg": exc.msg})]) from None
    if not isinstance(document, dict):
        raise RuleViolation([Problem("file", _("文件须为 JDM 决策图（JSON 对象）"))])
    extra = document.pop(EXPORT_KEY, None)
    if not isinstance(extra, dict):
        raise RuleViolation([Problem(EXPORT_KEY, _(
            "文件缺少“tongban”部分（名称、条件说明、共享数据、测试用例）"))])
    return RuleSetData(
        name=str(extra.get("name") or default_name), jdm=document,
        conditions=extra.get("conditions", {}), tests=extra.get("tests", []),
        exchange=extra.get("exchange", []), licences=extra.get("licences", []),
        note=str(extra.get("note") or ""))


def rule_set_import(*, actor: Actor, item: Item, text: str | bytes) -> RuleSet:
    return rule_set_save(actor=actor, item=item, data=parse_file(text))


def rule_set_export(rule_set: RuleSet) -> dict[str, Any]:
    """The file of a rule set: its JDM graph, with the platform's parts under ``tongban``."""
    return {**rule_set.jdm, EXPORT_KEY: {
        "item": rule_set.item.implementation_code, "version": rule_set.version,
        "name": rule_set.name, "conditions": rule_set.conditions,
        "exchange": rule_set.exchange, "licences": rule_set.licences, "tests": rule_set.tests,
        "note": rule_set.note}}


@transaction.atomic
def rule_set_publish(*, actor: Actor, rule_set: RuleSet) -> RuleSet:
    """Publish a draft once every test case passes; the rule set published before for the same
    item version is retired. A failing test case refuses the publication, naming it."""
    if not policies.can_manage_rule_sets(actor):
        raise _deny()
    rule_set = RuleSet.objects.select_for_update().get(pk=rule_set.pk)
    if rule_set.status != RuleSetStatus.DRAFT:
        raise RuleViolation([Problem("status", _("只有草稿可以发布"))])
    problems = engine.check_rule_set(**{k: getattr(rule_set, k) for k in PARTS})
    if problems:
        raise RuleViolation(problems)
    failed = [(i, r) for i, r in enumerate(engine.run_tests(rule_set.jdm, rule_set.tests))
              if not r.passed]
    if failed:
        raise RuleViolation([Problem(f"tests[{i}]", _("测试用例“%(name)s”未通过：%(why)s") % {
            "name": r.name, "why": r.message}) for i, r in failed])
    now = timezone.now()
    retired = list(RuleSet.objects.filter(item_version=rule_set.item_version,
                                          status=RuleSetStatus.PUBLISHED)
                   .values_list("version", flat=True))
    RuleSet.objects.filter(item_version=rule_set.item_version,
                           status=RuleSetStatus.PUBLISHED).update(status=RuleSetStatus.RETIRED)
    rule_set.status, rule_set.published_at = RuleSetStatus.PUBLISHED, now
    rule_set.published_by = account_of(actor)
    rule_set.save(update_fields=["status", "published_at", "published_by"])
    audit_record(actor=actor, action="rule_set.published", object_type="decisions.RuleSet",
                 object_id=rule_set.pk, detail={
                     "item": rule_set.item.implementation_code, "version": rule_set.version,
                     "tests": len(rule_set.tests), "retired": retired})
    return rule_set


@transaction.atomic
def rule_set_retire(*, actor: Actor, rule_set: RuleSet, reason: str) -> RuleSet:
    """Stop deciding automatically with a published rule set (cases go to humans again)."""
    if not policies.can_manage_rule_sets(actor):
        raise _deny()
    rule_set = RuleSet.objects.select_for_update().get(pk=rule_set.pk)
    if rule_set.status != RuleSetStatus.PUBLISHED:
        raise RuleViolation([Problem("status", _("只有已发布的规则可以停用"))])
    if not reason.strip():
        raise RuleViolation([Problem("reason", _("须填写停用理由"))])
    rule_set.status = RuleSetStatus.RETIRED
    rule_set.save(update_fields=["status"])
    audit_record(actor=actor, action="rule_set.retired", object_type="decisions.RuleSet",
                 object_id=rule_set.pk, detail={"item": rule_set.item.implementation_code,
                                                "version": rule_set.version, "reason": reason})
    return rule_set
