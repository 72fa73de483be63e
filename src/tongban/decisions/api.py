"""The automatic decisions' API: a case's automatic decision and the human review the applicant
asks for; the figures per item; rule sets (list, export as a JDM file, import, publish).
A case the caller may not see answers 404; an action the caller may not take 403; a broken rule
422 ``[{field, message}]``."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.errors import HttpError

from tongban.cases import selectors as case_selectors
from tongban.cases.policies import can_see_identifiers
from tongban.catalog.models import Item
from tongban.core.errors import AccessDenied, Problem, RuleViolation
from tongban.core.schemas import ErrorOut, ProblemsOut

from . import policies, selectors
from .models import RuleSet
from .services import automatic, rule_sets

router = Router(tags=["decisions"])


class ConditionOut(Schema):
    key: str
    text: str
    held: bool


class AutoDecisionOut(Schema):
    case: str
    outcome: str
    rule_set: str
    rule_set_version: int
    conditions: list[ConditionOut]
    findings: list[str]
    evaluated_at: dt.datetime
    decided_at: dt.datetime | None
    review_requested_at: dt.datetime | None
    inputs: dict[str, Any] | None  # the applicant's side and the case's department only


class HumanReviewIn(Schema):
    reason: str


class AutoDecisionFiguresOut(Schema):
    implementation_code: str
    name: str
    submitted: int
    automatic: int
    referred: int
    share_automatic: float | None
    median_seconds_to_decision: float | None
    reviews: int
    reversals: int


class RuleSetOut(Schema):
    id: int
    item: str
    version: int
    name: str
    status: str
    published_at: dt.datetime | None
    tests: int


class RuleSetImportIn(Schema):
    item: str  # implementation code
    file: dict[str, Any]  # the JDM graph with the platform's parts under "tongban"


def _out(request: HttpRequest, case: Any) -> AutoDecisionOut:
    record = selectors.decision_of(case)
    if record is None:
        raise HttpError(404, _("该办件没有自动审批记录"))
    return AutoDecisionOut(
        case=case.number or str(case.pk), outcome=record.outcome, rule_set=record.rule_set.name,
        rule_set_version=record.rule_set.version,
        conditions=[ConditionOut(**c) for c in record.explanation], findings=record.findings,
        evaluated_at=record.evaluated_at, decided_at=record.decided_at,
        review_requested_at=record.review_requested_at,
        inputs=record.inputs if can_see_identifiers(request.user, case) else None)


def _case(request: HttpRequest, number: str) -> Any:
    case = case_selectors.case_find(request.user, number)
    if case is None:
        raise HttpError(404, _("办件不存在，或您无权查看"))
    return case


@router.get("/cases/{number}/auto-decision", response={200: AutoDecisionOut, 404: ErrorOut},
            summary="A case's automatic decision (秒批)")
def auto_decision(request: HttpRequest, number: str) -> Any:
    """The rule set and version, each condition and whether it held, the findings."""
    return _out(request, _case(request, number))


@router.post("/cases/{number}/human-review",
             response={200: AutoDecisionOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
                       422: ProblemsOut},
             summary="Ask for a human review of an automatic decision (人工复核)")
def human_review(request: HttpRequest, number: str, payload: HumanReviewIn) -> Any:
    """The applicant's side: the decision goes to the department's head again (个人信息保护法
    Art. 24)."""
    case = _case(request, number)
    automatic.review_request(actor=request.user, case=case, reason=payload.reason)
    return _out(request, case_selectors.case_find(request.user, number))


@router.get("/auto-decisions/figures", response={200: list[AutoDecisionFiguresOut]},
            summary="Automatic decisions per item")
def figures(request: HttpRequest) -> Any:
    if not policies.can_read_rule_sets(request.user):
        raise AccessDenied(_("您无权查看自动审批统计"))
    return [AutoDecisionFiguresOut(**{k: getattr(f, k) for k in AutoDecisionFiguresOut.model_fields})
            for f in selectors.figures()]


def _rule_set_out(r: RuleSet) -> RuleSetOut:
    return RuleSetOut(id=r.pk, item=r.item.implementation_code, version=r.version, name=r.name,
                      status=r.status, published_at=r.published_at, tests=len(r.tests))


@router.get("/decision-rule-sets", response={200: list[RuleSetOut]}, summary="Rule sets")
def rule_set_list(request: HttpRequest) -> Any:
    if not policies.can_read_rule_sets(request.user):
        raise AccessDenied(_("您无权查看自动审批规则"))
    return [_rule_set_out(r) for r in RuleSet.objects.select_related("item")[:500]]


def _rule_set(request: HttpRequest, rule_set_id: int) -> RuleSet:
    if not policies.can_read_rule_sets(request.user):
        raise AccessDenied(_("您无权查看自动审批规则"))
    found = RuleSet.objects.select_related("item").filter(pk=rule_set_id).first()
    if found is None:
        raise HttpError(404, _("规则不存在"))
    return found


@router.get("/decision-rule-sets/{rule_set_id}/export", response={200: dict[str, Any], 404: ErrorOut},
            summary="A rule set as a JDM file")
def rule_set_export(request: HttpRequest, rule_set_id: int) -> Any:
    return rule_sets.rule_set_export(_rule_set(request, rule_set_id))


@router.post("/decision-rule-sets/import", response={201: RuleSetOut, 403: ErrorOut, 422: ProblemsOut},
             summary="Import a rule set (a JDM file) as the item's draft")
def rule_set_import(request: HttpRequest, payload: RuleSetImportIn) -> Any:
    item = Item.objects.filter(implementation_code=payload.item).first()
    if item is None:
        raise RuleViolation([Problem("item", _("实施编码为%(c)s的事项不存在") % {"c": payload.item[:40]})])
    data = rule_sets.parse_file(json.dumps(payload.file))
    return 201, _rule_set_out(rule_sets.rule_set_save(actor=request.user, item=item, data=data))


@router.post("/decision-rule-sets/{rule_set_id}/publish",
             response={200: RuleSetOut, 403: ErrorOut, 404: ErrorOut, 422: ProblemsOut},
             summary="Publish a rule set once its test cases pass")
def rule_set_publish(request: HttpRequest, rule_set_id: int) -> Any:
    return _rule_set_out(rule_sets.rule_set_publish(actor=request.user,
                                                    rule_set=_rule_set(request, rule_set_id)))


class RuleSetRetireIn(Schema):
    reason: str


@router.post("/decision-rule-sets/{rule_set_id}/retire",
             response={200: RuleSetOut, 403: ErrorOut, 404: ErrorOut, 422: ProblemsOut},
             summary="Retire a published rule set (cases go to humans again)")
def rule_set_retire(request: HttpRequest, rule_set_id: int, payload: RuleSetRetireIn) -> Any:
    return _rule_set_out(rule_sets.rule_set_retire(actor=request.user,
                                                   rule_set=_rule_set(request, rule_set_id),
                                                   reason=payload.reason))
