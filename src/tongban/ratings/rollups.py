"""The daily rollup of the monthly report (``RatingDay``, ``RatingTagDay``, ``CompletedDay``).

What a closed day fixes for good: the ratings given that day (by department, item, channel and
level), the tags they carry, and the cases decided that day (by department, item, version and
channel). Ratings are append-only but one thing about them changes later: a supervisor who
accepts an appeal strikes the rating out of every figure (``Rating.excluded``), days or months
after it was given. So the rollup counts every rating, excluded or not, and the readers
subtract the excluded ones of the period live — a few rows, through the partial index on the
excluded ratings. The tickets of bad reviews change state until they are closed, so the
report reads them live.

The pattern of ``supervision.rollups``: the rollup holds the closed days up to
``RatingRollupState.through``; a reader adds the live computation of the days after it
(today, or more when the task has not run), so the figures are the same whether or not the
rollup is current. The task (``tasks.rollup_ratings``, schedule ``rollup_ratings``) is
idempotent: a chunk of days is replaced, never added to. The state keeps the highest rating and
case ids of the last run: a rating given, or a case decided, on a day the rollup holds by a row
newer than that (a bulk load, never the services) makes the rollup unread until the next run
rebuilds it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, Max, Min, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from tongban.cases.models import Case
from tongban.clock.deadline import SHANGHAI

from .models import (
    CompletedDay,
    Level,
    Rating,
    RatingDay,
    RatingRollupState,
    RatingTagDay,
)

NAME = "monthly_report"
# The version of the rollup's definition: a new one makes the next run rebuild it.
VERSION = "1"
CHUNK_DAYS = 7
LEVELS = tuple(int(level) for level in sorted(Level.values))

RatingKey = tuple[int, int, str, int]  # department, item, channel, level
CompletedKey = tuple[int, int, int, str]  # department, item, item version, channel


def aware(day: dt.date) -> dt.datetime:
    """The instant a Beijing day begins."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=SHANGHAI)


@dataclass
class Counts:
    """A period's figures of the report that a day fixes, in the rollup's shape."""

    ratings: dict[RatingKey, int]  # counted ratings (excluded left out)
    excluded: int  # ratings of the period struck out on appeal
    tags: dict[int, int]  # tag id → counted ratings carrying it
    tag_names: dict[int, tuple[str, int]]  # tag id → (name, sort) of the tags above
    completed: dict[CompletedKey, tuple[int, dt.datetime]]  # → (cases, newest creation)
    version_names: dict[int, str]  # item version id → name, of the versions above


def _add(into: dict[Any, int], key: Any, n: int) -> None:
    into[key] = into.get(key, 0) + n


def _add_completed(into: dict[CompletedKey, tuple[int, dt.datetime]], key: CompletedKey,
                   n: int, newest: dt.datetime) -> None:
    seen = into.get(key)
    into[key] = (n, newest) if seen is None else (seen[0] + n, max(seen[1], newest))


# --- live -------------------------------------------------------------------------------------

def _in(lo: dt.datetime, hi: dt.datetime) -> Any:
    return Rating.objects.filter(created_at__gte=lo, created_at__lt=hi).order_by()


def live_ratings(lo: dt.datetime, hi: dt.datetime
                 ) -> tuple[dict[RatingKey, int], dict[RatingKey, int]]:
    """The ratings given in [lo, hi): (counted, excluded) by (department, item, channel,
    level). One grouped query."""
    counted: dict[RatingKey, int] = {}
    excluded: dict[RatingKey, int] = {}
    for dep, item, channel, level, struck, n in (
            _in(lo, hi).values_list("department_id", "item_id", "channel", "level", "excluded")
            .annotate(n=Count("pk"))):
        _add(excluded if struck else counted, (dep, item, channel, level), n)
    return counted, excluded


