"""Queue services: numbering, the abuse limit, transitions, permissions and auditing."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import make_user
from tests.queues.conftest import QueueHall
from tongban.accounts.models import Role, User
from tongban.accounts.permissions import SYSTEM
from tongban.audit.models import AuditRecord
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.organizations.models import Window
from tongban.queues import services
from tongban.queues.models import ServiceCategory, Ticket, TicketStatus

SH = dt.timezone(dt.timedelta(hours=8))
# 2026-03-02 is a Monday; 08:30 Beijing time.
MORNING = dt.datetime(2026, 3, 2, 8, 30, tzinfo=SH)


def take(qh: QueueHall, category: ServiceCategory | None = None, *, at: dt.datetime = MORNING,
         phone: str = "") -> Ticket:
    return services.ticket_take(hall=qh.hall, category=category or qh.general, phone=phone, now=at)


def call_next(*, actor: User, window: Window, now: dt.datetime | None = None) -> Ticket:
    """``services.ticket_call_next`` where a ticket is waiting: the one it calls."""
    ticket = services.ticket_call_next(actor=actor, window=window, now=now)
    assert ticket is not None
    return ticket


def test_numbers_run_per_category_and_restart_each_beijing_day(qh: QueueHall) -> None:
    a1 = take(qh)
    a2 = take(qh, at=MORNING + dt.timedelta(minutes=1))
    b1 = take(qh, qh.business)
    # 23:59 Beijing time is still the same day; 00:01 (16:01 UTC the day before) is the next.
    late = take(qh, at=dt.datetime(2026, 3, 2, 23, 59, tzinfo=SH))
    next_day = take(qh, at=dt.datetime(2026, 3, 2, 16, 1, tzinfo=dt.UTC))
    assert [a1.number, a2.number, b1.number, late.number, next_day.number] == [
        "A001", "A002", "B001", "A003", "A001"]
    assert (late.day, next_day.day) == (dt.date(2026, 3, 2), dt.date(2026, 3, 3))
    assert a1.status == TicketStatus.WAITING
    assert a1.taken_at == MORNING


def test_each_hall_numbers_its_own_tickets(qh: QueueHall) -> None:
    take(qh)
    other_category = ServiceCategory.objects.get(hall=qh.other_hall)
    t = services.ticket_take(hall=qh.other_hall, category=other_category, now=MORNING)
    assert t.number == "A001"


def test_a_category_of_another_hall_or_inactive_is_refused(qh: QueueHall) -> None:
    other_category = ServiceCategory.objects.get(hall=qh.other_hall)
    with pytest.raises(RuleViolation) as exc:
        services.ticket_take(hall=qh.hall, category=other_category, now=MORNING)
    assert exc.value.problems[0].field == "category"
    qh.business.active = False
    qh.business.save()
    with pytest.raises(RuleViolation):
        take(qh, qh.business)
    assert Ticket.objects.count() == 0


def test_one_waiting_ticket_per_phone_and_hall(qh: QueueHall) -> None:
    first = take(qh, phone="138 1234 5678")
    assert first.phone == "13812345678"
    with pytest.raises(RuleViolation) as exc:
        take(qh, qh.business, phone="13812345678")
    assert exc.value.problems[0].field == "phone"
    assert "已有等候中的号码" in str(exc.value.problems[0].message)
    # Another hall is fine; so is the same phone once the first ticket is no longer waiting.
    services.ticket_take(hall=qh.other_hall, category=ServiceCategory.objects.get(hall=qh.other_hall),
                         phone="13812345678", now=MORNING)
    services.ticket_call_next(actor=qh.clerk, window=qh.comprehensive, now=MORNING)
    assert take(qh, qh.business, phone="13812345678").number == "B001"
    assert Ticket.objects.filter(hall=qh.hall).count() == 2


def test_a_bad_phone_is_named(qh: QueueHall) -> None:
    with pytest.raises(RuleViolation) as exc:
        take(qh, phone="12345")
    assert [p.field for p in exc.value.problems] == ["phone"]
    assert Ticket.objects.count() == 0


def test_call_next_takes_the_oldest_waiting_ticket_the_window_serves(qh: QueueHall) -> None:
    a1 = take(qh)
    b1 = take(qh, qh.business, at=MORNING + dt.timedelta(minutes=1))
    # The market window serves only B; the comprehensive window takes the oldest of all.
    called = services.ticket_call_next(actor=qh.clerk, window=qh.market,
                                       now=MORNING + dt.timedelta(minutes=5))
    assert called is not None and called.pk == b1.pk
    assert (called.status, called.window, called.clerk, called.call_count) == (
        TicketStatus.CALLED, qh.market, qh.clerk, 1)
    assert called.called_at == MORNING + dt.timedelta(minutes=5)
    assert call_next(actor=qh.clerk2, window=qh.comprehensive).pk == a1.pk
    assert services.ticket_call_next(actor=qh.clerk2, window=qh.comprehensive2) is None


def test_call_next_can_be_limited_to_chosen_categories(qh: QueueHall) -> None:
    take(qh)
    b1 = take(qh, qh.business, at=MORNING + dt.timedelta(minutes=1))
    called = services.ticket_call_next(actor=qh.clerk, window=qh.comprehensive, categories=[qh.business])
    assert called is not None and called.pk == b1.pk
    with pytest.raises(RuleViolation):  # the market window does not serve A
        services.ticket_call_next(actor=qh.clerk2, window=qh.market, categories=[qh.general])


def test_a_window_with_an_open_ticket_cannot_call_another(qh: QueueHall) -> None:
    take(qh)
    take(qh, at=MORNING + dt.timedelta(minutes=1))
    first = services.ticket_call_next(actor=qh.clerk, window=qh.comprehensive)
    with pytest.raises(RuleViolation) as exc:
        services.ticket_call_next(actor=qh.clerk, window=qh.comprehensive)
    assert "A001" in str(exc.value.problems[0].message)
    assert first is not None
    services.ticket_no_show(actor=qh.clerk, ticket=first)
    second = services.ticket_call_next(actor=qh.clerk, window=qh.comprehensive)
    assert second is not None and second.number == "A002"


def test_the_whole_life_of_a_ticket_is_audited(qh: QueueHall) -> None:
    t = take(qh)
    t0 = MORNING + dt.timedelta(minutes=10)
    t = call_next(actor=qh.clerk, window=qh.comprehensive, now=t0)
    assert t is not None
    t = services.ticket_recall(actor=qh.clerk, ticket=t, now=t0 + dt.timedelta(minutes=1))
    assert (t.status, t.call_count, t.called_at, t.last_called_at) == (
        TicketStatus.CALLED, 2, t0, t0 + dt.timedelta(minutes=1))
    t = services.ticket_start(actor=qh.clerk, ticket=t, now=t0 + dt.timedelta(minutes=2))
    assert (t.status, t.started_at) == (TicketStatus.SERVING, t0 + dt.timedelta(minutes=2))
    t = services.ticket_finish(actor=qh.clerk, ticket=t, now=t0 + dt.timedelta(minutes=9))
    assert (t.status, t.finished_at) == (TicketStatus.DONE, t0 + dt.timedelta(minutes=9))
    actions = list(AuditRecord.objects.filter(object_type="ticket", object_id=str(t.pk))
                   .order_by("seq").values_list("action", flat=True))
    assert actions == ["ticket.taken", "ticket.called", "ticket.recalled", "ticket.started",
                       "ticket.finished"]


@pytest.mark.parametrize(("path", "refused"), [
    # (moves made first, the move that must be refused)
    ([], "recall"), ([], "start"), ([], "finish"), ([], "no_show"),
    (["call", "start"], "recall"), (["call", "start"], "no_show"), (["call", "start"], "start"),
    (["call", "finish"], "finish"), (["call", "finish"], "recall"), (["call", "no_show"], "start"),
])
def test_transitions_outside_the_table_are_refused(qh: QueueHall, path: list[str], refused: str) -> None:
    t = take(qh)
    moves = {"recall": services.ticket_recall, "start": services.ticket_start,
             "finish": services.ticket_finish, "no_show": services.ticket_no_show}
    for step in path:
        if step == "call":
            t = call_next(actor=qh.clerk, window=qh.comprehensive)
        else:
            t = moves[step](actor=qh.clerk, ticket=t)
    before = Ticket.objects.values().get(pk=t.pk)
    audits = AuditRecord.objects.count()
    with pytest.raises(RuleViolation):
        moves[refused](actor=qh.clerk, ticket=t)
    assert Ticket.objects.values().get(pk=t.pk) == before
    assert AuditRecord.objects.count() == audits


def test_called_ticket_may_be_finished_directly_and_linked_to_a_case(qh: QueueHall) -> None:
    t = take(qh)
    t = call_next(actor=qh.clerk, window=qh.comprehensive)
    with pytest.raises(RuleViolation) as exc:
        services.ticket_finish(actor=qh.clerk, ticket=t, case_number="620100-NOPE")
    assert exc.value.problems[0].field == "case_number"
    assert Ticket.objects.get(pk=t.pk).status == TicketStatus.CALLED
    t = services.ticket_finish(actor=qh.clerk, ticket=t)
    assert t.status == TicketStatus.DONE and t.case_number == ""


@pytest.mark.parametrize("who", ["other_clerk", "citizen", "officer", "admin"])
def test_only_the_halls_clerks_call_and_handle_tickets(qh: QueueHall, who: str) -> None:
    actor = {"other_clerk": qh.other_clerk,
             "citizen": make_user("c", Role.CITIZEN),
             "officer": make_user("o", Role.OFFICER, department=qh.market_bureau),
             "admin": make_user("a", Role.ADMIN)}[who]
    t = take(qh)
    with pytest.raises(AccessDenied):
        services.ticket_call_next(actor=actor, window=qh.comprehensive)
    called = call_next(actor=qh.clerk, window=qh.comprehensive)
    before = Ticket.objects.values().get(pk=t.pk)
    for move in (services.ticket_recall, services.ticket_start, services.ticket_no_show,
                 services.ticket_finish):
        with pytest.raises(AccessDenied):
            move(actor=actor, ticket=called)
    assert Ticket.objects.values().get(pk=t.pk) == before


def test_a_proxy_agent_works_the_queue_of_their_centre(qh: QueueHall) -> None:
    agent = make_user("agent", Role.PROXY_AGENT, hall=qh.other_hall)
    t = services.ticket_take(hall=qh.other_hall, category=ServiceCategory.objects.get(hall=qh.other_hall))
    called = services.ticket_call_next(actor=agent, window=qh.other_window)
    assert called is not None and called.pk == t.pk


def test_cancel_needs_the_ticket_token_and_a_waiting_ticket(qh: QueueHall) -> None:
    t = take(qh)
    with pytest.raises(RuleViolation):
        services.ticket_cancel(ticket=t, token="00000000-0000-0000-0000-000000000000")
    t = services.ticket_cancel(ticket=t, token=str(t.token))
    assert t.status == TicketStatus.CANCELLED
    with pytest.raises(RuleViolation):
        services.ticket_cancel(ticket=t, token=str(t.token))


def test_category_save_checks_writes_and_audits_once(qh: QueueHall) -> None:
    admin = make_user("bureau", Role.ADMIN)
    with pytest.raises(AccessDenied):
        services.category_save(actor=qh.clerk, fields=services.CategoryFields(
            hall=qh.hall, code="C", name="社保"))
    with pytest.raises(RuleViolation) as exc:
        services.category_save(actor=admin, fields=services.CategoryFields(
            hall=qh.hall, code="a1", name="", commitments=["weekly"]))
    assert [p.field for p in exc.value.problems] == ["code", "name", "commitments"]
    with pytest.raises(RuleViolation) as exc:
        services.category_save(actor=admin, fields=services.CategoryFields(
            hall=qh.hall, code="A", name="重复"))
    assert "已有字母代码为 A" in str(exc.value.problems[0].message)
    fields = services.CategoryFields(hall=qh.hall, code="C", name="社保医保",
                                     departments=[qh.market_bureau], commitments=["same_day"])
    c = services.category_save(actor=admin, fields=fields)
    assert list(c.departments.all()) == [qh.market_bureau]
    audits = AuditRecord.objects.filter(object_type="queue_category").count()
    services.category_save(actor=SYSTEM, category=c, fields=fields)
    assert AuditRecord.objects.filter(object_type="queue_category").count() == audits == 1


def test_categories_for_window(qh: QueueHall) -> None:
    assert list(services.categories_for_window(qh.comprehensive)) == [qh.general, qh.business]
    assert list(services.categories_for_window(qh.market)) == [qh.business]


def test_after_midnight_earlier_days_leftovers_are_closed_once(qh: QueueHall) -> None:
    serving = take(qh)
    called = take(qh, at=MORNING + dt.timedelta(minutes=1))
    waiting = take(qh, at=MORNING + dt.timedelta(minutes=2), phone="13893100001")
    three = MORNING + dt.timedelta(minutes=3)
    assert call_next(actor=qh.clerk, window=qh.comprehensive, now=three).pk \
        == serving.pk
    assert call_next(actor=qh.clerk2, window=qh.comprehensive2, now=three).pk \
        == called.pk
    serving.refresh_from_db()
    services.ticket_start(actor=qh.clerk, ticket=serving, now=MORNING + dt.timedelta(minutes=4))
    today_ticket = take(qh, at=dt.datetime(2026, 3, 3, 8, 0, tzinfo=SH))
    before = AuditRecord.objects.count()
    # The last number so far (numbers are a PostgreSQL sequence, not the count of records).
    last = AuditRecord.objects.order_by("-seq").values_list("seq", flat=True).first() or 0

    after_midnight = dt.datetime(2026, 3, 3, 0, 10, tzinfo=SH)
    assert services.tickets_close_previous_days(now=after_midnight) == 2
    states = {t.pk: t.status for t in Ticket.objects.all()}
    assert states[waiting.pk] == TicketStatus.CANCELLED  # never called
    assert states[called.pk] == TicketStatus.NO_SHOW  # called, never came
    assert states[serving.pk] == TicketStatus.SERVING  # left for its window to finish
    assert states[today_ticket.pk] == TicketStatus.WAITING
    record = AuditRecord.objects.get(seq__gt=last)
    assert (record.action, record.detail) == ("ticket.day_closed", {"cancelled": 1, "no_show": 1})
    # Running it again changes nothing and records nothing.
    assert services.tickets_close_previous_days(now=after_midnight) == 0
    assert AuditRecord.objects.count() == before + 1
    # The phone that held yesterday's waiting number may take one today.
    assert take(qh, phone="13893100001", at=dt.datetime(2026, 3, 3, 8, 5, tzinfo=SH)).number \
        == "A002"
