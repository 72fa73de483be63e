"""Submitting ratings and the rectification ticket's path, through the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

import chinese_calendar
import pytest

from tests.conftest import Freeze
from tests.ratings.conftest import ON_SITE_INDICATORS, ONLINE_INDICATORS, bad
from tongban.accounts.models import User
from tongban.audit.models import AuditRecord
from tongban.cases.models import Case
from tongban.cases.notifications.models import Notification
from tongban.clock.deadline import SHANGHAI
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.ratings import selectors, services, tasks
from tongban.ratings.models import Rating, RectificationTicket, TicketState
from tongban.ratings.services import RatingConflict

pytestmark = pytest.mark.django_db


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0,
         second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


def test_good_online_rating_opens_no_ticket(people: dict[str, User], done: Case) -> None:
    rating = services.rating_submit(actor=people["citizen"], case=done, level=5,
                                    indicators={k: 5 for k in ONLINE_INDICATORS}, text="很快")
    assert (rating.channel, rating.level, rating.rater_id, rating.rater_name) == (
        "online", 5, people["citizen"].pk, "张三")
    assert rating.handler == people["clerk"] and rating.department_id == done.department_id
    assert not RectificationTicket.objects.exists()
    assert AuditRecord.objects.filter(action="rating.submitted", object_id=str(rating.pk)).exists()


def test_bad_rating_due_after_national_day(people: dict[str, User], done: Case,
                                           freeze: Freeze) -> None:
    """5 working days from Wednesday 2026-09-30 10:00: D0 is 09-30; 10-01…10-07 are the
    National Day holiday, 10-10 (Saturday) a make-up working day: 10-08, 10-09, 10-10, 10-12,
    10-13 → due at the close of office on 2026-10-13."""
    assert all(chinese_calendar.is_holiday(dt.date(2026, 10, d)) for d in range(1, 8))
    assert chinese_calendar.is_workday(dt.date(2026, 10, 10))
    Case.objects.filter(pk=done.pk).update(decided_at=at(2026, 9, 29, 9))
    freeze(at(2026, 9, 30, 10))
    rating = services.rating_submit(actor=people["citizen"], case=done, **bad())
    ticket = rating.ticket
    assert ticket.state == TicketState.OPEN
    assert ticket.due_at.astimezone(SHANGHAI) == at(2026, 10, 13, 17, 30)
    assert ticket.department_id == done.department_id and ticket.handler == people["clerk"]
    assert ticket.opened_at == at(2026, 9, 30, 10)


def test_once_only_online(people: dict[str, User], done: Case) -> None:
    services.rating_submit(actor=people["citizen"], case=done, **bad())
    with pytest.raises(RatingConflict):
        services.rating_submit(actor=people["citizen"], case=done, level=5,
                               indicators={k: 5 for k in ONLINE_INDICATORS})
    assert Rating.objects.count() == 1 and RectificationTicket.objects.count() == 1


def test_window_expiry(people: dict[str, User], done: Case, freeze: Freeze,
                       settings: Any) -> None:
    assert settings.RATING_WINDOW_DAYS == 15
    assert done.decided_at is not None
    freeze(done.decided_at + dt.timedelta(days=15, seconds=1))
    with pytest.raises(RatingConflict) as exc:
        services.rating_submit(actor=people["citizen"], case=done, **bad())
    assert "评价期限" in str(exc.value)
    freeze(done.decided_at + dt.timedelta(days=15))
    services.rating_submit(actor=people["citizen"], case=done, **bad())
    assert Rating.objects.count() == 1


def test_not_before_completion(people: dict[str, User], done: Case) -> None:
    Case.objects.filter(pk=done.pk).update(status="accepted", decided_at=None)
    with pytest.raises(RatingConflict):
        services.rating_submit(actor=people["citizen"], case=done, **bad())
    assert not Rating.objects.exists()


@pytest.mark.parametrize("who", ["clerk", "officer", "head", "proxy", "supervisor", "bureau"])
def test_staff_can_never_rate(overseers: dict[str, User], done: Case, who: str) -> None:
    with pytest.raises(AccessDenied):
        services.rating_submit(actor=overseers[who], case=done, **bad())
    visit = done.visit_records.get()
    with pytest.raises(AccessDenied):
        services.rating_submit(actor=overseers[who], visit=visit,
                               token=services.visit_token(visit), level=5,
                               indicators=ON_SITE_INDICATORS)
    assert not Rating.objects.exists()


def test_only_the_applicant_rates_online(people: dict[str, User], done: Case) -> None:
    with pytest.raises(AccessDenied):
        services.rating_submit(actor=people["other"], case=done, **bad())
    assert not Rating.objects.exists()


def test_bad_input_names_the_field(people: dict[str, User], done: Case) -> None:
    with pytest.raises(RuleViolation) as exc:
        services.rating_submit(actor=people["citizen"], case=done, level=7,
                               indicators={"efficiency": 9}, tags=["nope"], text="x" * 501)
    fields = {p.field for p in exc.value.problems}
    assert {"level", "indicators.efficiency", "indicators.usability", "tags", "text"} <= fields
    with pytest.raises(RuleViolation) as exc:
        services.rating_submit(actor=people["citizen"], case=done, level=2,
                               indicators=ONLINE_INDICATORS)
    assert [p.field for p in exc.value.problems] == ["tags"]  # a bad review says why
    with pytest.raises(RuleViolation):
        services.rating_submit(actor=people["citizen"], case=done, level=5,
                               indicators=ONLINE_INDICATORS, tags=["poor_attitude"])
    assert not Rating.objects.exists()


def test_on_site_rating_by_token_once(people: dict[str, User], done: Case,
                                      freeze: Freeze) -> None:
    visit = done.visit_records.get()
    token = services.visit_token(visit)
    with pytest.raises(AccessDenied):  # no token, not logged in
        services.rating_submit(actor=None, visit=visit, level=5, indicators=ON_SITE_INDICATORS)
    rating = services.rating_submit(actor=None, visit=visit, token=token, level=2,
                                    indicators=ON_SITE_INDICATORS, text="窗口人员态度冷淡",
                                    on_staff_device=True)
    assert (rating.channel, rating.rater_id, rating.rater_name, rating.handler) == (
        "on_site", people["citizen"].pk, "张三", people["clerk"])
    # The window belongs to the hall; the hall's managing department answers for it.
    assert people["clerk"].hall is not None
    assert rating.department == people["clerk"].hall.department
    assert rating.ticket.department == people["clerk"].hall.department
    with pytest.raises(RatingConflict):
        services.rating_submit(actor=None, visit=visit, token=token, level=5,
                               indicators=ON_SITE_INDICATORS)
    # An online rating of the same case is a separate one (一事一评 and 一次一评).
    services.rating_submit(actor=people["citizen"], case=done, level=4,
                           indicators=ONLINE_INDICATORS)
    assert Rating.objects.count() == 2


def test_visit_token_expires(people: dict[str, User], done: Case, settings: Any) -> None:
    visit = done.visit_records.get()
    token = services.visit_token(visit)
    settings.RATING_VISIT_TOKEN_MINUTES = 0
    import time

    time.sleep(1.1)
    assert services.visit_from_token(token) is None
    with pytest.raises(AccessDenied):
        services.rating_submit(actor=None, visit=visit, token=token, level=5,
                               indicators=ON_SITE_INDICATORS)
    # The applicant may still rate the visit while logged in, within the rating window.
    services.rating_submit(actor=people["citizen"], visit=visit, level=5,
                           indicators=ON_SITE_INDICATORS)
    assert Rating.objects.count() == 1


def test_ratings_are_append_only(people: dict[str, User], done: Case) -> None:
    rating = services.rating_submit(actor=people["citizen"], case=done, level=5,
                                    indicators=ONLINE_INDICATORS)
    rating.level = 1
    with pytest.raises(RuntimeError):
        rating.save()
    with pytest.raises(RuntimeError):
        rating.delete()
    assert Rating.objects.get().level == 5
    assert not hasattr(services, "rating_update") and not hasattr(services, "rating_delete")


def _ticket(people: dict[str, User], done: Case, **extra: Any) -> RectificationTicket:
    return services.rating_submit(actor=people["citizen"], case=done, **bad(**extra)).ticket


def test_ticket_path_fix_callback_rater_rates(people: dict[str, User], done: Case) -> None:
    ticket = _ticket(people, done)
    with pytest.raises(AccessDenied):
        services.ticket_respond(actor=people["hr_officer"], ticket=ticket, response="fix_now",
                                text="x")
    with pytest.raises(RuleViolation) as exc:
        services.ticket_respond(actor=people["officer"], ticket=ticket, response="ledger", text="")
    assert {p.field for p in exc.value.problems} == {"text", "ledger_deadline"}
    ticket = services.ticket_respond(actor=people["officer"], ticket=ticket, response="fix_now",
                                     text="已当场向申请人致歉并优化流程")
    assert ticket.state == TicketState.RESPONDED and not ticket.overdue
    with pytest.raises(RatingConflict):  # a callback is required before closing
        services.ticket_rate_fix(actor=people["citizen"], ticket=ticket, satisfied=True)
    ticket = services.ticket_callback(actor=people["head"], ticket=ticket, reached=True,
                                      note="电话回访，申请人认可")
    assert ticket.state == TicketState.AWAITING_RATER
    with pytest.raises(AccessDenied):
        services.ticket_rate_fix(actor=people["other"], ticket=ticket, satisfied=True)
    ticket = services.ticket_rate_fix(actor=people["citizen"], ticket=ticket, satisfied=True)
    assert (ticket.state, ticket.outcome, ticket.fix_satisfied) == ("closed", "rectified", True)
    assert ticket.rectified_on_time


def test_appeal_accepted_excludes_the_rating(overseers: dict[str, User], done: Case) -> None:
    ticket = _ticket(overseers, done)
    ticket = services.ticket_appeal(actor=overseers["officer"], ticket=ticket,
                                    reason="申请人误评：评价内容与本办件无关")
    assert ticket.state == TicketState.APPEALED
    with pytest.raises(AccessDenied):
        services.ticket_decide_appeal(actor=overseers["head"], ticket=ticket, accept=True,
                                      note="x")
    ticket = services.ticket_decide_appeal(actor=overseers["supervisor"], ticket=ticket,
                                           accept=True, note="经核实属误评")
    rating = Rating.objects.get()
    assert (ticket.state, ticket.outcome) == ("closed", "appeal_accepted")
    assert rating.excluded and "误评" in rating.excluded_reason and rating.level == 1


def test_appeal_rejected_reopens_with_same_due(overseers: dict[str, User], done: Case) -> None:
    ticket = _ticket(overseers, done)
    due = ticket.due_at
    ticket = services.ticket_appeal(actor=overseers["officer"], ticket=ticket, reason="恶意差评")
    ticket = services.ticket_decide_appeal(actor=overseers["supervisor"], ticket=ticket,
                                           accept=False, note="评价属实")
    assert ticket.state == TicketState.OPEN and ticket.due_at == due
    assert not Rating.objects.get().excluded
    with pytest.raises(RatingConflict):  # one appeal per ticket
        services.ticket_appeal(actor=overseers["officer"], ticket=ticket, reason="再次申诉")


def test_overdue_sweep_escalates_once(overseers: dict[str, User], done: Case,
                                      freeze: Freeze) -> None:
    ticket = _ticket(overseers, done)
    freeze(ticket.due_at + dt.timedelta(minutes=1))
    assert tasks.sweep_tickets.call() == 3  # the department head, the handler, the supervisor
    ticket.refresh_from_db()
    assert ticket.overdue and ticket.escalated_at is not None
    recipients = set(Notification.objects.filter(kind="rating", key__endswith="-overdue")
                     .values_list("recipient__username", flat=True))
    assert recipients == {"head", "clerk", "supervisor"}
    assert tasks.sweep_tickets.call() == 0  # escalated once
    # Answering late counts as not on time.
    freeze(ticket.due_at + dt.timedelta(hours=1))
    ticket = services.ticket_respond(actor=overseers["officer"], ticket=ticket,
                                     response="explained", text="说明")
    assert ticket.overdue and not ticket.rectified_on_time


def test_ledger_needs_a_future_deadline(people: dict[str, User], done: Case) -> None:
    ticket = _ticket(people, done)
    with pytest.raises(RuleViolation):
        services.ticket_respond(actor=people["officer"], ticket=ticket, response="ledger",
                                text="整改", ledger_deadline=dt.date(2020, 1, 1))
    ticket = services.ticket_respond(actor=people["head"], ticket=ticket, response="ledger",
                                     text="建立台账", ledger_deadline=dt.date(2099, 1, 1))
    assert ticket.ledger_deadline == dt.date(2099, 1, 1)


def test_walk_in_without_account_callback_records_satisfaction(people: dict[str, User]) -> None:
    """An on-site bad rating by a walk-in without an account: the callback records the view."""
    from tests.cases.conftest import ON_THE_SPOT, form, item
    from tongban.cases import services as case_services
    from tongban.cases.models import Channel
    from tongban.cases.services import ApplicantData

    clerk = people["clerk"]
    case = case_services.case_create(actor=clerk, item=item(ON_THE_SPOT), channel=Channel.WINDOW,
                                     applicant=ApplicantData("natural_person", "王五",
                                                             "620102199003070018", "13893100009"),
                                     form_data=form())
    from tests.ratings.conftest import pdf
    from tongban.cases.materials import case_material_add

    for m in case.item_version.materials.all():
        case_material_add(actor=clerk, case=case, material=m, name=m.name, upload=pdf(),
                          original_name="a.pdf")
    case_services.case_submit(actor=clerk, case=case)
    case_services.case_accept(actor=clerk, case=Case.objects.get(pk=case.pk))
    visit = case.visit_records.get()
    rating = services.rating_submit(actor=None, visit=visit, token=services.visit_token(visit),
                                    level=1, indicators=ON_SITE_INDICATORS, tags=["long_wait"])
    assert rating.rater is None and rating.rater_phone == "13893100009"
    ticket = services.ticket_respond(actor=clerk, ticket=rating.ticket, response="fix_now",
                                     text="增开窗口")
    with pytest.raises(RuleViolation):
        services.ticket_callback(actor=clerk, ticket=ticket, reached=True, note="已回访")
    ticket = services.ticket_callback(actor=clerk, ticket=ticket, reached=True, note="已回访",
                                      satisfied=False)
    assert (ticket.state, ticket.fix_satisfied) == ("closed", False)


@pytest.mark.parametrize(("days_after_due", "on_time"), [(0, True), (1, False)])
def test_a_ledger_due_after_the_ticket_is_a_late_fix(people: dict[str, User], done: Case,
                                                      days_after_due: int, on_time: bool) -> None:
    """Opening a ledger in time is not fixing in time: a ledger whose deadline falls after the
    ticket's due day counts as a late fix in the monthly report."""
    ticket = _ticket(people, done)
    due_day = ticket.due_at.astimezone(SHANGHAI).date()
    ticket = services.ticket_respond(
        actor=people["officer"], ticket=ticket, response="ledger", text="建立台账，限期整改",
        ledger_deadline=due_day + dt.timedelta(days=days_after_due))
    assert ticket.responded_at is not None and ticket.responded_at <= ticket.due_at
    assert ticket.rectified_on_time is on_time
    assert ticket.overdue is not on_time
    opened = ticket.opened_at.astimezone(SHANGHAI)
    report = selectors.monthly_report(opened.year, opened.month, now=ticket.responded_at)
    assert report.tickets.bad_reviews == 1
    assert report.tickets.rectified_on_time == int(on_time)
    assert report.tickets.overdue == int(not on_time)
    assert report.tickets.on_time_rate == (1.0 if on_time else 0.0)
    assert [g.on_time for g in report.departments if g.tickets] == [int(on_time)]
    record = AuditRecord.objects.filter(action="rating_ticket.responded").get()
    assert record.detail["on_time"] is on_time
