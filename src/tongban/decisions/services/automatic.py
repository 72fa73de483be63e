"""The automatic path (秒批): queued on submission, the rules evaluated on the case's inputs,
and a case that meets them accepted, decided and delivered by the same case services a human
uses — with :class:`~tongban.accounts.permissions.AutomaticActor` for the case's department —
in one transaction; otherwise the case stays with the department's staff, with the rules'
findings. An automatic decision can go to a human on the applicant's request
(:func:`review_request`, 个人信息保护法 Art. 24).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.accounts.permissions import AutomaticActor, account_of
from tongban.audit.services import audit_record
from tongban.cases import services as cases
from tongban.cases.models import Case, Delivery, Status
from tongban.cases.workflows.models import StepTask, TaskStatus
from tongban.cases.workflows.services import can_work_on, definition_of
from tongban.core.errors import AccessDenied, Problem, RuleViolation
from tongban.scheduling.queue import enqueue_after_commit

from .. import engine, facts
from ..models import AutoDecision, Outcome, RuleSet, RuleSetStatus

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

# Steps the machine passes, in order of preference: the first of these the step allows.
PASSING = ("approve", "forward", "complete")
MAX_STEPS = 50  # a workflow has at most 50 steps (cases/workflows/definition.py)


def published_rule_set(item_version_id: int) -> RuleSet | None:
    return (RuleSet.objects.select_related("item")
            .filter(item_version_id=item_version_id, status=RuleSetStatus.PUBLISHED).first())


def on_submit(case: Case) -> None:
    """Registered with the cases app: called inside each submission's transaction. Queues the
    automatic decision when the case's item version has a published rule set."""
    if RuleSet.objects.filter(item_version_id=case.item_version_id,
                              status=RuleSetStatus.PUBLISHED).exists():
        from ..tasks import decide_automatically

        enqueue_after_commit(decide_automatically, case.pk)


def _basis(rule_set: RuleSet, explanation: list[dict[str, Any]], at: Any) -> dict[str, Any]:
    return {"rule_set": rule_set.name, "rule_set_id": rule_set.pk, "version": rule_set.version,
            "conditions": explanation, "evaluated_at": at.isoformat()}


def _open_task(case: Case, actor: AutomaticActor) -> StepTask | None:
    tasks = list(StepTask.objects.filter(case=case, status=TaskStatus.OPEN).order_by("pk"))
    if not tasks:
        return None
    task = tasks[0]
    if not can_work_on(actor, task):
        raise RuleViolation([Problem("step", _("环节“%(step)s”须由%(dept)s人工办理") % {
            "step": task.name, "dept": task.department.name})])
    return task


def _approve(case: Case, actor: AutomaticActor, basis: dict[str, Any], reason: str) -> None:
    """Accept, pass every step, decide and deliver — each through the case services."""
    cases.case_accept(actor=actor, case=case)
    for _n in range(MAX_STEPS):
        case.refresh_from_db()
        if case.status != Status.ACCEPTED:
            break
        task = _open_task(case, actor)
        if task is None:
            break
        step = definition_of(case).step(task.step_key)
        action = next((a for a in PASSING if a in step.actions), "")
        if not action:
            raise RuleViolation([Problem("step", _("环节“%(step)s”不能自动通过") % {
                "step": task.name})])
        cases.case_step(actor=actor, task=task, action=action,
                        reason=reason if step.decides else "",
                        basis=basis if step.decides else None)
    case.refresh_from_db()
    if case.status != Status.APPROVED:
        raise RuleViolation([Problem("status", _("办件未能自动办结"))])
    cases.case_deliver(actor=actor, case=case, delivery=Delivery.ONLINE)


def decide(case_id: int) -> AutoDecision | None:
    """The automatic decision of one case (the task's body). Idempotent: a case already
    evaluated, or no longer waiting for acceptance (a human acted first), is left alone."""
    case = Case.objects.select_related("department").filter(pk=case_id).first()
    if case is None or case.status != Status.SUBMITTED \
            or AutoDecision.objects.filter(case_id=case_id).exists():
        return None
    rule_set = published_rule_set(case.item_version_id)
    if rule_set is None:
        return None
    actor = AutomaticActor(case.department_id, case.receiving_unit_id)
    # The exchange reads are recorded as they happen (each in its own transaction): the data
    # was read whatever the rules then say.
    document, findings = facts.gather(case, rule_set, actor=actor)
    at = timezone.now()
    try:
        result: engine.Result | None = engine.evaluate(rule_set.jdm, document)
    except engine.EvaluationError as exc:
        result = None
        findings.append(_("规则执行出错：%(e)s") % {"e": exc})
    explanation = engine.explain(rule_set.conditions, result) if result else []
    if result is not None:
        findings += [f"{c['text']}：{_('不符合')}" for c in explanation if not c["held"]]
        findings += result.findings
    outcome = Outcome.FAILED if result is None else (
        Outcome.APPROVED if result.approve else Outcome.REFERRED)
    with transaction.atomic():
        decided_at = None
        if outcome == Outcome.APPROVED:
            held = "；".join(c["text"] for c in explanation if c["held"])
            reason = _("经“%(name)s”（第%(v)s版）自动审查，符合全部条件：%(held)s") % {
                "name": rule_set.name, "v": rule_set.version, "held": held or _("无")}
            try:
                with transaction.atomic():
                    _approve(case, actor, _basis(rule_set, explanation, at), reason)
                decided_at = timezone.now()
            except (RuleViolation, AccessDenied) as exc:
                outcome = Outcome.FAILED
                findings.append(_("未能自动办结：%(e)s") % {"e": _violation_text(exc)})
        record = AutoDecision.objects.create(
            case=case, rule_set=rule_set, outcome=outcome, inputs=document,
            outputs=result.output if result else {}, explanation=explanation,
            findings=findings, submitted_at=case.submitted_at or at, evaluated_at=at,
            decided_at=decided_at)
        audit_record(actor=actor, action=f"auto_decision.{outcome}", object_type="case",
                     object_id=case.number or case.pk,
                     detail={"rule_set": rule_set.pk, "version": rule_set.version,
                             "held": [c["key"] for c in explanation if c["held"]],
                             "not_held": [c["key"] for c in explanation if not c["held"]],
                             "findings": len(findings)})
    return record


def _violation_text(exc: Exception) -> str:
    if isinstance(exc, RuleViolation):
        return "；".join(str(p.message) for p in exc.problems)
    return str(exc)


@transaction.atomic
def review_request(*, actor: Actor, case: Case, reason: str,
                   expected_version: int | None = None) -> AutoDecision:
    """人工复核: the applicant's side has an automatic decision taken again by a human. The
    case reopens (``cases.case_reopen``: the deciding step opens for the department's head) and
    the request is recorded with the automatic decision."""
    record = AutoDecision.objects.select_for_update().filter(case=case).first()
    if record is None or record.decided_at is None:
        raise RuleViolation([Problem("case", _("该办件不是自动审批办结的，无需申请人工复核"))])
    if record.review_requested_at is not None:
        raise RuleViolation([Problem("case", _("已申请人工复核，请等待处理结果"))])
    cases.case_reopen(actor=actor, case=case, reason=reason, expected_version=expected_version)
    record.review_requested_at = timezone.now()
    record.review_requested_by = account_of(actor)
    record.review_reason = reason
    record.save(update_fields=["review_requested_at", "review_requested_by", "review_reason"])
    audit_record(actor=actor, action="auto_decision.review_requested", object_type="case",
                 object_id=case.number or case.pk, detail={"rule_set": record.rule_set_id})
    return record