def live_tags(lo: dt.datetime, hi: dt.datetime, *, excluded: bool,
              names: dict[int, tuple[str, int]]) -> dict[int, int]:
    """Tag id → the ratings of [lo, hi) carrying it, counted (``excluded`` False) or struck
    out (True); each tag's (name, sort) into ``names``."""
    through = Rating.tags.through.objects.filter(
        rating__created_at__gte=lo, rating__created_at__lt=hi, rating__excluded=excluded)
    found: dict[int, int] = {}
    for tag, name, sort, n in (through.order_by()
                               .values_list("ratingtag_id", "ratingtag__name", "ratingtag__sort")
                               .annotate(n=Count("pk"))):
        found[tag] = n
        names[tag] = (name, sort)
    return found


def live_completed(lo: dt.datetime, hi: dt.datetime, *, names: dict[int, str]
                   ) -> dict[CompletedKey, tuple[int, dt.datetime]]:
    """The cases decided in [lo, hi) by (department, item, version, channel): (cases, newest
    creation instant); each version's name into ``names``."""
    rows = (Case.objects.filter(decided_at__gte=lo, decided_at__lt=hi).order_by()
            .values_list("department_id", "item_id", "item_version_id", "channel",
                         "item_version__name")
            .annotate(n=Count("pk"), newest=Max("created_at")))
    found: dict[CompletedKey, tuple[int, dt.datetime]] = {}
    for dep, item, version, channel, name, n, newest in rows:
        found[(dep, item, version, channel)] = (n, newest)
        names[version] = name
    return found


def excluded_ratings(lo: dt.datetime, hi: dt.datetime) -> dict[RatingKey, int]:
    """The ratings of [lo, hi) struck out on appeal (the partial index ``rating_excluded_at``)."""
    rows = (_in(lo, hi).filter(excluded=True)
            .values_list("department_id", "item_id", "channel", "level").annotate(n=Count("pk")))
    return {(dep, item, channel, level): n for dep, item, channel, level, n in rows}


# --- the rollup -------------------------------------------------------------------------------

def state() -> tuple[dt.date, dt.datetime] | None:
    """(through, the instant it ends) of a readable rollup; ``None`` when it is not: never
    built, of another definition, or a rating or decided case newer than its last run belongs
    to a day it holds. The state row, then one look at the rows past the watermarks (walks of
    the primary keys: the time columns inside ``COALESCE``, so that no planner walks their
    index from the beginning instead; the watermarks as values, not references to the state
    row, which would leave PostgreSQL to plan a scan of every rating)."""
    row = (RatingRollupState.objects.filter(name=NAME, version=VERSION, through__isnull=False,
                                            through_end__isnull=False)
           .values_list("pk", "through", "through_end", "ratings_watermark", "cases_watermark")
           .first())
    if row is None:
        return None
    pk, through, end, ratings_watermark, cases_watermark = row
    newer_rating = Rating.objects.filter(pk__gt=ratings_watermark).alias(
        at=Coalesce("created_at", "created_at")).filter(at__lt=end)
    newer_case = Case.objects.filter(pk__gt=cases_watermark).alias(
        at=Coalesce("decided_at", "decided_at")).filter(at__lt=end)
    stale = (RatingRollupState.objects.filter(pk=pk)
             .annotate(stale=Exists(newer_rating) | Exists(newer_case))
             .values_list("stale", flat=True).first())
    if stale is None or stale or through is None or end is None:
        return None
    return through, end


