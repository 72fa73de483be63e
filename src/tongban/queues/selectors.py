"""Reads for the queue pages and the API: waiting counts, a ticket's position, the hall screen,
and the waiting-time figures.

Figures (for a hall, per category, over days ``from``–``to`` in Beijing time, by the day a ticket
was taken):

- waiting now — tickets with status 等候中 at this moment;
- wait of a ticket = first call − taken (tickets called at least once);
- average wait = sum of waits ÷ number of called tickets;
- 90th-percentile wait = nearest rank: the waits sorted ascending, the value at position
  ⌈0.9 × n⌉ (1-based);
- service time of a ticket = finished − first call (tickets 已办结);
- average service time = sum of service times ÷ number of finished tickets;
- served = tickets 已办结; no-show = tickets 未到; taken = all tickets of the period.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.core.errors import AccessDenied
from tongban.organizations.models import Hall, Window

from . import policies
from .models import OPEN_AT_WINDOW, ServiceCategory, Ticket, TicketStatus
from .services import categories_for_window, local_day

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

# Estimated wait per applicant ahead when a category has no finished ticket in the last week.
DEFAULT_SERVICE_MINUTES = 5
ESTIMATE_LOOKBACK_DAYS = 7


def hall_list() -> QuerySet[Hall]:
    """Halls that hand out tickets (have at least one active category)."""
    return (Hall.objects.filter(queue_categories__active=True).distinct()
            .select_related("division").order_by("division__code", "name"))


def active_categories(hall: Hall) -> list[ServiceCategory]:
    return list(ServiceCategory.objects.filter(hall=hall, active=True)
                .prefetch_related("departments").order_by("position", "code"))


def _serving_windows(hall: Hall) -> dict[int, int]:
    """Per category id: how many windows of the hall serve it (at least 1)."""
    counts: dict[int, int] = {}
    for window in Window.objects.filter(hall=hall).prefetch_related("departments"):
        for category in categories_for_window(window):
            counts[category.pk] = counts.get(category.pk, 0) + 1
    return counts


def _average_service_minutes(hall: Hall, now: dt.datetime) -> dict[int, float]:
    since = local_day(now) - dt.timedelta(days=ESTIMATE_LOOKBACK_DAYS)
    totals: dict[int, list[float]] = {}
    for category_id, called, finished in Ticket.objects.filter(
            hall=hall, status=TicketStatus.DONE, day__gte=since).values_list(
            "category_id", "called_at", "finished_at"):
        if called and finished:
            totals.setdefault(category_id, []).append((finished - called).total_seconds() / 60)
    return {k: sum(v) / len(v) for k, v in totals.items()}


@dataclass
class CategoryQueue:
    category: ServiceCategory
    waiting: int
    estimated_minutes: int


def estimate_minutes(ahead: int, service_minutes: float, windows: int) -> int:
    """Estimated wait: applicants ahead × average service time ÷ windows serving the category."""
    return math.ceil(ahead * service_minutes / max(1, windows))


def hall_queues(hall: Hall, *, now: dt.datetime | None = None) -> list[CategoryQueue]:
    """Each active category of ``hall`` with the number waiting now and the estimated wait."""
    now = now or timezone.now()
    waiting = dict(Ticket.objects.filter(hall=hall, status=TicketStatus.WAITING)
                   .values_list("category_id").annotate(n=Count("pk")).values_list("category_id", "n"))
    windows = _serving_windows(hall)
    service = _average_service_minutes(hall, now)
    return [CategoryQueue(c, waiting.get(c.pk, 0), estimate_minutes(
        waiting.get(c.pk, 0), service.get(c.pk, DEFAULT_SERVICE_MINUTES), windows.get(c.pk, 1)))
        for c in active_categories(hall)]


@dataclass
class TicketPosition:
    ticket: Ticket
    ahead: int  # waiting tickets of the same category taken before this one
    estimated_minutes: int


def ticket_by_token(token: Any) -> Ticket | None:
    try:
        return (Ticket.objects.select_related("hall", "category", "window")
                .filter(token=token).first())
    except (ValueError, TypeError):
        return None


def ticket_position(ticket: Ticket, *, now: dt.datetime | None = None) -> TicketPosition:
    now = now or timezone.now()
    if ticket.status != TicketStatus.WAITING:
        return TicketPosition(ticket, 0, 0)
    ahead = Ticket.objects.filter(
        category_id=ticket.category_id, status=TicketStatus.WAITING).filter(
        Q(taken_at__lt=ticket.taken_at) | Q(taken_at=ticket.taken_at, pk__lt=ticket.pk)).count()
    service = _average_service_minutes(ticket.hall, now).get(ticket.category_id,
                                                             DEFAULT_SERVICE_MINUTES)
    windows = _serving_windows(ticket.hall).get(ticket.category_id, 1)
    return TicketPosition(ticket, ahead, estimate_minutes(ahead, service, windows))


def latest_calls(hall: Hall, *, now: dt.datetime | None = None, limit: int = 8) -> list[Ticket]:
    """Today's tickets called to a window, the latest call (or recall) first."""
    now = now or timezone.now()
    return list(Ticket.objects.filter(hall=hall, day=local_day(now), last_called_at__isnull=False,
                                      status__in=[*OPEN_AT_WINDOW, TicketStatus.DONE])
                .select_related("window", "category").order_by("-last_called_at", "-pk")[:limit])


