"""Visits (跑动): every in-person interaction, against what the item promises."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.accounts.permissions import account_of
from tongban.core.errors import Problem, RuleViolation

from .. import policies
from ..models import Case, Channel, Visit
from .transitions import _check, _deny, _event, _lock

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor


def _visit(case: Case, *, actor: Actor, purpose: str, hall: Any, window: Any, at: dt.datetime) -> Visit:
    visit = Visit.objects.create(case=case, at=at, hall=hall, window=window, purpose=purpose,
                                 recorded_by=account_of(actor))
    case.visits = case.visit_records.count()
    case.excess_visits = case.visits > allowed_visits(case)
    Case.objects.filter(pk=case.pk).update(visits=case.visits, excess_visits=case.excess_visits)
    return visit


def allowed_visits(case: Case) -> int:
    """Visits the item promises; a walk-in's own first visit to the window is never excess."""
    promised = case.item_version.required_visits
    return max(promised, 1) if case.channel == Channel.WINDOW else promised


@transaction.atomic
def case_record_visit(*, actor: Actor, case: Case, purpose: str, window: Any = None,
                      expected_version: int | None = None) -> Visit:
    """Record an in-person interaction (跑动); more visits than the item promises is flagged."""
    case = _lock(case, expected_version)
    if not policies.can_record_visit(actor, case):
        raise _deny()
    _check(case, "record_visit")
    if not purpose.strip():
        raise RuleViolation([Problem("purpose", _("须填写跑动事由"))])
    visit = _visit(case, actor=actor, purpose=purpose, hall=case.hall, window=window, at=timezone.now())
    _event(case, actor=actor, action="record_visit", from_status=case.status,
           data={"visits": case.visits, "excess": case.excess_visits})
    return visit
