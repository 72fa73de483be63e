"""The efficiency metrics of domain.md §5, per department, division, item and period.

Every metric is a function below whose docstring is its formula; ``FORMULAS`` holds the same
formula as the text the pages and the API show next to each figure. Unless a formula says
otherwise it is over the **completed cases of the period**: cases whose decision (准予 or
不予办理, ``Case.decided_at``) falls between the first and the last day of the period inclusive,
both in Beijing time.

Each formula's parts are counted by the database, one conditional aggregate per part, grouped
by department and item (``case_totals``, ``rating_totals``): a period's figures are two
aggregate queries however many cases it has (docs/supervision.md, "Figures at scale"). The
formula functions below read the totals, so each formula still reads as written.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.apps import apps
from django.db.models import Count, F, Q, Sum
from django.utils.translation import gettext_lazy as _

from tongban.cases.models import Case, Channel
from tongban.catalog.models import Commitment, Item, LimitUnit, VersionStatus
from tongban.clock import selectors as clock
from tongban.clock.calendar import OfficeHours
from tongban.clock.deadline import limit_in_working_days, working_days_elapsed

SHANGHAI = ZoneInfo("Asia/Shanghai")
ONLINE_CHANNELS = frozenset({Channel.ONLINE, Channel.MOBILE})
GROUPS = ("department", "division", "item")


@dataclass(frozen=True)
class Ratio:
    numerator: float
    denominator: float

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


@dataclass(frozen=True)
class CaseRow:
    """What the metrics need of one completed case."""

    pk: int
    department_id: int
    division_id: int
    item_id: int
    commitment: str
    channel: str
    visits: int
    due_at: dt.datetime | None
    decided_at: dt.datetime


@dataclass(frozen=True)
class ItemRow:
    """A currently published item (limits in working days, natural days × 5/7)."""

    pk: int
    department_id: int
    division_id: int
    legal_days: float
    committed_days: float
    online_depth: int


@dataclass
class CaseTotals:
    """The parts of the case formulas over a set of completed cases."""

    completed: int = 0
    on_the_spot: int = 0  # made under an on-the-spot item version
    early: int = 0  # decided_at < due_at
    overdue: int = 0  # decided_at > due_at
    fully_online: int = 0  # online or mobile, no visit
    online: int = 0  # online or mobile
    visits: int = 0  # Σ visits
    max_one_visit: int = 0  # visits ≤ 1

    def add(self, other: CaseTotals) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class RatingTotals:
    """The parts of the rating formulas over a set of counted ratings (not excluded)."""

    rated: int = 0
    good: int = 0  # level ≥ 4
    bad: int = 0  # levels 1–2
    bad_on_time: int = 0  # bad and its ticket rectified on time

    def add(self, other: RatingTotals) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


# --- the formulas ---------------------------------------------------------------------------------

def on_the_spot_rate(cases: CaseTotals) -> Ratio:
    """即办率 = 即收即办事项的办结件数 / 办结件数 (the item version the case was made under is
    in the on-the-spot list)."""
    return Ratio(cases.on_the_spot, cases.completed)


def early_rate(cases: CaseTotals) -> Ratio:
    """提前办结率 = 办结时间早于办结时限的件数 / 办结件数 (decided_at < due_at)."""
    return Ratio(cases.early, cases.completed)


def overdue_rate(cases: CaseTotals) -> Ratio:
    """超期率 = 办结时间晚于办结时限的件数 / 办结件数 (decided_at > due_at; the due instant is
    already moved later by the case's clock stops and approved extensions)."""
    return Ratio(cases.overdue, cases.completed)


def fully_online_rate(cases: CaseTotals) -> Ratio:
    """全程网办率（办件）= 网上或移动端申请且到现场0次的办结件数 / 办结件数."""
    return Ratio(cases.fully_online, cases.completed)


def fully_online_items_rate(items: Sequence[ItemRow]) -> Ratio:
    """全程网办率（事项）= 网上办理深度为Ⅳ级的在用事项数 / 在用事项数 (not period-bound)."""
    return Ratio(sum(1 for i in items if i.online_depth == 4), len(items))


def online_rate(cases: CaseTotals) -> Ratio:
    """网上办理率 = 网上或移动端提交的办结件数 / 办结件数."""
    return Ratio(cases.online, cases.completed)


def average_visits(cases: CaseTotals) -> Ratio:
    """平均跑动次数 = Σ到现场次数 / 办结件数."""
    return Ratio(cases.visits, cases.completed)


def max_one_visit_rate(cases: CaseTotals) -> Ratio:
    """最多跑一次率 = 到现场不超过1次的办结件数 / 办结件数."""
    return Ratio(cases.max_one_visit, cases.completed)


def time_reduction(items: Sequence[ItemRow]) -> Ratio:
    """减时限比例 = Σ(法定时限 − 承诺时限) / Σ法定时限, over the currently published items that
    have a statutory limit, in working days (natural days × 5/7); not period-bound."""
    timed = [i for i in items if i.legal_days > 0]
    return Ratio(sum(i.legal_days - i.committed_days for i in timed),
                 sum(i.legal_days for i in timed))


def good_rate(ratings: RatingTotals) -> Ratio:
    """好评率 = 评价等级≥4（满意、非常满意）的评价数 / 评价数 (ratings made in the period; a
    rating excluded after an accepted appeal counts in neither)."""
    return Ratio(ratings.good, ratings.rated)


def rectification_rate(ratings: RatingTotals) -> Ratio:
    """差评整改率 = 按时整改（整改时限内处理）的差评数 / 差评数 (bad reviews made in the
    period, levels 1–2, not excluded)."""
    return Ratio(ratings.bad_on_time, ratings.bad)


@dataclass(frozen=True)
class MetricDef:
    key: str
    label: Any
    formula: Any
    source: str  # "cases", "items" or "ratings"
    compute: Callable[[Any], Ratio]
    percent: bool = True


METRICS: tuple[MetricDef, ...] = (
    MetricDef("on_the_spot_rate", _("即办率"), _("即收即办事项办结件数 ÷ 办结件数"), "cases",
              on_the_spot_rate),
    MetricDef("early_rate", _("提前办结率"), _("早于办结时限办结的件数 ÷ 办结件数"), "cases",
              early_rate),
    MetricDef("overdue_rate", _("超期率"),
              _("晚于办结时限（已扣除暂停计时、含批准延期）办结的件数 ÷ 办结件数"),
              "cases", overdue_rate),
    MetricDef("fully_online_rate", _("全程网办率（办件）"),
              _("网上申请且到现场0次的办结件数 ÷ 办结件数"),
              "cases", fully_online_rate),
    MetricDef("fully_online_items_rate", _("全程网办率（事项）"),
              _("网上办理深度Ⅳ级的在用事项数 ÷ 在用事项数"),
              "items", fully_online_items_rate),
    MetricDef("online_rate", _("网上办理率"), _("网上（含移动端）提交的办结件数 ÷ 办结件数"), "cases",
              online_rate),
    MetricDef("average_visits", _("平均跑动次数"), _("到现场次数之和 ÷ 办结件数"), "cases",
              average_visits, percent=False),
    MetricDef("max_one_visit_rate", _("最多跑一次率"), _("到现场不超过1次的办结件数 ÷ 办结件数"), "cases",
              max_one_visit_rate),
    MetricDef("time_reduction", _("减时限比例"), _("Σ(法定时限 − 承诺时限) ÷ Σ法定时限（在用事项，工作日）"),
              "items", time_reduction),
    MetricDef("good_rate", _("好评率"), _("满意及非常满意的评价数 ÷ 评价数（期间内，不含申诉成立的）"),
              "ratings", good_rate),
    MetricDef("rectification_rate", _("差评整改率"), _("按时整改的差评数 ÷ 差评数（期间内）"), "ratings",
              rectification_rate),
)
FORMULAS: dict[str, Any] = {m.key: m.formula for m in METRICS}


# --- reading the rows -----------------------------------------------------------------------------

def period_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, day after end 00:00) in Beijing time."""
    lo = dt.datetime.combine(start, dt.time(), tzinfo=SHANGHAI)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=SHANGHAI)
    return lo, hi


def completed_cases(start: dt.date, end: dt.date, *,
                    department_id: int | None = None) -> list[CaseRow]:
    """One row per completed case of the period (for checks and exports; the tables use
    :func:`case_totals`)."""
    lo, hi = period_bounds(start, end)
    cases = Case.objects.filter(decided_at__gte=lo, decided_at__lt=hi)
    if department_id is not None:
        cases = cases.filter(department_id=department_id)
    rows = cases.values_list("pk", "department_id", "department__division_id", "item_id",
                             "item_version__commitment", "channel", "visits", "due_at",
                             "decided_at")
    return [CaseRow(pk, dep, div, item, commitment, channel, visits, due, decided)
            for pk, dep, div, item, commitment, channel, visits, due, decided in rows
            if decided is not None]


Key = tuple[int, int]  # (department id, item id)


def case_totals(start: dt.date, end: dt.date, *,
                department_id: int | None = None) -> dict[Key, CaseTotals]:
    """The case formulas' parts per (department, item) over the period's completed cases, counted
    by the database in one grouped query."""
    lo, hi = period_bounds(start, end)
    cases = Case.objects.filter(decided_at__gte=lo, decided_at__lt=hi)
    if department_id is not None:
        cases = cases.filter(department_id=department_id)
    online = Q(channel__in=sorted(ONLINE_CHANNELS))
    rows = (cases.order_by().values("department_id", "item_id").annotate(
        completed=Count("pk"),
        on_the_spot=Count("pk", filter=Q(item_version__commitment=Commitment.ON_THE_SPOT)),
        early=Count("pk", filter=Q(due_at__isnull=False, decided_at__lt=F("due_at"))),
        overdue=Count("pk", filter=Q(due_at__isnull=False, decided_at__gt=F("due_at"))),
        fully_online=Count("pk", filter=online & Q(visits=0)),
        online=Count("pk", filter=online),
        visits_sum=Sum("visits"),
        max_one_visit=Count("pk", filter=Q(visits__lte=1))))
    return {(r["department_id"], r["item_id"]): CaseTotals(
        completed=r["completed"], on_the_spot=r["on_the_spot"], early=r["early"],
        overdue=r["overdue"], fully_online=r["fully_online"], online=r["online"],
        visits=r["visits_sum"] or 0, max_one_visit=r["max_one_visit"]) for r in rows}


def published_items(*, department_id: int | None = None) -> list[ItemRow]:
    items = Item.objects.filter(current__status=VersionStatus.PUBLISHED)
    if department_id is not None:
        items = items.filter(department_id=department_id)
    rows = items.values_list("pk", "department_id", "department__division_id",
                             "current__legal_limit", "current__legal_limit_unit",
                             "current__committed_limit", "current__committed_limit_unit",
                             "current__online_depth")
    return [ItemRow(pk, dep, div, limit_in_working_days(legal, legal_unit),
                    limit_in_working_days(committed, committed_unit), depth)
            for pk, dep, div, legal, legal_unit, committed, committed_unit, depth in rows]


def ratings_installed() -> bool:
    return apps.is_installed("tongban.ratings")


def rating_totals(start: dt.date, end: dt.date, *,
                  department_id: int | None = None) -> dict[Key, RatingTotals] | None:
    """The rating formulas' parts per (department, item) over the period's counted ratings;
    ``None`` when the ratings app is not installed. Counts by the database; only the bad
    reviews' tickets (a few percent of the ratings) are read, so that 按时整改 stays the one
    rule of ``RectificationTicket.rectified_on_time``."""
    if not ratings_installed():
        return None
    from tongban.ratings.models import BAD_LEVELS, Rating, RectificationTicket

    lo, hi = period_bounds(start, end)
    ratings = Rating.objects.filter(created_at__gte=lo, created_at__lt=hi, excluded=False)
    if department_id is not None:
        ratings = ratings.filter(department_id=department_id)
    out: dict[Key, RatingTotals] = {}
    for r in ratings.order_by().values("department_id", "item_id").annotate(
            rated=Count("pk"), good=Count("pk", filter=Q(level__gte=4)),
            bad=Count("pk", filter=Q(level__in=BAD_LEVELS))):
        out[(r["department_id"], r["item_id"])] = RatingTotals(rated=r["rated"], good=r["good"],
                                                               bad=r["bad"])
    tickets = RectificationTicket.objects.filter(
        rating__in=ratings.filter(level__in=BAD_LEVELS).values("pk")).select_related("rating")
    for ticket in tickets.only("outcome", "responded_at", "due_at", "response",
                               "ledger_deadline", "rating__department_id", "rating__item_id"):
        if ticket.rectified_on_time:
            out[(ticket.rating.department_id, ticket.rating.item_id)].bad_on_time += 1
    return out


# --- the table --------------------------------------------------------------------------------------

@dataclass
class Figure:
    key: str
    label: Any
    formula: Any
    numerator: float | None
    denominator: float | None
    value: float | None
    percent: bool

    @property
    def display(self) -> str:
        if self.value is None:
            return "—"
        return f"{self.value * 100:.1f}%" if self.percent else f"{self.value:.2f}"


@dataclass
class MetricRow:
    group: str
    key: str
    name: str
    completed: int
    figures: list[Figure] = field(default_factory=list)

    def figure(self, key: str) -> Figure:
        return next(f for f in self.figures if f.key == key)


def _item_key(group: str, row: ItemRow) -> int:
    return {"department": row.department_id, "division": row.division_id, "item": row.pk}[group]


def _figures(cases: CaseTotals, items: list[ItemRow],
             ratings: RatingTotals | None) -> list[Figure]:
    out = []
    for metric in METRICS:
        source: Any = {"cases": cases, "items": items, "ratings": ratings}[metric.source]
        if source is None:
            out.append(Figure(metric.key, metric.label, metric.formula, None, None, None,
                              metric.percent))
            continue
        ratio = metric.compute(source)
        out.append(Figure(metric.key, metric.label, metric.formula, ratio.numerator,
                          ratio.denominator, ratio.value, metric.percent))
    return out


def _names(group: str, keys: Iterable[int]) -> dict[int, tuple[str, str]]:
    """(code, name) of each group key: department USCC, division code, implementation code."""
    from tongban.organizations.models import Department, Division

    ids = list(keys)
    if group == "department":
        return {pk: (uscc, name) for pk, uscc, name in
                Department.objects.filter(pk__in=ids).values_list("pk", "uscc", "name")}
    if group == "division":
        return {pk: (code, name) for pk, code, name in
                Division.objects.filter(pk__in=ids).values_list("pk", "code", "name")}
    return {pk: (code, name or code) for pk, code, name in
            Item.objects.filter(pk__in=ids).values_list("pk", "implementation_code",
                                                          "current__name")}


def metrics_table(*, group: str, start: dt.date, end: dt.date,
                  department_id: int | None = None) -> tuple[list[MetricRow], MetricRow]:
    """One row per department, division or item with any completed case, published item or
    rating, and the total row; ``department_id`` limits everything to one department."""
    if group not in GROUPS:
        raise ValueError(group)
    cases = case_totals(start, end, department_id=department_id)
    items = published_items(department_id=department_id)
    ratings = rating_totals(start, end, department_id=department_id)
    division_of = _divisions({dep for dep, _item in cases} | {dep for dep, _item in ratings or {}})

    def key(dep_item: Key) -> int:
        dep, item = dep_item
        return {"department": dep, "division": division_of.get(dep, 0), "item": item}[group]

    by_cases: dict[int, CaseTotals] = defaultdict(CaseTotals)
    by_items: dict[int, list[ItemRow]] = defaultdict(list)
    by_ratings: dict[int, RatingTotals] = defaultdict(RatingTotals)
    all_cases, all_ratings = CaseTotals(), RatingTotals()
    for k, c in cases.items():
        by_cases[key(k)].add(c)
        all_cases.add(c)
    for i in items:
        by_items[_item_key(group, i)].append(i)
    for k, r in (ratings or {}).items():
        by_ratings[key(k)].add(r)
        all_ratings.add(r)
    keys = set(by_cases) | set(by_items) | set(by_ratings)
    names = _names(group, keys)
    rows = [MetricRow(group=group, key=names.get(k, ("", ""))[0], name=names.get(k, ("", str(k)))[1],
                      completed=by_cases[k].completed if k in by_cases else 0,
                      figures=_figures(by_cases.get(k, CaseTotals()), by_items.get(k, []),
                                       None if ratings is None
                                       else by_ratings.get(k, RatingTotals())))
            for k in keys]
    rows.sort(key=lambda r: (-r.completed, r.key))
    total = MetricRow(group="all", key="", name=str(_("合计")), completed=all_cases.completed,
                      figures=_figures(all_cases, items, None if ratings is None else all_ratings))
    return rows, total


def _divisions(department_ids: Iterable[int]) -> dict[int, int]:
    from tongban.organizations.models import Department

    return dict(Department.objects.filter(pk__in=list(department_ids))
                .values_list("pk", "division_id"))


# --- actual handling time (public power list) --------------------------------------------------------

def actual_working_days(accepted: dt.datetime, decided: dt.datetime,
                        stops: Iterable[tuple[dt.datetime, dt.datetime | None]], *,
                        hall_id: int | None, hours: OfficeHours | None = None) -> float:
    """Working days from acceptance to decision on the case's clock: business time (office
    periods of working days of the case's hall) in [accepted, decided) minus the business time
    of its clock stops inside that span, divided by the length of one working day. ``hours``:
    the hall's office hours when the caller has them already (many cases at once)."""
    return working_days_elapsed(accepted, decided, stops, calendar=clock.work_calendar(),
                                hours=hours or clock.office_hours(hall_id))


@dataclass
class ItemPerformance:
    item_id: int
    volume: int  # completed cases in the period
    avg_actual_working_days: float | None
    committed_limit: int
    committed_limit_unit: str
    committed_working_days: float
    legal_limit: int
    legal_limit_unit: str
    satisfaction: float | None  # share of ratings at level ≥ 4; None without ratings
    ratings: int = 0

    @property
    def in_natural_days(self) -> bool:
        """The committed limit counts calendar days (else working days)."""
        return self.committed_limit_unit == LimitUnit.NATURAL_DAYS

    @property
    def satisfaction_display(self) -> str:
        return "—" if self.satisfaction is None else f"{self.satisfaction * 100:.1f}%"

    @property
    def within_commitment(self) -> bool | None:
        if self.avg_actual_working_days is None:
            return None
        return self.avg_actual_working_days <= self.committed_working_days


def item_performance(start: dt.date, end: dt.date,
                     item_ids: Sequence[int] | None = None) -> dict[int, ItemPerformance]:
    """Per currently published item (only ``item_ids`` when given, e.g. one page of the power
    list): completed cases in the period, their average actual time
    (:func:`actual_working_days`) against the committed limit, and satisfaction
    (``ratings.selectors.satisfaction_by_item`` when present, else :func:`good_rate`)."""
    from .rollups import case_times, rolled_through, rolled_times

    items = Item.objects.filter(current__status=VersionStatus.PUBLISHED).select_related("current")
    if item_ids is not None:
        items = items.filter(pk__in=item_ids)
    # Closed days from the daily rollup when it is current, the rest (today) live: the same
    # figures either way (rollups.py).
    rolled: dict[int, tuple[int, float]] = {}
    live_from = start
    through = rolled_through()
    if through is not None and through >= start:
        rolled = rolled_times(start, min(end, through), item_ids)
        live_from = min(end, through) + dt.timedelta(days=1)
    times: dict[int, list[float]] = defaultdict(list)
    if live_from <= end:
        for (item_id, _day), spent in case_times(live_from, end, item_ids).items():
            times[item_id].extend(spent)
    satisfaction = _satisfaction(start, end, item_ids)
    out = {}
    for item in items:
        version = item.current
        assert version is not None
        spent = times.get(item.pk, [])
        n, total = rolled.get(item.pk, (0, 0.0))
        n, total = n + len(spent), total + sum(spent)
        sat = satisfaction.get(item.pk)
        out[item.pk] = ItemPerformance(
            item_id=item.pk, volume=n,
            avg_actual_working_days=total / n if n else None,
            committed_limit=version.committed_limit,
            committed_limit_unit=version.committed_limit_unit,
            committed_working_days=limit_in_working_days(version.committed_limit,
                                                version.committed_limit_unit),
            legal_limit=version.legal_limit, legal_limit_unit=version.legal_limit_unit,
            satisfaction=sat[0] if sat else None, ratings=sat[1] if sat else 0)
    return out


def _satisfaction(start: dt.date, end: dt.date,
                  item_ids: Sequence[int] | None = None) -> dict[int, tuple[float | None, int]]:
    """item id → (share of good ratings, number of ratings), from the ratings app's selector."""
    if not ratings_installed():
        return {}
    from tongban.ratings.selectors import satisfaction_by_item

    # The ratings app counts [start, end) with ``end`` exclusive; ours is inclusive.
    found = satisfaction_by_item(start, end + dt.timedelta(days=1), item_ids=item_ids)
    return {item_id: (value.good_rate, value.count) for item_id, value in found.items()}
