"""Reads of the automatic decisions: a case's record, and the figures per item."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from django.db.models import Count

from tongban.cases.models import Case, CaseEvent, Status

from .models import AutoDecision, Outcome, RuleSet, RuleSetStatus


def decision_of(case: Case) -> AutoDecision | None:
    return AutoDecision.objects.select_related("rule_set").filter(case=case).first()


@dataclass
class ItemFigures:
    item_id: int
    implementation_code: str
    name: str
    submitted: int  # cases submitted of the item (any channel)
    automatic: int  # decided automatically
    referred: int  # evaluated, sent to a human
    share_automatic: float | None  # automatic / submitted
    median_seconds_to_decision: float | None  # submission → automatic decision
    reviews: int  # human reviews asked for
    reversals: int  # reviews after which a human denied


def figures() -> list[ItemFigures]:
    """Per item with a published or earlier rule set: the share decided automatically, the
    median time from submission to the automatic decision, human reviews and reversals (a
    review followed by a human denial)."""
    items = {r["item_id"]: r for r in RuleSet.objects.values(
        "item_id", "item__implementation_code", "item__current__name").annotate(n=Count("pk"))}
    published = dict(RuleSet.objects.filter(status=RuleSetStatus.PUBLISHED)
                     .values_list("item_id", "name"))
    submitted = dict(Case.objects.filter(item_id__in=items, submitted_at__isnull=False)
                     .values("item_id").annotate(n=Count("pk")).values_list("item_id", "n"))
    records = list(AutoDecision.objects.filter(rule_set__item_id__in=items).values(
        "rule_set__item_id", "outcome", "submitted_at", "decided_at", "review_requested_at",
        "case_id"))
    reviewed = [r["case_id"] for r in records if r["review_requested_at"] is not None]
    # A human denial after the review (the automatic path never denies).
    denied_after = set(CaseEvent.objects.filter(case_id__in=reviewed, to_status=Status.DENIED)
                       .values_list("case_id", flat=True))
    out = []
    for item_id, row in items.items():
        mine = [r for r in records if r["rule_set__item_id"] == item_id]
        auto = [r for r in mine if r["outcome"] == Outcome.APPROVED and r["decided_at"]]
        seconds = [(r["decided_at"] - r["submitted_at"]).total_seconds() for r in auto
                   if r["decided_at"] is not None]
        total = submitted.get(item_id, 0)
        reviews = [r for r in mine if r["review_requested_at"] is not None]
        out.append(ItemFigures(
            item_id=item_id, implementation_code=row["item__implementation_code"],
            name=row["item__current__name"] or published.get(item_id, ""), submitted=total,
            automatic=len(auto),
            referred=len(mine) - len(auto), share_automatic=len(auto) / total if total else None,
            median_seconds_to_decision=statistics.median(seconds) if seconds else None,
            reviews=len(reviews), reversals=sum(r["case_id"] in denied_after for r in reviews)))
    return sorted(out, key=lambda f: f.implementation_code)
