"""Reads: the rater as a given user may see them, ticket lists, the figures and the monthly
report. Excluded ratings (appeal accepted) are left out of every figure."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from tongban.accounts.masking import mask_id_number, mask_name, mask_phone
from tongban.accounts.permissions import account_of
from tongban.cases.models import Case
from tongban.clock.deadline import SHANGHAI
from tongban.organizations.models import Department

from . import policies
from .models import BAD_LEVELS, Channel, Level, Rating, RectificationTicket, TicketState
from .services import (
    completed_at,
    needs_callback,
    rectification_late,
    rectified_on_time,
    window_end,
)

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor


@dataclass
class Rater:
    name: str
    phone: str
    id_number: str
    masked: bool  # some part is masked


def rater_for(user: Actor, rating: Rating, *, reveal: bool = False) -> Rater:
    """The rater as ``user`` may see them.

    The rater: everything in full. With ``reveal`` (one ticket's page or API answer, whose read
    is audited) supervisors and the people acting on the bad review's ticket: name and phone in
    full, to call the rater back, and the ID number masked. Everyone else, and lists: masked.
    """
    if policies.is_rater(user, rating):
        return Rater(rating.rater_name, rating.rater_phone, rating.rater_id_number, False)
    if reveal and policies.reveals_rater(user, rating):
        return Rater(rating.rater_name, rating.rater_phone,
                     mask_id_number(rating.rater_id_number), bool(rating.rater_id_number))
    return Rater(mask_name(rating.rater_name), mask_phone(rating.rater_phone),
                 mask_id_number(rating.rater_id_number), True)


# --- the citizen's side -----------------------------------------------------------------------

@dataclass
class CaseRatingState:
    rating: Rating | None
    can_rate: bool
    until: dt.datetime | None


def case_rating_state(user: Actor | None, case: Case, *, now: dt.datetime | None = None) -> CaseRatingState:
    """Whether ``user`` may rate ``case`` online now, or the rating already given."""
    rating = case.ratings.filter(channel=Channel.ONLINE).first() if case.pk else None
    done = completed_at(case)
    until = window_end(done) if done is not None else None
    can = (rating is None and until is not None and (now or timezone.now()) <= until
           and policies.is_served_online(user, case))
    return CaseRatingState(rating=rating, can_rate=can, until=until)


# --- tickets ----------------------------------------------------------------------------------

def _tickets() -> QuerySet[RectificationTicket]:
    # Everything a ticket's API entry shows (``schemas.ticket_out``), fetched with the list.
    return RectificationTicket.objects.select_related(
        "rating", "rating__case", "rating__item__current", "rating__department", "department",
        "handler").prefetch_related("rating__tags")


def tickets_for(user: Actor, *, state: str = "") -> QuerySet[RectificationTicket]:
    """Supervisors: every ticket. Officers and heads: their department's. Others: those they
    handled. Soonest due first."""
    qs = _tickets()
    if policies.is_supervisor(user):
        pass
    elif user.is_authenticated and getattr(user, "role", None) in policies.DEPARTMENT_ROLES \
            and user.department_id:
        qs = qs.filter(Q(department_id=user.department_id) | Q(handler=user))
    elif (account := account_of(user)) is not None:
        qs = qs.filter(handler=account)
    else:
        return qs.none()
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("due_at", "pk")


def ticket_find(user: Actor, ticket_id: int) -> RectificationTicket | None:
    """The ticket if ``user`` acts on it, supervises, or is its rater (who rates the fix)."""
    ticket = _tickets().filter(pk=ticket_id).first()
    if ticket is None:
        return None
    rater = getattr(user, "pk", None) is not None and ticket.rating.rater_id == user.pk
    if not (rater or policies.can_view_ticket(user, ticket)):
        return None
    return ticket


def tickets_for_rater(user: Actor) -> QuerySet[RectificationTicket]:
    """Tickets waiting for ``user`` (the rater) to rate the fix."""
    account = account_of(user)
    if account is None:
        return RectificationTicket.objects.none()
    return _tickets().filter(rating__rater=account, state=TicketState.AWAITING_RATER)


def appeals_pending() -> QuerySet[RectificationTicket]:
    return _tickets().filter(state=TicketState.APPEALED).order_by("appealed_at")


# --- figures ----------------------------------------------------------------------------------

def _aware(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=SHANGHAI)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class TicketFigures:
    """差评整改: over the tickets of bad reviews given in [start, end)."""

    bad_reviews: int = 0
    rectified_on_time: int = 0
    overdue: int = 0
    callbacks_due: int = 0
    callbacks_done: int = 0
    fix_rated: int = 0
    fix_satisfied: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return _ratio(self.rectified_on_time, self.bad_reviews)

    @property
    def callback_rate(self) -> float | None:
        return _ratio(self.callbacks_done, self.callbacks_due)

    @property
    def fix_satisfaction(self) -> float | None:
        return _ratio(self.fix_satisfied, self.fix_rated)

    def as_dict(self) -> dict[str, Any]:
        return {"bad_reviews": self.bad_reviews, "rectified_on_time": self.rectified_on_time,
                "overdue": self.overdue, "on_time_rate": self.on_time_rate,
                "callbacks_due": self.callbacks_due, "callbacks_done": self.callbacks_done,
                "callback_rate": self.callback_rate, "fix_rated": self.fix_rated,
                "fix_satisfied": self.fix_satisfied, "fix_satisfaction": self.fix_satisfaction}


def _counted_tickets(start: dt.date, end: dt.date) -> QuerySet[RectificationTicket]:
    return (RectificationTicket.objects.select_related("rating")
            .filter(rating__created_at__gte=_aware(start), rating__created_at__lt=_aware(end),
                    rating__excluded=False))


def ticket_figures(start: dt.date, end: dt.date, *, department_id: int | None = None,
                   now: dt.datetime | None = None) -> TicketFigures:
    """Bad reviews of [start, end) (dates in Beijing time, end exclusive), excluded ones left out:
    rectified on time (answered no later than due), overdue (answered late, or unanswered and
    past due), callbacks done / due (real-name ones), satisfied / rated fixes."""
    qs = _counted_tickets(start, end)
    if department_id is not None:
        qs = qs.filter(department_id=department_id)
    return _ticket_figures(qs, now=now or timezone.now())


def _ticket_figures(tickets: Iterable[RectificationTicket], *, now: dt.datetime) -> TicketFigures:
    figures = TicketFigures()
    for t in tickets:
        figures.bad_reviews += 1
        if rectified_on_time(t):
            figures.rectified_on_time += 1
        elif rectification_late(t, now=now):
            figures.overdue += 1
        if needs_callback(t.rating):
            figures.callbacks_due += 1
            if t.callback_at is not None:
                figures.callbacks_done += 1
        if t.fix_satisfied is not None:
            figures.fix_rated += 1
            figures.fix_satisfied += int(t.fix_satisfied)
    return figures


@dataclass
class ItemSatisfaction:
    count: int
    good_rate: float | None  # 好评率: level ≥ 4 / all
    avg_score_10: float | None  # mean level × 2


def satisfaction_by_item(start: dt.date, end: dt.date, *,
                         item_ids: Iterable[int] | None = None) -> dict[int, ItemSatisfaction]:
    """Per item id (only ``item_ids`` when given), the ratings of [start, end) (Beijing dates,
    end exclusive), excluded left out; counted by the database."""
    ratings = _counted_ratings(start, end)
    if item_ids is not None:
        ratings = ratings.filter(item_id__in=list(item_ids))
    rows = (ratings.order_by().values("item_id")
            .annotate(n=Count("pk"), good=Count("pk", filter=Q(level__gte=4)), total=Sum("level"))
            .values_list("item_id", "n", "good", "total"))
    return {item_id: ItemSatisfaction(count=n, good_rate=_ratio(good, n),
                                      avg_score_10=round(2 * total / n, 2))
            for item_id, n, good, total in rows}


def _counted_ratings(start: dt.date, end: dt.date) -> QuerySet[Rating]:
    return Rating.objects.filter(created_at__gte=_aware(start), created_at__lt=_aware(end),
                                 excluded=False)


# --- the monthly report -----------------------------------------------------------------------

def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    start = dt.date(year, month, 1)
    end = dt.date(year + (month == 12), month % 12 + 1, 1)
    return start, end


@dataclass
class Group:
    """One department's or item's line of the report."""

    key: int
    name: str
    cases: int = 0
    ratings: int = 0
    level_sum: int = 0
    good: int = 0
    bad: int = 0
    tickets: int = 0
    on_time: int = 0

    @property
    def avg_score_10(self) -> float | None:
        return round(2 * self.level_sum / self.ratings, 2) if self.ratings else None

    @property
    def good_rate(self) -> float | None:
        return _ratio(self.good, self.ratings)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "cases": self.cases, "ratings": self.ratings,
                "avg_score_10": self.avg_score_10, "good_rate": self.good_rate,
                "bad_reviews": self.bad, "tickets": self.tickets,
                "rectified_on_time": self.on_time}


@dataclass
class MonthlyReport:
    year: int
    month: int
    cases_by_channel: dict[str, int] = field(default_factory=dict)
    cases_total: int = 0
    ratings_by_channel_level: dict[str, dict[int, int]] = field(default_factory=dict)
    ratings_total: int = 0
    excluded: int = 0
    avg_score_10: float | None = None
    good_rate: float | None = None
    tickets: TicketFigures = field(default_factory=TicketFigures)
    top_tags: list[tuple[str, int]] = field(default_factory=list)
    departments: list[Group] = field(default_factory=list)
    items: list[Group] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def as_dict(self) -> dict[str, Any]:
        """The report as published (JSON): counts only, nothing about any rater."""
        return {
            "month": self.label,
            "cases": {"total": self.cases_total, "by_channel": self.cases_by_channel},
            "ratings": {"total": self.ratings_total, "excluded_after_appeal": self.excluded,
                        "by_channel_and_level": {ch: {str(k): v for k, v in levels.items()}
                                                 for ch, levels in
                                                 self.ratings_by_channel_level.items()},
                        "avg_score_10": self.avg_score_10, "good_rate": self.good_rate},
            "rectification": self.tickets.as_dict(),
            "top_tags": [{"tag": name, "count": n} for name, n in self.top_tags],
            "departments": [g.as_dict() for g in self.departments],
            "items": [g.as_dict() for g in self.items],
        }


TICKET_COLUMNS = (
    "rating", "department", "rating__item", "rating__item__current", "state", "due_at",
    "response", "ledger_deadline", "responded_at", "callback_at", "fix_satisfied", "outcome",
    "department__name", "rating__rater_id", "rating__rater_name", "rating__rater_phone", "rating__created_at",
    "rating__excluded", "rating__item__implementation_code", "rating__item__current__name")


def monthly_report(year: int, month: int, *, now: dt.datetime | None = None) -> MonthlyReport:
    """Guangdong's monthly report: cases completed in the month by channel, the month's ratings
    by channel and level, the average score out of 10 (mean level × 2), bad-review tickets and
    on-time rectifications, the most chosen tags, per department and per item.

    The counts come from the daily rollup for the days it holds and live for the rest
    (``rollups.period_counts``: the same figures either way); the tickets, whose state moves
    on, are read live."""
    from .rollups import period_counts, top_tags

    start, end = month_bounds(year, month)
    report = MonthlyReport(year=year, month=month)
    counts = period_counts(start, end)
    department_ids = ({dep for dep, _i, _v, _c in counts.completed}
                      | {dep for dep, _i, _c, _l in counts.ratings})
    department_names = dict(Department.objects.filter(pk__in=department_ids)
                            .values_list("pk", "name"))
    departments: dict[int, Group] = {}
    items: dict[int, Group] = {}

    def dept(pk: int, name: str) -> Group:
        return departments.setdefault(pk, Group(pk, name))

    def item(pk: int, name: str) -> Group:
        return items.setdefault(pk, Group(pk, name))

    by_channel: Counter[str] = Counter()
    # An item's line is named after the version of its most recently created case.
    item_names: dict[int, tuple[dt.datetime, str]] = {}
    for (dep, item_id, version, channel), (n, newest) in counts.completed.items():
        by_channel[channel] += n
        dept(dep, department_names.get(dep, "")).cases += n
        named = item_names.get(item_id)
        if named is None or newest > named[0]:
            item_names[item_id] = (newest, counts.version_names.get(version, ""))
    for (_dep, item_id, _version, _channel), (n, _newest) in counts.completed.items():
        item(item_id, item_names[item_id][1]).cases += n
    report.cases_by_channel = dict(sorted(by_channel.items()))
    report.cases_total = sum(by_channel.values())

    report.excluded = counts.excluded
    levels: dict[str, Counter[int]] = {ch: Counter() for ch in Channel.values}
    total = level_sum = good = 0
    current_names = _current_item_names({item_id for _d, item_id, _c, _l in counts.ratings})
    for (dep, item_id, channel, level), n in counts.ratings.items():
        levels[channel][level] += n
        total += n
        level_sum += level * n
        good += n if level >= 4 else 0
        for g in (dept(dep, department_names.get(dep, "")),
                  item(item_id, current_names.get(item_id, ""))):
            g.ratings += n
            g.level_sum += level * n
            g.good += n if level >= 4 else 0
            g.bad += n if level in BAD_LEVELS else 0
    report.ratings_by_channel_level = {ch: {lv.value: levels[ch][lv.value] for lv in Level}
                                       for ch in Channel.values}
    report.ratings_total = total
    report.avg_score_10 = round(2 * level_sum / total, 2) if total else None
    report.good_rate = _ratio(good, total)
    report.top_tags = top_tags(counts)
    # The columns the figures and the lines read (not the rating's text, indicators or the
    # item version's documents).
    tickets = list(_counted_tickets(start, end).select_related("rating__item__current",
                                                               "department").only(*TICKET_COLUMNS))
    report.tickets = _ticket_figures(tickets, now=now or timezone.now())
    for t in tickets:
        for g in (dept(t.department_id, t.department.name),
                  item(t.rating.item_id, t.rating.item.current.name
                       if t.rating.item.current else str(t.rating.item))):
            g.tickets += 1
            g.on_time += int(rectified_on_time(t))
    # Lines tied on every figure and the name keep one order (by key).
    report.departments = sorted(departments.values(),
                                key=lambda g: (-g.ratings, -g.cases, g.name, g.key))
    report.items = sorted(items.values(), key=lambda g: (-g.ratings, -g.cases, g.name, g.key))
    return report


def _current_item_names(item_ids: set[int]) -> dict[int, str]:
    """The name of each item's current version (its code when it has none)."""
    from tongban.catalog.models import Item

    return {pk: name if current is not None else code for pk, code, current, name in
            Item.objects.filter(pk__in=item_ids).values_list("pk", "implementation_code",
                                                              "current_id", "current__name")}


def report_months(*, now: dt.datetime | None = None) -> list[tuple[int, int]]:
    """Months from the first rating or completed case to this month, newest first."""
    now = (now or timezone.now()).astimezone(SHANGHAI)
    firsts = [d for d in (Rating.objects.order_by("created_at").values_list("created_at", flat=True)
                          .first(),
                          Case.objects.exclude(decided_at=None).order_by("decided_at")
                          .values_list("decided_at", flat=True).first()) if d is not None]
    first = min(firsts).astimezone(SHANGHAI) if firsts else now
    months: list[tuple[int, int]] = []
    y, m = now.year, now.month
    while (y, m) >= (first.year, first.month) and len(months) < 120:
        months.append((y, m))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return months