def rolled(first: dt.date, last: dt.date) -> Counts:
    """From the rollup: every rating of ``first``..``last`` (excluded ones too, the caller
    subtracts them), the tags, the decided cases — summed by the database over the days."""
    ratings: dict[RatingKey, int] = {}
    for dep, item, channel, *levels in (
            RatingDay.objects.filter(day__gte=first, day__lte=last).order_by()
            .values_list("department_id", "item_id", "channel")
            .annotate(**{f"n{n}": Sum(f"level_{n}") for n in LEVELS})):
        for level, n in zip(LEVELS, levels, strict=True):
            if n:
                _add(ratings, (dep, item, channel, level), n)
    tags: dict[int, int] = {}
    tag_names: dict[int, tuple[str, int]] = {}
    for tag, name, sort, n in (RatingTagDay.objects.filter(day__gte=first, day__lte=last)
                               .order_by().values_list("tag_id", "tag__name", "tag__sort")
                               .annotate(n=Sum("ratings"))):
        tags[tag] = n
        tag_names[tag] = (name, sort)
    completed: dict[CompletedKey, tuple[int, dt.datetime]] = {}
    version_names: dict[int, str] = {}
    for dep, item, version, channel, name, n, newest in (
            CompletedDay.objects.filter(day__gte=first, day__lte=last).order_by()
            .values_list("department_id", "item_id", "item_version_id", "channel",
                         "item_version__name")
            .annotate(n=Sum("cases"), newest=Max("newest"))):
        completed[(dep, item, version, channel)] = (n, newest)
        version_names[version] = name
    return Counts(ratings=ratings, excluded=0, tags=tags, tag_names=tag_names,
                  completed=completed, version_names=version_names)


def period_counts(start: dt.date, end: dt.date) -> Counts:
    """The figures of [start, end) (Beijing days, end exclusive): the rollup's days, minus the
    excluded ratings among them, plus the days after it live. Exactly what counting every row
    live gives."""
    lo, hi = aware(start), aware(end)
    found = state()
    through, through_end = found if found is not None else (start - dt.timedelta(days=1), lo)
    last_rolled = min(through, end - dt.timedelta(days=1))
    if last_rolled >= start:
        counts = rolled(start, last_rolled)
        live_from = min(through_end, hi)
        struck = excluded_ratings(lo, live_from)
        for key, n in struck.items():
            _add(counts.ratings, key, -n)
            counts.excluded += n
        if struck:  # their tags (none to read when no rating of these days was struck out)
            for tag, n in live_tags(lo, live_from, excluded=True,
                                    names=counts.tag_names).items():
                _add(counts.tags, tag, -n)
    else:
        counts = Counts(ratings={}, excluded=0, tags={}, tag_names={}, completed={},
                        version_names={})
        live_from = lo
    if live_from < hi:
        counted, struck = live_ratings(live_from, hi)
        for key, n in counted.items():
            _add(counts.ratings, key, n)
        counts.excluded += sum(struck.values())
        for tag, n in live_tags(live_from, hi, excluded=False, names=counts.tag_names).items():
            _add(counts.tags, tag, n)
        for ckey, (n, newest) in live_completed(live_from, hi,
                                                names=counts.version_names).items():
            _add_completed(counts.completed, ckey, n, newest)
    counts.ratings = {k: n for k, n in counts.ratings.items() if n}
    counts.tags = {k: n for k, n in counts.tags.items() if n}
    return counts


def _day_rows(first: dt.date, last: dt.date) -> tuple[list[RatingDay], list[RatingTagDay],
                                                       list[CompletedDay]]:
    """The rollup's rows of ``first``..``last``, counted live (one range of each table)."""
    lo, hi = aware(first), aware(last + dt.timedelta(days=1))

    def day(at: dt.datetime | None) -> dt.date:
        assert at is not None  # by the range
        return at.astimezone(SHANGHAI).date()

    ratings: dict[tuple[dt.date, int, int, str], dict[int, int]] = defaultdict(dict)
    for at, dep, item, channel, level in _in(lo, hi).values_list(
            "created_at", "department_id", "item_id", "channel", "level"):
        _add(ratings[(day(at), dep, item, channel)], level, 1)
    tags: dict[tuple[dt.date, int], int] = {}
    for at, tag in (Rating.tags.through.objects.filter(rating__created_at__gte=lo,
                                                       rating__created_at__lt=hi)
                    .values_list("rating__created_at", "ratingtag_id")):
        _add(tags, (day(at), tag), 1)
    completed: dict[tuple[dt.date, int, int, int, str], tuple[int, dt.datetime]] = {}
    for at, dep, item, version, channel, created in (
            Case.objects.filter(decided_at__gte=lo, decided_at__lt=hi).order_by()
            .values_list("decided_at", "department_id", "item_id", "item_version_id", "channel",
                         "created_at")):
        key = (day(at), dep, item, version, channel)
        seen = completed.get(key)
        completed[key] = (1, created) if seen is None else (seen[0] + 1, max(seen[1], created))
    return ([RatingDay(day=d, department_id=dep, item_id=item, channel=channel,
                       **{f"level_{n}": by_level.get(n, 0) for n in LEVELS})
             for (d, dep, item, channel), by_level in sorted(ratings.items())],
            [RatingTagDay(day=d, tag_id=tag, ratings=n) for (d, tag), n in sorted(tags.items())],
            [CompletedDay(day=d, department_id=dep, item_id=item, item_version_id=version,
                          channel=channel, cases=n, newest=newest)
             for (d, dep, item, version, channel), (n, newest) in sorted(completed.items())])


