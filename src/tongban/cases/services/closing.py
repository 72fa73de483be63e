"""The end of a case: delivering the result (送达), withdrawal (撤回) and termination (终止)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.cases.workflows import services as workflows
from tongban.core.errors import Problem, RuleViolation

from .. import policies
from ..models import Case, ClockStop, Delivery
from .licensing import issue_result_licence
from .transitions import S, _after_commit, _deny, _lock, _move, _require_reason
from .visits import _visit

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor


@transaction.atomic
def case_deliver(*, actor: Actor, case: Case, delivery: str, expected_version: int | None = None) -> Case:
    case = _lock(case, expected_version)
    if not policies.can_deliver(actor, case):
        raise _deny()
    if delivery not in Delivery.values:
        raise RuleViolation([Problem("delivery", _("送达方式须为窗口领取、邮寄送达或网上送达"))])
    if case.status == S.APPROVED:
        from ..materials import outstanding_promises

        owed = [m.name for m in outstanding_promises(case)]
        if owed:
            raise RuleViolation([Problem("materials", _(
                "容缺承诺的材料尚未补交：%(names)s；补交后方可送达办理结果") % {"names": "、".join(owed)})])
    at = timezone.now()
    data: dict[str, Any] = {"delivery": delivery}
    if case.status == S.APPROVED:
        # The e-licence the result names is issued with the delivery, in this transaction.
        licence = issue_result_licence(case, actor=actor, at=at)
        if licence is not None:
            data["licences"] = [licence.identifier]
    case.delivery, case.delivered_at = delivery, at
    event = _move(case, "deliver", actor=actor, fields=["delivery", "delivered_at"], at=at,
                  data=data)
    if delivery == Delivery.PICKUP:
        _visit(case, actor=actor, purpose=str(_("领取结果")), hall=case.hall, window=None, at=at)
    _after_commit(event)
    return case


@transaction.atomic
def case_withdraw(*, actor: Actor, case: Case, reason: str = "",
                  expected_version: int | None = None) -> Case:
    """The applicant withdraws while the case is not decided."""
    case = _lock(case, expected_version)
    if not policies.is_applicant_side(actor, case):
        raise _deny()
    at = timezone.now()
    workflows.tasks_cancel(case, at=at)
    ClockStop.objects.filter(case=case, ended_at=None).update(ended_at=at)
    case.closed_reason = reason
    event = _move(case, "withdraw", actor=actor, reason=reason, fields=["closed_reason"], at=at)
    _after_commit(event)
    return case


@transaction.atomic
def case_terminate(*, actor: Actor, case: Case, reason: str,
                   expected_version: int | None = None) -> Case:
    """终止: the procedure ends without a decision (e.g. the applicant died, the company was
    dissolved, the supplement never came)."""
    case = _lock(case, expected_version)
    if not policies.can_terminate(actor, case):
        raise _deny()
    _require_reason(reason)
    at = timezone.now()
    workflows.tasks_cancel(case, at=at)
    ClockStop.objects.filter(case=case, ended_at=None).update(ended_at=at)
    case.closed_reason = reason
    event = _move(case, "terminate", actor=actor, reason=reason, fields=["closed_reason"], at=at)
    _after_commit(event)
    return case
