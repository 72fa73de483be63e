"""The automatic decision on the case pages, which belong to the cases app (a floor below):
``{% auto_decision_staff case %}`` (the workbench's findings panel) and
``{% auto_decision_applicant case %}`` (the applicant's explanation and the human-review form).
Both render nothing for a case without an automatic decision."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string

from tongban.cases.models import Case

register = template.Library()


def _user(context: Any) -> Any:
    return getattr(context.get("request"), "user", None)


@register.simple_tag(takes_context=True)
def auto_decision_staff(context: Any, case: Case) -> str:
    """The findings panel: rule set and version, the outcome, each condition held or not, the
    findings, what the rules read (personal values masked) and any human review asked for."""
    from tongban.cases.policies import can_view

    from ..selectors import decision_of, inputs_rows

    user = _user(context)
    if not isinstance(case, Case) or user is None or not can_view(user, case):
        return ""
    record = decision_of(case)
    if record is None:
        return ""
    return render_to_string("decisions/_staff_panel.html", {
        "record": record, "inputs": inputs_rows(record)}, request=context.get("request"))


@register.simple_tag(takes_context=True)
def auto_decision_applicant(context: Any, case: Case) -> str:
    """The applicant's explanation of the automatic decision, and 申请人工复核 when allowed."""
    from tongban.cases.actions import available_actions

    from ..selectors import decision_of

    user = _user(context)
    if not isinstance(case, Case) or user is None or not case.number:
        return ""
    record = decision_of(case)
    if record is None:
        return ""
    may_review = record.decided_at is not None and record.review_requested_at is None \
        and "reopen" in available_actions(user, case)
    return render_to_string("decisions/_applicant_panel.html", {
        "record": record, "case": case, "may_review": may_review,
        "held": [c for c in record.explanation if c["held"]],
        "not_held": [c for c in record.explanation if not c["held"]],
        "is_approved": record.decided_at is not None}, request=context.get("request"))