def window_current(window: Window) -> Ticket | None:
    """The ticket called to ``window`` and not finished yet."""
    return (Ticket.objects.filter(window=window, status__in=OPEN_AT_WINDOW)
            .select_related("category").first())


def windows_of(user: Actor) -> QuerySet[Window]:
    return Window.objects.filter(hall_id=getattr(user, "hall_id", None) or 0).order_by("number")


# --- figures ---------------------------------------------------------------------------------

def percentile_nearest_rank(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p * len(ordered))) - 1]


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


@dataclass
class Figures:
    category: ServiceCategory | None  # None: the whole hall
    waiting_now: int = 0
    taken: int = 0
    served: int = 0
    no_show: int = 0
    cancelled: int = 0
    average_wait: float | None = None  # minutes
    p90_wait: float | None = None
    average_service: float | None = None
    waits: list[float] = field(default_factory=list, repr=False)
    services: list[float] = field(default_factory=list, repr=False)

    @property
    def label(self) -> Any:
        return str(self.category) if self.category else _("全部类别")

    def add(self, ticket: Ticket) -> None:
        self.taken += 1
        if ticket.status == TicketStatus.DONE:
            self.served += 1
        elif ticket.status == TicketStatus.NO_SHOW:
            self.no_show += 1
        elif ticket.status == TicketStatus.CANCELLED:
            self.cancelled += 1
        if ticket.called_at:
            self.waits.append((ticket.called_at - ticket.taken_at).total_seconds() / 60)
        if ticket.status == TicketStatus.DONE and ticket.called_at and ticket.finished_at:
            self.services.append((ticket.finished_at - ticket.called_at).total_seconds() / 60)

    def close(self) -> None:
        self.average_wait = _mean(self.waits)
        self.p90_wait = percentile_nearest_rank(self.waits, 0.9)
        self.average_service = _mean(self.services)


def hall_figures(user: Actor, hall: Hall, *, start: dt.date, end: dt.date) -> list[Figures]:
    """Figures for ``hall`` over the days ``start``–``end`` (inclusive): one row per category,
    then the whole hall. Raises ``AccessDenied`` for a user who may not see them."""
    if not policies.can_view_figures(user, hall.pk):
        raise AccessDenied(_("您无权查看该大厅的排队统计"))
    categories = list(ServiceCategory.objects.filter(hall=hall).order_by("position", "code"))
    rows = {c.pk: Figures(c) for c in categories}
    total = Figures(None)
    waiting = dict(Ticket.objects.filter(hall=hall, status=TicketStatus.WAITING)
                   .values_list("category_id").annotate(n=Count("pk")).values_list("category_id", "n"))
    for pk, n in waiting.items():
        rows[pk].waiting_now = n
        total.waiting_now += n
    for ticket in Ticket.objects.filter(hall=hall, day__gte=start, day__lte=end).only(
            "category_id", "status", "taken_at", "called_at", "finished_at"):
        rows[ticket.category_id].add(ticket)
        total.add(ticket)
    out = [r for r in rows.values() if r.category is None or r.category.active or r.taken]
    for row in [*out, total]:
        row.close()
    return [*out, total]
