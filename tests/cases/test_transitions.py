"""The transition table, action by action and state by state.

Every action of ``services.TRANSITIONS`` is tried from a case in every status (the case reached
through the services): it succeeds exactly where the table allows it, moving the case to the
table's target, and elsewhere changes nothing — status, version, history, audit log, notices.
``actions.available_actions`` offers the action to the same actor exactly where it succeeds.
An actor the policies refuse (wrong role, wrong department, the applicant of another case)
changes nothing either, and is not offered the action.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from tests.cases.conftest import TIME_LIMITED, form, item, pdf
from tongban.accounts.models import User
from tongban.accounts.permissions import SYSTEM
from tongban.audit.models import AuditRecord
from tongban.cases import services
from tongban.cases.actions import available_actions
from tongban.cases.materials import case_material_add
from tongban.cases.models import Case, CaseEvent, Channel, Extension, HaltGround, Notice, Status
from tongban.cases.services import TRANSITIONS, ApplicantData, SupplementItem
from tongban.cases.workflows.models import StepTask, TaskStatus
from tongban.core.errors import AccessDenied, RuleViolation

pytestmark = pytest.mark.django_db(transaction=False)

S = Status


# --- cases in every status, through the services ------------------------------------------------

def _applicant(user: User) -> ApplicantData:
    return ApplicantData(kind="natural_person", name=user.real_name, id_number=user.id_number,
                         phone=user.phone)


def _draft(people: dict[str, User], who: str = "citizen") -> Case:
    applicant = people[who]
    case = services.case_create(actor=applicant, item=item(TIME_LIMITED), channel=Channel.ONLINE,
                                applicant=_applicant(applicant), form_data=form())
    for m in case.item_version.materials.all():
        case_material_add(actor=applicant, case=case, material=m, name=m.name, upload=pdf(),
                          original_name=f"{m.name}.pdf")
    return case


def _first_material(case: Case) -> Any:
    return case.item_version.materials.order_by("position", "pk").first()


def _supplement_items(case: Case) -> list[SupplementItem]:
    m = _first_material(case)
    return [SupplementItem(name=m.name, reason="扫描件不清晰", material_id=m.pk)]


def _open(case: Case, role: str | None = None) -> StepTask:
    tasks = StepTask.objects.filter(case=case, status=TaskStatus.OPEN).order_by("pk")
    if role is not None:
        tasks = tasks.filter(role=role)
    return tasks.get()


def reach(status: str, people: dict[str, User]) -> Case:
    """A case of the citizen in ``status``, reached the way the services get there."""
    officer, head, citizen = people["officer"], people["head"], people["citizen"]
    case = _draft(people)
    if status == S.DRAFT:
        return case
    services.case_submit(actor=citizen, case=case)
    if status == S.SUBMITTED:
        return case
    if status == S.PRE_REVIEW:
        return services.case_pre_review(actor=officer, case=case)
    if status == S.SUPPLEMENT:
        services.case_request_supplement(actor=officer, case=case, items=_supplement_items(case))
        return case
    if status == S.REFUSED:
        services.case_refuse(actor=officer, case=case, reason="不属于本机关职权范围")
        return case
    if status == S.WITHDRAWN:
        return services.case_withdraw(actor=citizen, case=case, reason="不再需要")
    services.case_accept(actor=officer, case=case)
    if status == S.ACCEPTED:
        return case
    if status == S.SUSPENDED:
        return services.case_suspend(actor=officer, task=_open(case), procedure="expert_review",
                                     reason="需专家评审", expected_working_days=5)
    if status == S.HALTED:
        return services.case_halt(actor=officer, case=case, ground=HaltGround.APPLICANT,
                                  reason="申请人申请中止")
    if status == S.TERMINATED:
        return services.case_terminate(actor=head, case=case, reason="申请人已注销")
    services.case_step(actor=officer, task=_open(case), action="approve")
    if status in (S.APPROVED, S.DELIVERED):
        services.case_step(actor=head, task=_open(case), action="approve", reason="符合条件")
        if status == S.DELIVERED:
            services.case_deliver(actor=officer, case=case, delivery="online")
        return case
    assert status == S.DENIED
    return services.case_step(actor=head, task=_open(case), action="deny", reason="不符合条件")


# --- each action: who takes it, what it needs first, how it is called ---------------------------

def _task_for(case: Case, role: str) -> StepTask:
    """The open step of that role; where there is none (the action will be refused for the
    case's status before the task is looked at), the case's latest step, or a blank one."""
    tasks = StepTask.objects.filter(case=case).order_by("-pk")
    return (tasks.filter(status=TaskStatus.OPEN, role=role).first() or tasks.first()
            or StepTask(case=case))


def _prepare_supply(case: Case, people: dict[str, User]) -> None:
    if case.status == S.SUPPLEMENT:  # what the one-time notice asked for, uploaded again
        m = _first_material(case)
        case_material_add(actor=people["citizen"], case=case, material=m, name=m.name,
                          upload=pdf(), original_name="清晰扫描件.pdf")


def _prepare_decision(case: Case, people: dict[str, User]) -> None:
    if case.status == S.ACCEPTED:  # the review passes: the head's deciding step opens
        services.case_step(actor=people["officer"], task=_open(case), action="approve")


def _prepare_extension(case: Case, people: dict[str, User]) -> None:
    if case.status in TRANSITIONS["request_extension"][0]:
        services.case_request_extension(actor=people["officer"], task=_open(case, "officer"),
                                        working_days=3, reason="需现场核查")
    else:  # a request left over: the status alone must refuse the decision
        Extension.objects.create(case=case, working_days=3, reason="需现场核查",
                                 requested_by=people["officer"], requested_at=case.created_at)


def _prepare_automatic(case: Case, people: dict[str, User]) -> None:
    """The decision as if made automatically (秒批): only then may the applicant reopen it."""
    for notice in Notice.objects.filter(case=case, kind=Notice.Kind.DECISION):
        notice.body = {**notice.body, "automatic": {"rule_set": "规则", "version": 1, "conditions": []}}
        notice.save(update_fields=["body"])


@dataclass
class Act:
    actor: str  # the persona the policies allow (the system for accept_by_law)
    call: Callable[[Any, Case], Any]
    prepare: Callable[[Case, dict[str, User]], None] | None = None
    offered_as: str = ""  # the code ``available_actions`` lists it under, if not its own
    # Personas the policies refuse, besides the applicant of another case and staff of another
    # department or of a street/town centre.
    refused: tuple[str, ...] = ()


def _pending(case: Case) -> Extension:
    return Extension.objects.get(case=case, state=Extension.State.REQUESTED)


ACTS: dict[str, Act] = {
    "submit": Act("citizen", lambda u, c: services.case_submit(actor=u, case=c)),
    "pre_review": Act("officer", lambda u, c: services.case_pre_review(actor=u, case=c),
                      refused=("citizen",)),
    "request_supplement": Act("officer", lambda u, c: services.case_request_supplement(
        actor=u, case=c, items=_supplement_items(c)), refused=("citizen",)),
    "supply": Act("citizen", lambda u, c: services.case_supply(actor=u, case=c),
                  prepare=_prepare_supply),
    "accept": Act("officer", lambda u, c: services.case_accept(actor=u, case=c),
                  refused=("citizen",)),
    "accept_by_law": Act("system", lambda u, c: services.case_accept_by_law(
        case=c.pk, now=(c.submitted_at or c.created_at) + dt.timedelta(days=30))),
    "refuse": Act("officer", lambda u, c: services.case_refuse(actor=u, case=c, reason="不符合条件"),
                  refused=("citizen",)),
    "step": Act("officer", lambda u, c: services.case_step(
        actor=u, task=_task_for(c, "officer"), action="approve"), refused=("citizen", "head")),
    "suspend": Act("officer", lambda u, c: services.case_suspend(
        actor=u, task=_task_for(c, "officer"), procedure="testing", reason="需检测",
        expected_working_days=3), refused=("citizen", "head")),
    "halt": Act("officer", lambda u, c: services.case_halt(
        actor=u, case=c, ground=HaltGround.LEGAL, reason="法定事由"), refused=("citizen", "clerk")),
    "resume": Act("officer", lambda u, c: services.case_resume(actor=u, case=c),
                  refused=("citizen", "clerk")),
    "request_extension": Act("officer", lambda u, c: services.case_request_extension(
        actor=u, task=_task_for(c, "officer"), working_days=2, reason="情况复杂"),
        refused=("citizen", "head")),
    "extend": Act("head", lambda u, c: services.case_decide_extension(
        actor=u, extension=_pending(c), approve=True), prepare=_prepare_extension,
        refused=("citizen", "officer", "clerk")),
    "approve": Act("head", lambda u, c: services.case_step(
        actor=u, task=_task_for(c, "head"), action="approve", reason="符合条件"),
        prepare=_prepare_decision, offered_as="step", refused=("citizen", "officer")),
    "deny": Act("head", lambda u, c: services.case_step(
        actor=u, task=_task_for(c, "head"), action="deny", reason="不符合条件"),
        prepare=_prepare_decision, offered_as="step", refused=("citizen", "officer")),
    "deliver": Act("officer", lambda u, c: services.case_deliver(actor=u, case=c, delivery="online"),
                   refused=("citizen",)),
    "withdraw": Act("citizen", lambda u, c: services.case_withdraw(actor=u, case=c),
                    refused=("officer", "head", "clerk")),
    "terminate": Act("head", lambda u, c: services.case_terminate(actor=u, case=c, reason="已注销"),
                     refused=("citizen", "officer", "clerk")),
    "record_visit": Act("officer", lambda u, c: services.case_record_visit(
        actor=u, case=c, purpose="现场核验"), refused=("citizen",)),
    "reopen": Act("citizen", lambda u, c: services.case_reopen(actor=u, case=c, reason="申请人工复核"),
                  prepare=_prepare_automatic, refused=("officer", "head", "clerk")),
}
# The applicant of another case, the staff of another department, a street/town centre's agent.
STRANGERS = ("other", "hr_officer", "hr_head", "proxy")


def test_every_action_of_the_table_is_tried() -> None:
    assert set(ACTS) == set(TRANSITIONS)


def _target(action: str, case: Case, before: str) -> str:
    if action == "supply":
        return S.ACCEPTED if case.accepted_at else S.SUBMITTED
    return TRANSITIONS[action][1] or before


@dataclass(frozen=True)
class Snapshot:
    status: str
    version: int
    event_count: int
    events: int
    audit_records: int
    notices: int

    @classmethod
    def of(cls, case: Case) -> Snapshot:
        fresh = Case.objects.get(pk=case.pk)
        return cls(status=fresh.status, version=fresh.version, event_count=fresh.event_count,
                   events=CaseEvent.objects.filter(case=case).count(),
                   audit_records=AuditRecord.objects.count(),
                   notices=Notice.objects.filter(case=case).count())


def _offered(action: str, actor: Any, case: Case) -> bool:
    may = available_actions(actor, Case.objects.get(pk=case.pk))
    code = ACTS[action].offered_as or action
    if code == "step" and action != "step":
        return any(a.code == "step" and action in a.ops for a in may)
    return code in may


class _Undo(Exception):
    """Rolls the savepoint of one attempt back."""


@pytest.fixture
def cast(people: dict[str, User]) -> dict[str, Any]:
    """The personas, the system actor, and a case of the other citizen's own (so that he is
    the applicant of another case)."""
    _draft(people, "other")
    return {**people, "system": SYSTEM}


@pytest.mark.parametrize("status", list(S))
def test_each_action_from_this_status_is_allowed_exactly_as_the_table_says(
        cast: dict[str, Any], status: str) -> None:
    case = reach(status, cast)
    assert Case.objects.get(pk=case.pk).status == status
    wrong: list[str] = []
    for action, act in ACTS.items():
        allowed = status in TRANSITIONS[action][0]
        actor = cast[act.actor]
        try:
            with transaction.atomic():
                fresh = Case.objects.get(pk=case.pk)
                if act.prepare is not None:
                    act.prepare(fresh, cast)
                fresh = Case.objects.get(pk=case.pk)
                before = Snapshot.of(fresh)
                offered = act.actor != "system" and _offered(action, actor, fresh)
                refusal = ""
                try:
                    act.call(actor, fresh)
                except (RuleViolation, AccessDenied, IntegrityError) as exc:
                    refusal = type(exc).__name__
                after = Snapshot.of(fresh)
                target = _target(action, Case.objects.get(pk=case.pk), before.status)
                if allowed and (refusal or after.status != target or after.events <= before.events
                                or after.audit_records <= before.audit_records):
                    wrong.append(f"{action}: allowed, but {refusal or after}")
                if not allowed and after != before:
                    wrong.append(f"{action}: refused, but {before} became {after}")
                if not allowed and (refusal == "IntegrityError") != (
                        (action, status) in REFUSED_BY_THE_DATABASE):
                    wrong.append(f"{action}: refused with {refusal or 'no error'}")
                if act.actor != "system" and offered != allowed:
                    wrong.append(f"{action}: {'offered' if offered else 'not offered'}")
                raise _Undo
        except _Undo:
            pass
    assert not wrong, f"from {status}:\n" + "\n".join(wrong)


# Refusals that come from a database constraint instead of the state check (the transaction is
# rolled back, but the caller gets an IntegrityError — a server error through the API — instead
# of a conflict). None may: ``case_accept`` and ``case_refuse`` once issued their notice before
# checking the status, so a second acceptance or refusal collided with the first notice.
REFUSED_BY_THE_DATABASE: frozenset[tuple[str, str]] = frozenset()


def _first_allowed_status(action: str) -> str:
    return next(s for s in S if s in TRANSITIONS[action][0])


@pytest.mark.parametrize("action", [a for a in ACTS if a != "accept_by_law"])
def test_a_refused_actor_changes_nothing_and_is_not_offered_the_action(
        cast: dict[str, Any], action: str) -> None:
    """From a status the table allows the action from: everyone the policies refuse."""
    act = ACTS[action]
    case = reach(_first_allowed_status(action), cast)
    if act.prepare is not None:
        act.prepare(Case.objects.get(pk=case.pk), cast)
    for name in (*STRANGERS, *act.refused):
        fresh = Case.objects.get(pk=case.pk)
        before = Snapshot.of(fresh)
        assert not _offered(action, cast[name], fresh), (action, name)
        with pytest.raises(AccessDenied):
            act.call(cast[name], fresh)
        assert Snapshot.of(fresh) == before, (action, name)
    # …and the actor the policies allow may (the refusals above were the actor's, not the case's).
    fresh = Case.objects.get(pk=case.pk)
    assert _offered(action, cast[act.actor], fresh)
    act.call(cast[act.actor], fresh)
    assert Snapshot.of(fresh).events > before.events
