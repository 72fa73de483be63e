"""A province-sized database for measuring pages: ``tongban generate_load --cases N``.

Fills the current database (after ``migrate`` and ``load_demo``) with N cases spread over the
last ``years`` years and everything their histories leave, in the shapes the services write
(``history.py`` says what, ``chain.py`` how the audit chain stays valid). Rows are computed in
Python and written in bulk (COPY on PostgreSQL, ``executemany`` on SQLite), a batch of cases
per transaction, with primary keys allocated after each table's current maximum.

It adds: a second run adds N more cases (new applicants, numbers continuing the daily
counters, the audit chain continuing from its end). It assumes nothing else writes meanwhile.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from bisect import bisect
from collections.abc import Callable
from itertools import accumulate
from typing import Any

from django.db import connection, transaction

from tongban.accounts.models import User
from tongban.cases.models import CaseCounter
from tongban.ratings.models import RatingTag

from . import history, tables, world
from .chain import Chain
from .world import NoCatalog
from .writer import BulkSession, Table, Writer, reset_sequences

__all__ = ["NoCatalog", "generate"]

BATCH = 5000


def generate(cases: int, *, seed: int = 1, years: float = 2.0, bulk: bool = True,
             progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Add ``cases`` generated cases; returns what was written (row counts per table, the
    status mix, seconds). Raises :class:`NoCatalog` when the demo catalog is missing.

    ``bulk``: without per-row foreign-key checks (:class:`~.writer.BulkSession`); tests turn
    it off so that the database checks every reference."""
    say = progress or (lambda _line: None)
    started = time.monotonic()
    rng = random.Random(seed)
    now = world.now()
    start = now - dt.timedelta(days=365 * years)
    weighted = world.load_items(rng)
    items = [info for info, _w in weighted]
    cumulative = list(accumulate(w for _i, w in weighted))
    staff = world.load_staff(items)
    writer = Writer()
    t = tables.build()
    connection.ensure_connection()

    with BulkSession(enabled=bulk):
        applicants = _applicants(rng, cases, writer, now, start, say)
    demo = world.demo_applicants()
    # The demo citizen (and enterprise) get many cases: the "my cases" page at its heaviest.
    demo_share = min(0.1, max(30, cases // 5000) / max(cases, 1))

    chain = Chain(t.audit, writer)
    ids = history.Ids(case=t.case.next_id(), event=t.event.next_id(),
                      material=t.material.next_id(), notice=t.notice.next_id(),
                      task=t.task.next_id(), visit=t.visit.next_id(), rating=t.rating.next_id(),
                      rating_tag=t.rating_tag.next_id(), ticket=t.ticket.next_id(),
                      supervision=t.supervision.next_id(),
                      notification=t.notification.next_id())
    counters = {(day, code): value for day, code, value
                in CaseCounter.objects.values_list("day", "division_code", "value")}
    before = dict(counters)
    ctx = history.Context(
        rng=rng, now=now, tables=t, writer=writer, chain=chain, ids=ids, staff=staff,
        counters=counters, bad_tags=list(RatingTag.objects.filter(active=True)
                                         .order_by("sort", "pk").values_list("pk", "code")),
        halls=world.halls())
    span = (now - start).total_seconds()
    say(f"writing {cases:,} cases ({connection.vendor})")
    with BulkSession(enabled=bulk):
        _write(ctx, cases=cases, start=start, span=span, items=items,
               cumulative=cumulative, applicants=applicants, demo=demo,
               demo_share=demo_share, started=started, say=say)
    _save_counters(counters, before)
    reset_sequences([User, *(table.model for table in t.in_order())])
    checkpoint = chain.seal(now)
    if bulk and connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # the planner's statistics, as autovacuum would
            cursor.execute("ANALYZE")
    seconds = time.monotonic() - started
    say(f"done: {cases:,} cases in {seconds:.0f} s; audit chain sealed at #{chain.seq}"
        if checkpoint else f"done: {cases:,} cases in {seconds:.0f} s")
    return {"cases": cases, "seconds": seconds, "rows": dict(writer.counts),
            "statuses": dict(ctx.stats), "audit_end": chain.seq}


def _applicants(rng: random.Random, cases: int, writer: Writer, now: dt.datetime,
                start: dt.datetime, say: Callable[[str], None]) -> list[world.Applicant]:
    """New citizen and enterprise accounts: about one per four cases, one company per forty."""
    table: Table = world.applicant_table()
    citizens, companies = max(20, cases // 4), max(5, cases // 40)
    first = table.next_id()
    applicants, rows = world.make_applicants(rng, citizens=citizens, companies=companies,
                                             first_id=first, joined=start)
    for begin in range(0, len(rows), 20_000):
        with transaction.atomic():
            for row in rows[begin:begin + 20_000]:
                writer.add(table, row)
            writer.flush([table])
    say(f"  {citizens:,} citizens and {companies:,} enterprises added")
    return applicants


def _save_counters(counters: dict[tuple[dt.date, str], int],
                   before: dict[tuple[dt.date, str], int]) -> None:
    """The daily case-number counters, as the numbers given leave them."""
    new = [CaseCounter(day=day, division_code=code, value=value)
           for (day, code), value in counters.items() if (day, code) not in before]
    with transaction.atomic():
        CaseCounter.objects.bulk_create(new, batch_size=500)
        for (day, code), value in counters.items():
            if (day, code) in before and before[(day, code)] != value:
                CaseCounter.objects.filter(day=day, division_code=code).update(value=value)


def _write(ctx: history.Context, *, cases: int, start: dt.datetime, span: float,
           items: list[world.ItemInfo], cumulative: list[float],
           applicants: list[world.Applicant], demo: list[world.Applicant], demo_share: float,
           started: float, say: Callable[[str], None]) -> int:
    """The cases, a batch per transaction, submitted in order over ``span`` seconds."""
    rng, now, writer = ctx.rng, ctx.now, ctx.writer
    total_weight = cumulative[-1]
    done = 0
    while done < cases:
        size = min(BATCH, cases - done)
        with transaction.atomic():
            for i in range(done, done + size):
                at = start + dt.timedelta(seconds=span * (i + rng.random()) / cases)
                submitted = history.working(at, rng)
                if submitted > now:
                    submitted = now - dt.timedelta(minutes=rng.randrange(1, 120))
                item = items[bisect(cumulative, rng.random() * total_weight)]
                roll = rng.random()
                if demo and roll < demo_share:
                    applicant = demo[0] if len(demo) == 1 or roll < demo_share * .7 else demo[1]
                elif roll > 0.9:
                    applicant = world.walk_in(rng, i)
                else:
                    # Skewed: a few applicants apply often, most once or twice.
                    applicant = applicants[int(len(applicants) * rng.random() ** 1.6)]
                history.write_case(ctx, item=item, applicant=applicant, submitted=submitted)
            writer.flush(ctx.tables.in_order())
        done += size
        elapsed = time.monotonic() - started
        say(f"  {done:,} cases, {sum(writer.counts.values()):,} rows, {elapsed:.0f} s "
            f"({done / max(elapsed, 1e-6):.0f} cases/s)")
    return done
