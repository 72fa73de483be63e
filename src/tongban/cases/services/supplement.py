"""The one-time supplement notice (一次性告知) and the applicant's supply."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.accounts.permissions import account_of
from tongban.audit.services import audit_record
from tongban.cases.workflows.models import StepTask
from tongban.core.errors import Problem, RuleViolation, inside_callers_transaction

from .. import findings, policies
from ..findings import Finding
from ..models import Case, ClockStop, Notice
from .procedures import _end_stops
from .transitions import S, _after_commit, _check, _check_task, _deny, _lock, _move, _notice, refresh_due

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor


@dataclass
class SupplementItem:
    name: str
    reason: str
    material_id: int | None = None


class _NotOneTime(RuleViolation):
    """A later supplement notice asks for something no earlier notice of the case named."""

    def __init__(self, problems: list[Problem], *, case: Case, names: list[str]) -> None:
        super().__init__(problems)
        self.case, self.names = case, names


def case_request_supplement(*, actor: Actor, case: Case, items: Sequence[SupplementItem],
                            note: str = "", expected_version: int | None = None,
                            task: StepTask | None = None) -> Notice:
    """一次性告知: list every missing or faulty material at once in one notice.

    Before acceptance the clock has not started; after acceptance the time until the applicant
    supplies counts as a clock stop. A later notice of the same case may only name materials an
    earlier notice named (supplied, but still not right); anything else is refused, and the
    attempt opens a supervision record against the department (it stays although the notice
    is refused).
    """
    try:
        return _request_supplement(actor=actor, case=case, items=items, note=note,
                                   expected_version=expected_version, task=task)
    except _NotOneTime as refused:
        violation = RuleViolation(refused.problems)
        violation.on_rollback.append(functools.partial(
            _record_not_one_time, actor=actor, case=refused.case, names=refused.names))
        if not inside_callers_transaction():
            violation.run_on_rollback()
        # Otherwise a caller's transaction (a window action: notice and visit together) is
        # rolled back with the refusal; the caller writes the record afterwards.
        raise violation from None


def _earlier_supplement_items(case: Case) -> tuple[set[int], set[str]]:
    """The materials (ids, and names for items without one) the case's notices named so far."""
    ids: set[int] = set()
    names: set[str] = set()
    for body in case.notices.filter(kind=Notice.Kind.SUPPLEMENT).values_list("body", flat=True):
        for entry in (body or {}).get("items", []):
            if entry.get("material_id"):
                ids.add(int(entry["material_id"]))
            names.add(str(entry.get("name", "")).strip())
    return ids, names


def _check_one_time(case: Case, items: Sequence[SupplementItem]) -> None:
    if not case.notices.filter(kind=Notice.Kind.SUPPLEMENT).exists():
        return
    ids, names = _earlier_supplement_items(case)
    problems, new = [], []
    for i, item in enumerate(items):
        named = item.material_id in ids if item.material_id else item.name.strip() in names
        if not named:
            new.append(item.name.strip())
            problems.append(Problem(f"items[{i}].name", _(
                "一次性告知：“%(name)s”未在本办件此前的补正告知书中列明，不能再次要求补正；"
                "再次告知只能针对已告知、补正后仍不符合要求的材料") % {"name": item.name.strip()}))
    if problems:
        raise _NotOneTime(problems, case=case, names=new)


@transaction.atomic
def _record_not_one_time(*, actor: Actor, case: Case, names: list[str]) -> None:
    """The refused attempt, on record: an audit record, and a supervision record against the
    department (one per case; later attempts are audited)."""
    audit_record(actor=actor, action="case.supplement_not_one_time", object_type="case",
                 object_id=case.number or case.pk, detail={"items": names})
    # The person's department; a clerk or proxy agent answers through their hall's department.
    account = account_of(actor)
    hall = account.hall if account is not None else None
    department = getattr(actor, "department_id", None) or (
        hall.department_id if hall is not None else None) or case.department_id
    findings.report(
        Finding.SUPPLEMENT_NOT_ONE_TIME, case=case, department=department,
        person=actor if getattr(actor, "pk", None) else None, actor=actor,
        detail=str(_("办件%(number)s再次要求补正此前未告知的材料：%(names)s") % {
            "number": case.number or case.pk, "names": "、".join(names)}))


@transaction.atomic
def _request_supplement(*, actor: Actor, case: Case, items: Sequence[SupplementItem],
                        note: str, expected_version: int | None,
                        task: StepTask | None) -> Notice:
    case = _lock(case, expected_version)
    if task is not None:
        _check_task(actor, case, task, "supplement")
    elif not policies.can_receive(actor, case):
        raise _deny()
    _check(case, "request_supplement")
    if not items:
        raise RuleViolation([Problem("items", _("一次性告知须列出全部需补正的材料"))])
    problems = [Problem(f"items[{i}].reason", _("须说明补正原因"))
                for i, item in enumerate(items) if not item.reason.strip()]
    if problems:
        raise RuleViolation(problems)
    _check_one_time(case, items)
    at = timezone.now()
    if case.accepted_at is not None:
        ClockStop.objects.create(case=case, kind=ClockStop.Kind.SUPPLEMENT, started_at=at,
                                 reason=note or str(_("受理后补正")))
    notice = _notice(case, Notice.Kind.SUPPLEMENT, actor=actor, body={
        "items": [{"name": i.name, "reason": i.reason, "material_id": i.material_id}
                  for i in items], "note": note})
    event = _move(case, "request_supplement", actor=actor, reason=note,
                  data={"notice": notice.number, "items": len(items)}, at=at)
    _after_commit(event)
    return notice


@transaction.atomic
def case_supply(*, actor: Actor, case: Case, expected_version: int | None = None) -> Case:
    """The applicant has uploaded what the one-time notice asked for; the case goes back."""
    case = _lock(case, expected_version)
    if not (policies.is_applicant_side(actor, case) or policies.can_receive(actor, case)):
        raise _deny()
    _check(case, "supply")
    notice = case.notices.filter(kind=Notice.Kind.SUPPLEMENT, resolved_at=None).last()
    at = timezone.now()
    if notice is not None:
        since = notice.issued_at
        supplied = set(case.materials.filter(uploaded_at__gte=since, superseded=False)
                       .values_list("material_id", flat=True))
        still = [i["name"] for i in notice.body.get("items", [])
                 if i.get("material_id") and i["material_id"] not in supplied]
        if still:
            raise RuleViolation([Problem("materials", _("尚未补正：%(names)s") % {
                "names": "、".join(still)})])
        notice.resolved_at = at
        notice.save(update_fields=["resolved_at"])
    target = S.ACCEPTED if case.accepted_at else S.SUBMITTED
    fields: list[str] = []
    if case.accepted_at:
        _end_stops(case, at, kinds=[ClockStop.Kind.SUPPLEMENT])
        refresh_due(case)
        fields = ["due_at", "due_provisional"]
    event = _move(case, "supply", actor=actor, to=target, fields=fields, at=at)
    _after_commit(event)
    return case
