"""A case from application to delivered result through the services, for each of the four lists."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.cases.conftest import ON_THE_SPOT, PROXY, SAME_DAY, TIME_LIMITED, form, item, pdf
from tests.conftest import Freeze
from tongban.accounts.models import User
from tongban.audit.models import AuditRecord
from tongban.cases import services
from tongban.cases.materials import case_material_add
from tongban.cases.models import Case, CaseEvent, Channel, Notice, Status
from tongban.cases.notifications.models import Notification
from tongban.cases.services import ApplicantData, SupplementItem
from tongban.cases.workflows.models import StepTask
from tongban.core.errors import AccessDenied, RuleViolation

pytestmark = pytest.mark.django_db(transaction=False)


def applicant(user: User) -> ApplicantData:
    return ApplicantData(kind="natural_person", name=user.real_name, id_number=user.id_number,
                         phone=user.phone)


def supply_all(actor: User, case: Case, *, skip: int = 0) -> None:
    materials = list(case.item_version.materials.all())
    for m in materials[skip:]:
        case_material_add(actor=actor, case=case, material=m, name=m.name, upload=pdf(),
                          original_name=f"{m.name}.pdf")


def open_task(case: Case) -> StepTask:
    return StepTask.objects.get(case=case, status="open")


def test_time_limited_online_with_supplement(
    people: dict[str, User], django_capture_on_commit_callbacks: Any
) -> None:
    citizen, officer, head = people["citizen"], people["officer"], people["head"]
    case = services.case_create(actor=citizen, item=item(TIME_LIMITED), channel=Channel.ONLINE,
                                applicant=applicant(citizen), form_data=form(),
                                idempotency_key="k-1")
    first_material = case.item_version.materials.first()
    assert first_material is not None
    supply_all(citizen, case, skip=1)  # the first material is missing
    with django_capture_on_commit_callbacks(execute=True):
        services.case_submit(actor=citizen, case=case)
    case.refresh_from_db()
    assert case.status == Status.SUBMITTED and case.number and len(case.number) == 20

    # Acceptance is refused while a material is missing; the officer sends a one-time notice.
    with pytest.raises(RuleViolation):
        services.case_accept(actor=officer, case=case)
    with django_capture_on_commit_callbacks(execute=True):
        notice = services.case_request_supplement(actor=officer, case=case, items=[
            SupplementItem(name=first_material.name, reason="缺少该材料", material_id=first_material.pk)])
    assert notice.kind == Notice.Kind.SUPPLEMENT and notice.body["items"][0]["name"] == first_material.name
    case.refresh_from_db()
    assert case.status == Status.SUPPLEMENT and case.due_at is None

    with pytest.raises(RuleViolation):
        services.case_supply(actor=citizen, case=case)
    case_material_add(actor=citizen, case=case, material=first_material, name="", upload=pdf(),
                      original_name="a.pdf")
    services.case_supply(actor=citizen, case=case)
    case.refresh_from_db()
    assert case.status == Status.SUBMITTED

    with django_capture_on_commit_callbacks(execute=True):
        services.case_accept(actor=officer, case=case)
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED and case.due_at is not None and case.accepted_at
    review = open_task(case)
    assert (review.step_key, review.role, review.department_id) == ("review", "officer", case.department_id)

    # A citizen may not act on the step; the head may not act on the officer's step.
    with pytest.raises(AccessDenied):
        services.case_step(actor=citizen, task=review, action="approve")
    with pytest.raises(AccessDenied):
        services.case_step(actor=head, task=review, action="approve")
    services.case_step(actor=officer, task=review, action="approve")
    decide = open_task(case)
    assert decide.step_key == "decide"
    services.case_step(actor=head, task=decide, action="approve", reason="符合条件")
    case.refresh_from_db()
    assert case.status == Status.APPROVED and case.result_name
    services.case_deliver(actor=officer, case=case, delivery="online")
    case.refresh_from_db()
    assert case.status == Status.DELIVERED

    actions = list(CaseEvent.objects.filter(case=case).values_list("action", flat=True))
    assert actions == ["create", "submit", "request_supplement", "supply", "accept", "step",
                       "approve", "deliver"]
    assert AuditRecord.objects.filter(object_id=case.number, action__startswith="case.").count() == 7
    subjects = set(Notification.objects.filter(recipient=citizen).values_list("subject", flat=True))
    assert {"您的申请已提交", "请按一次性告知书补正材料", "您的申请已受理"} <= subjects
    assert case.visits == 0


def test_on_the_spot_at_the_window_completes_in_one_visit(people: dict[str, User]) -> None:
    clerk = people["clerk"]
    walk_in = ApplicantData(kind="natural_person", name="王五", id_number="620102199003070018")
    case = services.case_create(actor=clerk, item=item(ON_THE_SPOT), channel=Channel.WINDOW,
                                applicant=walk_in, form_data=form())
    supply_all(clerk, case)
    services.case_submit(actor=clerk, case=case)
    services.case_accept(actor=clerk, case=case)
    case.refresh_from_db()
    assert case.status == Status.DELIVERED
    assert case.due_at == case.accepted_at == case.decided_at == case.delivered_at
    assert (case.visits, case.excess_visits) == (1, False)
    assert list(case.events.values_list("action", flat=True)) == [
        "create", "submit", "accept", "approve", "deliver"]


def test_same_day_case_is_due_at_close(people: dict[str, User]) -> None:
    citizen, officer, head = people["citizen"], people["officer"], people["head"]
    case = services.case_create(actor=citizen, item=item(SAME_DAY), channel=Channel.ONLINE,
                                applicant=applicant(citizen), form_data=form())
    supply_all(citizen, case)
    services.case_submit(actor=citizen, case=case)
    services.case_accept(actor=officer, case=case)
    case.refresh_from_db()
    local = case.due_at.astimezone(dt.timezone(dt.timedelta(hours=8)))  # type: ignore[union-attr]
    assert local.time() == dt.time(17, 30)
    services.case_step(actor=officer, task=open_task(case), action="approve")
    services.case_step(actor=head, task=open_task(case), action="deny", reason="不符合变更条件")
    case.refresh_from_db()
    assert case.status == Status.DENIED and case.decision_reason == "不符合变更条件"


def test_proxy_case_received_at_street_centre_and_forwarded(people: dict[str, User]) -> None:
    citizen, proxy = people["citizen"], people["proxy"]
    case = services.case_create(actor=citizen, item=item(PROXY), channel=Channel.ONLINE,
                                applicant=applicant(citizen), form_data=form())
    supply_all(citizen, case)
    services.case_submit(actor=citizen, case=case)
    services.case_accept(actor=proxy, case=case)
    forward = open_task(case)
    assert (forward.step_key, forward.role) == ("forward", "proxy_agent")
    services.case_step(actor=proxy, task=forward, action="forward")
    review = open_task(case)
    assert review.department.name == "兰州市人力资源和社会保障局"
    services.case_step(actor=people["hr_officer"], task=review, action="approve")
    services.case_step(actor=people["hr_head"], task=open_task(case), action="approve")
    case.refresh_from_db()
    assert case.status == Status.APPROVED


def test_stale_version_gets_a_conflict(people: dict[str, User]) -> None:
    citizen, officer, officer2 = people["citizen"], people["officer"], people["officer2"]
    case = services.case_create(actor=citizen, item=item(TIME_LIMITED), channel=Channel.ONLINE,
                                applicant=applicant(citizen), form_data=form())
    supply_all(citizen, case)
    services.case_submit(actor=citizen, case=case)
    case.refresh_from_db()
    seen = case.version
    services.case_accept(actor=officer, case=case, expected_version=seen)
    with pytest.raises(services.CaseConflict):
        services.case_refuse(actor=officer2, case=case, reason="材料不全", expected_version=seen)
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED


def test_idempotency_key_returns_the_same_case(people: dict[str, User]) -> None:
    citizen = people["citizen"]
    args = dict(actor=citizen, item=item(TIME_LIMITED), channel=Channel.ONLINE,
                applicant=applicant(citizen), form_data=form(), idempotency_key="same")
    first = services.case_create(**args)  # type: ignore[arg-type]
    second = services.case_create(**args)  # type: ignore[arg-type]
    assert first.pk == second.pk and Case.objects.count() == 1


def test_staff_do_not_see_an_unsubmitted_draft(people: dict[str, User]) -> None:
    from tongban.cases import policies, selectors

    citizen, officer = people["citizen"], people["officer"]
    case = services.case_create(actor=citizen, item=item(TIME_LIMITED), channel=Channel.ONLINE,
                                applicant=applicant(citizen), form_data=form())
    no_filter = selectors.CaseFilter()
    assert not policies.can_view(officer, case)
    assert list(selectors.case_list(officer, no_filter)) == []
    assert list(selectors.case_list(citizen, no_filter)) == [case]
    supply_all(citizen, case)
    services.case_submit(actor=citizen, case=case)
    case.refresh_from_db()
    assert policies.can_view(officer, case)
    assert list(selectors.case_list(officer, no_filter)) == [case]


def test_resuming_moves_open_steps_by_the_business_time_stopped(
    people: dict[str, User], freeze: Freeze
) -> None:
    from tongban.clock import selectors as clock
    from tongban.clock.deadline import SHANGHAI, business_add

    citizen, officer, head = people["citizen"], people["officer"], people["head"]
    case = services.case_create(actor=citizen, item=item(TIME_LIMITED), channel=Channel.ONLINE,
                                applicant=applicant(citizen), form_data=form())
    supply_all(citizen, case)
    services.case_submit(actor=citizen, case=case)
    services.case_accept(actor=officer, case=case)
    review = open_task(case)
    assert review.due_at is not None
    before = review.due_at

    freeze(dt.datetime(2026, 11, 30, 10, tzinfo=SHANGHAI))
    services.case_suspend(actor=officer, task=review, procedure="expert_review", reason="组织专家评审",
                          expected_working_days=1)
    freeze(dt.datetime(2026, 12, 1, 10, tzinfo=SHANGHAI))
    services.case_resume(actor=head, case=case)

    review.refresh_from_db()
    # Mon 10:00–12:00 and 13:30–17:30, Tue 09:00–10:00: seven hours of office time stopped.
    expected = business_add(before, 7 * 3600, calendar=clock.work_calendar(),
                            hours=clock.office_hours(case.hall_id)).due
    assert review.due_at == expected
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED
