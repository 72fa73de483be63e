"""The efficiency metrics of domain.md §5, per department, division, item and period.

Every metric is a function below whose docstring is its formula; ``FORMULAS`` holds the same
formula as the text the pages and the API show next to each figure. Unless a formula says
otherwise it is over the **completed cases of the period**: cases whose decision (准予 or
不予办理, ``Case.decided_at``) falls between the first and the last day of the period inclusive,
both in Beijing time.

The figures are computed in Python over one row per completed case (``CaseRow``), so each
formula reads exactly as written; a period's completed cases are one query.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.apps import apps
from django.utils.translation import gettext_lazy as _

from tongban.cases.models import Case, Channel
from tongban.catalog.models import Commitment, Item, VersionStatus
from tongban.clock import selectors as clock
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


@dataclass(frozen=True)
class RatingRow:
    level: int
    department_id: int
    division_id: int
    item_id: int
    bad: bool
    rectified_on_time: bool


# --- the formulas ---------------------------------------------------------------------------------

def on_the_spot_rate(cases: Sequence[CaseRow]) -> Ratio:
    """即办率 = 即收即办事项的办结件数 / 办结件数 (the item version the case was made under is
    in the on-the-spot list)."""
    return Ratio(sum(1 for c in cases if c.commitment == Commitment.ON_THE_SPOT), len(cases))


def early_rate(cases: Sequence[CaseRow]) -> Ratio:
    """提前办结率 = 办结时间早于办结时限的件数 / 办结件数 (decided_at < due_at)."""
    return Ratio(sum(1 for c in cases if c.due_at is not None and c.decided_at < c.due_at),
                 len(cases))


def overdue_rate(cases: Sequence[CaseRow]) -> Ratio:
    """超期率 = 办结时间晚于办结时限的件数 / 办结件数 (decided_at > due_at; the due instant is
    already moved later by the case's clock stops and approved extensions)."""
    return Ratio(sum(1 for c in cases if c.due_at is not None and c.decided_at > c.due_at),
                 len(cases))


def fully_online_rate(cases: Sequence[CaseRow]) -> Ratio:
    """全程网办率（办件）= 网上或移动端申请且到现场0次的办结件数 / 办结件数."""
    return Ratio(sum(1 for c in cases if c.channel in ONLINE_CHANNELS and c.visits == 0),
                 len(cases))


def fully_online_items_rate(items: Sequence[ItemRow]) -> Ratio:
    """全程网办率（事项）= 网上办理深度为Ⅳ级的在用事项数 / 在用事项数 (not period-bound)."""
    return Ratio(sum(1 for i in items if i.online_depth == 4), len(items))


def online_rate(cases: Sequence[CaseRow]) -> Ratio:
    """网上办理率 = 网上或移动端提交的办结件数 / 办结件数."""
    return Ratio(sum(1 for c in cases if c.channel in ONLINE_CHANNELS), len(cases))


def average_visits(cases: Sequence[CaseRow]) -> Ratio:
    """平均跑动次数 = Σ到现场次数 / 办结件数."""
    return Ratio(sum(c.visits for c in cases), len(cases))


def max_one_visit_rate(cases: Sequence[CaseRow]) -> Ratio:
    """最多跑一次率 = 到现场不超过1次的办结件数 / 办结件数."""
    return Ratio(sum(1 for c in cases if c.visits <= 1), len(cases))


def time_reduction(items: Sequence[ItemRow]) -> Ratio:
    """减时限比例 = Σ(法定时限 − 承诺时限) / Σ法定时限, over the currently published items that
    have a statutory limit, in working days (natural days × 5/7); not period-bound."""
    timed = [i for i in items if i.legal_days > 0]
    return Ratio(sum(i.legal_days - i.committed_days for i in timed),
                 sum(i.legal_days for i in timed))


def good_rate(ratings: Sequence[RatingRow]) -> Ratio:
    """好评率 = 评价等级≥4（满意、非常满意）的评价数 / 评价数 (ratings made in the period; a
    rating excluded after an accepted appeal counts in neither)."""
    return Ratio(sum(1 for r in ratings if r.level >= 4), len(ratings))


def rectification_rate(ratings: Sequence[RatingRow]) -> Ratio:
    """差评整改率 = 按时整改（整改时限内处理）的差评数 / 差评数 (bad reviews made in the
    period, levels 1–2, not excluded)."""
    bad = [r for r in ratings if r.bad]
    return Ratio(sum(1 for r in bad if r.rectified_on_time), len(bad))


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


def period_ratings(start: dt.date, end: dt.date, *,
                   department_id: int | None = None) -> list[RatingRow] | None:
    """The period's counted ratings; ``None`` when the ratings app is not installed."""
    if not ratings_installed():
        return None
    from tongban.ratings.models import BAD_LEVELS, Rating

    lo, hi = period_bounds(start, end)
    ratings = (Rating.objects.filter(created_at__gte=lo, created_at__lt=hi, excluded=False)
               .select_related("department", "ticket"))
    if department_id is not None:
        ratings = ratings.filter(department_id=department_id)
    rows = []
    for rating in ratings:
        ticket = getattr(rating, "ticket", None) if rating.level in BAD_LEVELS else None
        rows.append(RatingRow(
            level=rating.level, department_id=rating.department_id,
            division_id=rating.department.division_id, item_id=rating.item_id,
            bad=rating.level in BAD_LEVELS,
            rectified_on_time=bool(ticket is not None and ticket.rectified_on_time)))
    return rows


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


def _group_key(group: str, row: Any) -> int:
    return {"department": row.department_id, "division": row.division_id,
            "item": getattr(row, "item_id", getattr(row, "pk", 0))}[group]


def _item_key(group: str, row: ItemRow) -> int:
    return row.pk if group == "item" else _group_key(group, row)


def _figures(cases: list[CaseRow], items: list[ItemRow],
             ratings: list[RatingRow] | None) -> list[Figure]:
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
    cases = completed_cases(start, end, department_id=department_id)
    items = published_items(department_id=department_id)
    ratings = period_ratings(start, end, department_id=department_id)
    by_cases: dict[int, list[CaseRow]] = defaultdict(list)
    by_items: dict[int, list[ItemRow]] = defaultdict(list)
    by_ratings: dict[int, list[RatingRow]] = defaultdict(list)
    for c in cases:
        by_cases[_group_key(group, c)].append(c)
    for i in items:
        by_items[_item_key(group, i)].append(i)
    for r in ratings or []:
        by_ratings[_group_key(group, r)].append(r)
    keys = set(by_cases) | set(by_items) | set(by_ratings)
    names = _names(group, keys)
    rows = [MetricRow(group=group, key=names.get(k, ("", ""))[0], name=names.get(k, ("", str(k)))[1],
                      completed=len(by_cases.get(k, [])),
                      figures=_figures(by_cases.get(k, []), by_items.get(k, []),
                                       None if ratings is None else by_ratings.get(k, [])))
            for k in keys]
    rows.sort(key=lambda r: (-r.completed, r.key))
    total = MetricRow(group="all", key="", name=str(_("合计")), completed=len(cases),
                      figures=_figures(cases, items, ratings))
    return rows, total


# --- actual handling time (public power list) --------------------------------------------------------

def actual_working_days(accepted: dt.datetime, decided: dt.datetime,
                        stops: Iterable[tuple[dt.datetime, dt.datetime | None]], *,
                        hall_id: int | None) -> float:
    """Working days from acceptance to decision on the case's clock: business time (office
    periods of working days of the case's hall) in [accepted, decided) minus the business time
    of its clock stops inside that span, divided by the length of one working day."""
    return working_days_elapsed(accepted, decided, stops, calendar=clock.work_calendar(),
                                hours=clock.office_hours(hall_id))


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
    from tongban.cases.models import ClockStop

    lo, hi = period_bounds(start, end)
    items = Item.objects.filter(current__status=VersionStatus.PUBLISHED).select_related("current")
    completed = Case.objects.filter(decided_at__gte=lo, decided_at__lt=hi,
                                    accepted_at__isnull=False)
    if item_ids is not None:
        items = items.filter(pk__in=item_ids)
        completed = completed.filter(item_id__in=item_ids)
    cases = list(completed.values_list("pk", "item_id", "accepted_at", "decided_at", "hall_id"))
    stops: dict[int, list[tuple[dt.datetime, dt.datetime | None]]] = defaultdict(list)
    for case_id, s, e in ClockStop.objects.filter(case_id__in=[c[0] for c in cases]) \
            .values_list("case_id", "started_at", "ended_at"):
        stops[case_id].append((s, e))
    times: dict[int, list[float]] = defaultdict(list)
    for pk, item_id, accepted, decided, hall_id in cases:
        if accepted is None or decided is None:
            continue
        times[item_id].append(actual_working_days(accepted, decided, stops[pk], hall_id=hall_id))
    satisfaction = _satisfaction(start, end)
    out = {}
    for item in items:
        version = item.current
        assert version is not None
        spent = times.get(item.pk, [])
        sat = satisfaction.get(item.pk)
        out[item.pk] = ItemPerformance(
            item_id=item.pk, volume=len(spent),
            avg_actual_working_days=sum(spent) / len(spent) if spent else None,
            committed_limit=version.committed_limit,
            committed_limit_unit=version.committed_limit_unit,
            committed_working_days=limit_in_working_days(version.committed_limit,
                                                version.committed_limit_unit),
            legal_limit=version.legal_limit, legal_limit_unit=version.legal_limit_unit,
            satisfaction=sat[0] if sat else None, ratings=sat[1] if sat else 0)
    return out


def _satisfaction(start: dt.date, end: dt.date) -> dict[int, tuple[float | None, int]]:
    """item id → (share of good ratings, number of ratings), from the ratings app's selector."""
    if not ratings_installed():
        return {}
    from tongban.ratings.selectors import satisfaction_by_item

    # The ratings app counts [start, end) with ``end`` exclusive; ours is inclusive.
    found = satisfaction_by_item(start, end + dt.timedelta(days=1))
    return {item_id: (value.good_rate, value.count) for item_id, value in found.items()}
