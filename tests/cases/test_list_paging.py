"""Keyset pages of the case lists (``core.keyset``): the citizen's cases, the API case list, the
workbench inbox, the head's view and the supervisor's case list. Following 下一页 shows every
case once — no duplicate, no gap — even when many share the sort key; each reader sees only
what is theirs on every page; filters hold across pages."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.cases.conftest import TIME_LIMITED
from tongban.accounts.models import User
from tongban.cases import selectors
from tongban.cases.models import Case, Status
from tongban.cases.workflows.models import StepTask, TaskStatus
from tongban.core.keyset import Cursor, keyset_page

pytestmark = pytest.mark.django_db

NEXT = re.compile(r'href="\?([^"]*)" rel="next"')
PREVIOUS = re.compile(r'href="\?([^"]*)" rel="prev"')


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def clone(case: Case, n: int, *, tag: str, at: dt.datetime | None = None,
          **changes: Any) -> list[Case]:
    """``n`` copies of ``case`` (new numbers), all created at the same instant ``at`` — ties on
    the sort key are what a keyset page must get right — with one open task each when the
    original has one."""
    task = StepTask.objects.filter(case=case, status=TaskStatus.OPEN).first()
    copies = []
    for i in range(n):
        copy = Case.objects.get(pk=case.pk)
        copy.pk = None
        copy.number = f"{tag}{i:06d}"
        copy.idempotency_key = ""
        for name, value in changes.items():
            setattr(copy, name, value)
        copies.append(copy)
    made = Case.objects.bulk_create(copies)
    Case.objects.filter(pk__in=[c.pk for c in made]).update(created_at=at or case.created_at)
    if task is not None:
        StepTask.objects.bulk_create([
            StepTask(case=c, step_key=task.step_key, name=task.name, department=task.department,
                     role=task.role, status=TaskStatus.OPEN, opened_at=task.opened_at,
                     due_at=task.due_at) for c in made])
    return list(Case.objects.filter(pk__in=[c.pk for c in made]))


def walk(client: Client, url: str, params: dict[str, str], *, marker: re.Pattern[str]
         ) -> list[str]:
    """Every page of a list reached by following 下一页 from the first, as HTML."""
    pages = [client.get(url, params).content.decode()]
    while (found := NEXT.search(pages[-1])) is not None:
        query = found.group(1).replace("&amp;", "&")
        pages.append(client.get(f"{url}?{query}").content.decode())
        assert len(pages) < 50
    return pages


def numbers(html: str, pattern: str) -> list[str]:
    return re.findall(pattern, html)


# --- the mechanism ----------------------------------------------------------------------------

def test_keyset_pages_cover_every_row_once_forward_and_back(people: dict[str, User]) -> None:
    first = factories.accepted_case(people, TIME_LIMITED)
    at = timezone.now()
    clone(first, 23, tag="T", at=at)  # 23 ties on created_at, then the original
    qs = Case.objects.filter(applicant=people["citizen"])
    expected = [c.pk for c in qs.order_by("-created_at", "-pk")]
    seen: list[int] = []
    pages = []
    cursor = None
    while True:
        page = keyset_page([qs], key="created_at", descending=True, size=5, cursor=cursor)
        pages.append(page)
        seen += [c.pk for c in page.rows]
        if page.next is None:
            break
        cursor = Cursor.decode(page.next)
    assert seen == expected and len(pages) == 5 and pages[0].previous is None
    # Back from the last page: the pages before it, the same rows in the same order.
    back = pages[-1]
    collected = [c.pk for c in back.rows]
    while back.previous is not None:
        back = keyset_page([qs], key="created_at", descending=True, size=5,
                           cursor=Cursor.decode(back.previous))
        collected = [c.pk for c in back.rows] + collected
    assert collected == expected


def test_a_nullable_key_puts_rows_without_one_last(people: dict[str, User]) -> None:
    case = factories.accepted_case(people, TIME_LIMITED)
    clone(case, 4, tag="N", due_at=None)
    clone(case, 4, tag="D")
    qs = Case.objects.filter(applicant=people["citizen"])
    seen: list[Case] = []
    cursor = None
    while True:
        page = keyset_page([qs], key="due_at", nullable=True, descending=False, size=3,
                           cursor=cursor)
        seen += page.rows
        if page.next is None:
            break
        cursor = Cursor.decode(page.next)
    assert len(seen) == len({c.pk for c in seen}) == 9
    assert [c.due_at is None for c in seen] == [False] * 5 + [True] * 4


def test_a_mangled_cursor_is_refused_by_the_api_and_ignored_by_pages(
        people: dict[str, User]) -> None:
    citizen = client_for(people["citizen"])
    response = citizen.get("/api/v1/cases", {"cursor": "x1.2"})
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "cursor"
    assert citizen.get(reverse("cases:my_cases"), {"page": "garbage"}).status_code == 200
    # Well-formed but impossible: no key on a list whose key (the creation time) is never empty.
    for crafted in ("an.1", "bn.1"):
        assert citizen.get(reverse("cases:my_cases"), {"page": crafted}).status_code == 200
        assert citizen.get("/api/v1/cases", {"cursor": crafted}).status_code in (200, 422)


# --- the citizen -------------------------------------------------------------------------------

def test_my_cases_pages_show_own_and_agent_cases_only(people: dict[str, User]) -> None:
    mine = factories.accepted_case(people, TIME_LIMITED)
    own = clone(mine, 24, tag="M")
    agent = clone(mine, 5, tag="A", applicant=people["other"], agent=people["citizen"])
    other = clone(mine, 3, tag="O", applicant=people["other"])
    pages = walk(client_for(people["citizen"]), reverse("cases:my_cases"), {}, marker=NEXT)
    assert len(pages) == 2
    shown = [n for html in pages for n in numbers(html, r'class="code">([A-Z]\d{6}|\d{20,})<')]
    expected = {c.number for c in (mine, *own, *agent)}
    assert len(shown) == len(expected) == 30 and set(shown) == expected
    assert not {c.number for c in other} & set(shown)
    assert PREVIOUS.search(pages[1]) is not None and "上一页" in pages[1]


# --- the API -----------------------------------------------------------------------------------

def test_the_api_cursor_walks_the_list_and_page_numbers_still_work(
        people: dict[str, User]) -> None:
    case = factories.accepted_case(people, TIME_LIMITED)
    clone(case, 16, tag="P")
    clone(case, 4, tag="W", status=Status.WITHDRAWN)
    clone(case, 6, tag="H", applicant=people["other"])
    citizen = client_for(people["citizen"])
    first = citizen.get("/api/v1/cases", {"page_size": 6}).json()
    assert first["count"] == 21 and first["count_exact"] and first["previous"] is None
    ids, body = [c["id"] for c in first["items"]], first
    while body["next"]:
        body = citizen.get("/api/v1/cases", {"page_size": 6, "cursor": body["next"]}).json()
        ids += [c["id"] for c in body["items"]]
    visible = list(Case.objects.filter(applicant=people["citizen"])
                   .order_by("-created_at", "-pk").values_list("pk", flat=True))
    assert ids == visible
    # Page numbers give the same rows as the cursor.
    third = citizen.get("/api/v1/cases", {"page_size": 6, "page": 3}).json()
    assert [c["id"] for c in third["items"]] == visible[12:18]
    # A filter holds on every page.
    body = citizen.get("/api/v1/cases", {"page_size": "3", "status": "withdrawn"}).json()
    withdrawn = [c["id"] for c in body["items"]]
    while body["next"]:
        params = {"page_size": "3", "status": "withdrawn", "cursor": body["next"]}
        body = citizen.get("/api/v1/cases", params).json()
        withdrawn += [c["id"] for c in body["items"]]
        assert {c["status"] for c in body["items"]} <= {"withdrawn"}
    assert len(withdrawn) == 4
    deep = citizen.get("/api/v1/cases", {"page_size": 100, "page": 101})
    assert deep.status_code == 422 and deep.json()["detail"][0]["field"] == "page"


def test_the_officer_pages_hold_only_the_department_cases(people: dict[str, User]) -> None:
    case = factories.accepted_case(people, TIME_LIMITED)
    clone(case, 12, tag="K")
    hr = client_for(people["hr_officer"]).get("/api/v1/cases", {"page_size": 5}).json()
    assert hr["count"] == 0 and hr["items"] == []
    officer = client_for(people["officer"])
    body = officer.get("/api/v1/cases", {"page_size": 5}).json()
    ids = [c["id"] for c in body["items"]]
    while body["next"]:
        body = officer.get("/api/v1/cases", {"page_size": 5, "cursor": body["next"]}).json()
        ids += [c["id"] for c in body["items"]]
    assert sorted(ids) == sorted(Case.objects.values_list("pk", flat=True)) and len(ids) == 13
    assert [c.pk for c in selectors.case_list(people["officer"], selectors.CaseFilter())] == ids


# --- the inbox ---------------------------------------------------------------------------------

def test_the_inbox_pages_through_open_steps_without_repeats(people: dict[str, User]) -> None:
    case = factories.accepted_case(people, TIME_LIMITED)
    copies = clone(case, 54, tag="I")  # 55 unclaimed steps, all due at the same instant
    officer = client_for(people["officer"])
    pages = walk(officer, reverse("cases:workbench"), {"tab": "unclaimed"}, marker=NEXT)
    shown = [n for html in pages for n in numbers(html, r'<th scope="row"><a href="[^"]*">'
                                                        r'([A-Z]\d{6}|\d{20,})</a>')]
    assert len(pages) == 3 and len(shown) == 55
    assert set(shown) == {c.number for c in (case, *copies)}
    assert "(55)" in pages[0]  # the tab's count
    # Another department's officer sees none of them; a filter holds across pages.
    other = client_for(people["hr_officer"]).get(reverse("cases:workbench"), {"tab": "unclaimed"})
    assert case.number not in other.content.decode()
    StepTask.objects.filter(case__in=copies[:30]).update(
        due_at=timezone.now() - dt.timedelta(hours=1))
    red = walk(officer, reverse("cases:workbench"), {"tab": "unclaimed", "state": "red"},
               marker=NEXT)
    assert len(red) == 2 and sum(len(numbers(p, r'class="row-red"')) for p in red) == 30


# --- the head and the supervisor ---------------------------------------------------------------

def test_the_head_counts_all_and_pages_the_list(people: dict[str, User]) -> None:
    case = factories.accepted_case(people, TIME_LIMITED)
    late = clone(case, 7, tag="L", due_at=timezone.now() - dt.timedelta(hours=2))
    clone(case, 55, tag="G")
    head = client_for(people["head"])
    page = head.get(reverse("cases:head")).content.decode()
    assert re.search(r'tile-red.*?tile-count">7<', page, re.S)
    assert re.search(r'tile-green.*?tile-count">56<', page, re.S)
    pages = walk(head, reverse("cases:head"), {}, marker=NEXT)
    rows = [n for html in pages for n in numbers(html, r'<tr><th scope="row"><a href="[^"]*">'
                                                       r'([A-Z]\d{6}|\d{20,})</a>')]
    assert len(pages) == 3 and len(rows) == len(set(rows)) == 63
    assert rows[:7] == sorted(str(c.number) for c in late)  # soonest due (overdue) first
    red = head.get(reverse("cases:head"), {"state": "red"}).content.decode()
    assert {c.number for c in late} <= set(numbers(red, r">(L\d{6})<")) and "G000001" not in red


def test_the_supervisor_list_pages_keep_the_department_filter(
        overseers: dict[str, User]) -> None:
    people = overseers
    case = factories.accepted_case(people, TIME_LIMITED)
    clone(case, 60, tag="S")
    other = clone(case, 5, tag="X", department=people["hr_officer"].department)
    supervisor = client_for(people["supervisor"])
    url = reverse("supervision:cases")
    pages = walk(supervisor, url, {"department": str(case.department_id)}, marker=NEXT)
    shown = [n for html in pages for n in numbers(html, r'>([A-Z]\d{6}|\d{20,})</a>')]
    assert len(pages) == 3 and len(shown) == len(set(shown)) == 61
    assert not {c.number for c in other} & set(shown)
    assert "department=" in NEXT.search(pages[0]).group(1)  # type: ignore[union-attr]
