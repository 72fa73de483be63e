"""The pages of ``benchmarks/pages.py`` make as many SQL queries on thousands of generated cases
as on a few hundred: no query per row (N+1) anywhere on the way to a province's size.

The counts are not written down: each page's count on a small generated database is compared
with its count after many more cases are added (``tests.load_fixture.generate``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.load_fixture import generate
from tongban.accounts.models import User
from tongban.cases.models import Case
from tongban.organizations.models import Hall

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

# Every page's count must stay the same: the supervision dashboard and the power list with
# figures, which once grew (a query per department or per item), are checked like the others.
# Lists that show deadline states read each hall's office hours once (memoised,
# ``clock.office_hours_memo``): a query per distinct hall among the rows shown, so at most one
# more per hall however many cases there are.
PER_HALL = {"officer's inbox", "head's view", "supervisor's case list", "citizen's case list",
            "API case list"}

# 10,000 takes several minutes per database on a busy 2-core machine. 1,000 already fills
# every list past its first page (a paginated list legitimately counts once more than an
# unpaginated one); 3,000 has every kind of record many times over.
SMALL = 1_000
LARGE = 3_000

# The oversight pages add today's live figures to the rollup's (cases decided since midnight,
# Beijing); with no such case they skip three reads. The generator spreads cases over two years
# around the wall clock, so whether the small database held one depended on the hour the suite
# ran: the clock is moved to just after the small database's last decision, and both databases
# are measured on that day.


def to_a_day_with_decisions(time_machine: Any) -> None:
    # A decision of an item on the power list's first page: that page reads today's live
    # figures of its own items only, so a decision of another item would leave it skipping
    # those reads on the small database and making them on the large one.
    from tongban.catalog import selectors as catalog
    from tongban.catalog.views.public import PAGE_SIZE

    everything, _problems = catalog.parse_filters({})
    shown = [v.item_id for v in catalog.published_versions(everything, received_counts=False)
             [:PAGE_SIZE]]
    last = (Case.objects.filter(accepted_at__isnull=False, decided_at__isnull=False,
                                item_id__in=shown)
            .order_by("-decided_at").values_list("decided_at", flat=True).first())
    assert last is not None
    time_machine.move_to(last + dt.timedelta(seconds=1), tick=False)


def pages() -> list[tuple[str, str | None, str]]:
    """(page, username or None, URL), as ``benchmarks/pages.py`` measures them."""
    citizen = User.objects.get(username="citizen")
    officer = User.objects.get(username="officer")
    own = Case.objects.filter(applicant=citizen).order_by("-pk").first()
    handled = Case.objects.filter(department=officer.department).order_by("-pk").first()
    assert own is not None and handled is not None
    month = timezone.now().replace(day=1) - dt.timedelta(days=1)
    return [
        ("citizen's case list", "citizen", "/my/cases/"),
        ("citizen's case detail", "citizen", f"/my/cases/{own.number}/"),
        ("officer's inbox", "officer", "/workbench/"),
        ("staff case detail", "officer", f"/workbench/cases/{handled.number}/"),
        ("head's view", "head", "/workbench/head/"),
        ("supervisor's case list", "supervisor", "/supervision/cases/"),
        ("supervision dashboard", "supervisor", "/supervision/"),
        ("metrics", "supervisor", "/supervision/metrics/"),
        ("monthly ratings report", "supervisor", f"/ratings/report/{month:%Y}-{month.month}/"),
        ("audit log", "supervisor", "/supervision/audit/"),
        ("search", None, "/search/?q=营业执照"),
        ("power list with figures", None, "/power-list/"),
        ("API case list", "officer", "/api/v1/cases"),
    ]


def counts(measured: list[tuple[str, str | None, str]]) -> dict[str, int]:
    found: dict[str, int] = {}
    for page, username, url in measured:
        client = Client()
        if username:
            client.force_login(User.objects.get(username=username))
        assert client.get(url).status_code == 200, page  # warm the caches
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, page
        found[page] = len(queries.captured_queries)
    return found


def rollups() -> None:
    """The nightly rollups (tasks ``rollup_figures`` and ``rollup_ratings``), as production has
    them when the pages are read: their figures come from the rollup rows plus today's rows."""
    from tongban.ratings.tasks import rollup_ratings
    from tongban.supervision.tasks import rollup_figures

    rollup_figures.call()
    rollup_ratings.call()


def test_no_page_makes_more_queries_with_more_cases(time_machine: Any) -> None:
    generate(SMALL, seed=11)
    to_a_day_with_decisions(time_machine)
    rollups()
    measured = pages()  # the same case pages both times
    small = counts(measured)
    generate(LARGE - SMALL, seed=12)
    rollups()
    assert Case.objects.count() == LARGE
    large = counts(measured)
    grown = {page: (small[page], large[page]) for page in small if large[page] != small[page]}
    halls = Hall.objects.count()
    unexpected = {page: grown[page] for page in grown
                  if not (page in PER_HALL and grown[page][1] - grown[page][0] <= halls)}
    assert not unexpected, f"queries ({SMALL} cases, {LARGE} cases): {unexpected}"


def test_the_oversight_pages_make_no_more_queries_without_the_rollups(time_machine: Any) -> None:
    """Before the first nightly run (or while a rollup is being rebuilt) the dashboard and the
    power list compute live: slower, still no query per row."""
    oversight = {"supervision dashboard", "power list with figures", "metrics",
                 "monthly ratings report"}
    generate(SMALL, seed=13)
    to_a_day_with_decisions(time_machine)
    measured = [p for p in pages() if p[0] in oversight]
    small = counts(measured)
    generate(LARGE - SMALL, seed=14)
    large = counts(measured)
    assert small == large, f"queries ({SMALL} cases, {LARGE} cases): {small} → {large}"
