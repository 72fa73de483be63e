"""The audit log page reads each filter down an index in the order of the chain: the object
types by a skip scan (no DISTINCT over every record), an action prefix as one equality walk per
action it matches, an object id without its type as one walk per type — with the same records
and pages as the plain filters."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.audit.test_pages import client_for, listed_seqs, supervisor
from tongban.accounts.models import User
from tongban.audit import selectors
from tongban.audit.models import AuditRecord
from tongban.audit.services import audit_record

__all__ = ["supervisor"]


@pytest.fixture
def mixed(db: None, citizen: User, sealed: Callable[[], int]) -> list[int]:
    """Twelve records whose actions and object types interleave along the chain."""
    rows = [("case.submitted", "case", "A1"), ("case.accepted", "case", "A1"),
            ("catalog.published", "item", "A1"), ("case_x.odd", "case", "B2"),
            ("case.submitted", "case", "B2"), ("calendar.imported", "calendar", "A1"),
            ("case.accepted", "case", "B2"), ("CASE.upper", "case", "A1"),
            ("case.submitted", "case", "C3"), ("catalog.published", "item", "B2"),
            ("case.decided", "case", "A1"), ("case.accepted", "case", "C3")]
    for action, object_type, object_id in rows:
        with transaction.atomic():
            audit_record(actor=citizen, action=action, object_type=object_type,
                         object_id=object_id, detail={})
    sealed()
    return list(AuditRecord.objects.order_by("seq").values_list("seq", flat=True))


def test_distinct_values_come_from_a_skip_scan(mixed: list[int]) -> None:
    with CaptureQueriesContext(connection) as queries:
        types = selectors.object_types()
        matching = selectors.distinct_values("action", prefix="case.")
    assert types == sorted(set(AuditRecord.objects.values_list("object_type", flat=True)))
    expected = {a for a in AuditRecord.objects.filter(action__startswith="case.")
                .values_list("action", flat=True)}
    assert set(matching) == expected  # the database's own LIKE: "_" is literal, case as it treats it
    assert "case_x.odd" not in matching
    assert all("DISTINCT" not in q["sql"].upper() for q in queries.captured_queries)


@pytest.mark.parametrize("query", [
    {"action": "case."}, {"action": "case.accepted"}, {"action": "case_"},
    {"object_id": "A1"}, {"object_id": "B2", "action": "case."}, {"actor": "citizen"},
    {"actor": "citizen", "action": "cat"}, {"action": "nothing."},
])
def test_walks_page_like_the_plain_filter(supervisor: User, mixed: list[int],
                                          query: dict[str, str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of three, newest first, then back up: the same records as the filter's own
    query gives."""
    monkeypatch.setattr("tongban.audit.views.PAGE_SIZE", 3)
    f = selectors.RecordFilter(actor=query.get("actor", ""), action=query.get("action", ""),
                               object_id=query.get("object_id", ""))
    expected = list(selectors.records_filtered(f).values_list("seq", flat=True))
    client = client_for(supervisor)
    seen: list[int] = []
    params = dict(query)
    for _ in range(10):
        html = client.get("/supervision/audit/", params).content.decode()
        page = listed_seqs(html)
        assert page == sorted(page, reverse=True)
        seen += page
        older = re.search(r'before=(\d+)" rel="next"', html)
        if older is None:
            break
        params = {**query, "before": older.group(1)}
    assert [s for s in seen if s in mixed] == [s for s in expected if s in mixed]
    if len(expected) > 3:  # and back up from the second page
        back = selectors.records_page(f, after=expected[3] - 1, size=3)
        assert [r.seq for r in back.records] == expected[1:4]


def test_an_action_filter_walks_its_index_by_equality(supervisor: User, mixed: list[int]) -> None:
    with CaptureQueriesContext(connection) as queries:
        html = client_for(supervisor).get("/supervision/audit/", {"action": "case.acc"}).content
    assert listed_seqs(html.decode()) == [mixed[11], mixed[6], mixed[1]]
    reads = [q["sql"] for q in queries.captured_queries
             if "audit_auditrecord" in q["sql"] and "LIMIT" in q["sql"].upper()
             and "INSERT" not in q["sql"].upper()]
    walks = [s for s in reads if "walk0" in s]
    assert walks and all("LIKE" not in s.upper() for s in walks)
    assert any("\"action\" = 'case.accepted'" in s for s in walks)