def _first_day() -> dt.date | None:
    found = [Rating.objects.aggregate(m=Min("created_at"))["m"],
             Case.objects.aggregate(m=Min("decided_at"))["m"]]
    instants = [f for f in found if f is not None]
    return min(instants).astimezone(SHANGHAI).date() if instants else None


def rollup_ratings(*, now: dt.datetime | None = None, rebuild: bool = False) -> int:
    """Bring the rollup up to yesterday (Beijing); every day from the first one when it is
    not readable (or ``rebuild``). Returns the number of days written. Idempotent: each chunk
    of days is deleted and written again in one transaction."""
    now = now or timezone.now()
    yesterday = now.astimezone(SHANGHAI).date() - dt.timedelta(days=1)
    # Read before counting: a row written while the run counts has a higher id.
    watermarks = {"ratings_watermark": Rating.objects.aggregate(m=Max("pk"))["m"] or 0,
                  "cases_watermark": Case.objects.aggregate(m=Max("pk"))["m"] or 0}
    row, _created = RatingRollupState.objects.get_or_create(name=NAME)
    readable = state()
    if rebuild or readable is None:
        first = _first_day()
        start = first if first is not None else yesterday + dt.timedelta(days=1)
        with transaction.atomic():
            RatingDay.objects.all().delete()
            RatingTagDay.objects.all().delete()
            CompletedDay.objects.all().delete()
            RatingRollupState.objects.filter(pk=row.pk).update(
                version=VERSION, through=start - dt.timedelta(days=1), through_end=aware(start),
                refreshed_at=now, **watermarks)
    else:
        start = readable[0] + dt.timedelta(days=1)
        RatingRollupState.objects.filter(pk=row.pk).update(refreshed_at=now, **watermarks)
    written = 0
    while start <= yesterday:
        last = min(start + dt.timedelta(days=CHUNK_DAYS - 1), yesterday)
        ratings, tags, completed = _day_rows(start, last)
        with transaction.atomic():
            for model in (RatingDay, RatingTagDay, CompletedDay):
                model.objects.filter(day__gte=start, day__lte=last).delete()
            RatingDay.objects.bulk_create(ratings, batch_size=500)
            RatingTagDay.objects.bulk_create(tags, batch_size=500)
            CompletedDay.objects.bulk_create(completed, batch_size=500)
            RatingRollupState.objects.filter(pk=row.pk).update(
                through=last, through_end=aware(last + dt.timedelta(days=1)), refreshed_at=now)
        written += (last - start).days + 1
        start = last + dt.timedelta(days=1)
    return written


def top_tags(counts: Counts, limit: int = 10) -> list[tuple[str, int]]:
    """The most chosen tags: ratings per tag name (most first), then the name's lowest sort,
    then its lowest tag id — the order of the grouped query the report used to make."""
    by_name: dict[str, list[int]] = {}
    for pk, n in counts.tags.items():
        name, sort = counts.tag_names[pk]
        seen = by_name.setdefault(name, [0, sort, pk])
        seen[0] += n
        seen[1] = min(seen[1], sort)
        seen[2] = min(seen[2], pk)
    ranked = sorted(by_name.items(), key=lambda kv: (-kv[1][0], kv[1][1], kv[1][2]))
    return [(name, v[0]) for name, v in ranked[:limit]]


