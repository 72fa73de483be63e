"""The public catalog over the demo workbook (288 items), loaded with ``tongban import_catalog``."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from tests.conftest import DEMO_WORKBOOK
from tongban.catalog import search, selectors
from tongban.catalog.models import Item

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> dict[int, str]:
    """Imports the demo workbook; returns item id → name."""
    call_command("import_catalog", str(DEMO_WORKBOOK), stdout=StringIO())
    return {i.pk: i.current.name for i in Item.objects.select_related("current")}  # type: ignore[union-attr]


def test_counts_match_the_workbook(demo: dict[int, str], client: Client) -> None:
    # The numbers the workbook's README states.
    assert {c.commitment: c.count for c in selectors.list_counts()} == {
        "on_the_spot": 88, "same_day": 57, "time_limited": 114, "proxy": 29}
    power = client.get("/api/v1/power-list").json()
    assert {t["label"]: t["count"] for t in power["by_type"] if t["count"]} == {
        "行政许可": 97, "公共服务": 74, "行政确认": 40, "行政给付": 40, "其他行政权力": 30,
        "行政奖励": 4, "行政裁决": 3}
    assert len(power["by_department"]) == 35  # departments implementing at least one item
    assert client.get("/api/v1/items", {"limit": 1}).json()["total"] == 288


@pytest.mark.parametrize(("query", "blocks"), [
    ("社保卡", [("社会保障卡",)]),
    ("户口", [("户口",)]),
    ("医保", [("医保",), ("医疗保险", "医疗保障")]),  # the word as typed first, then synonyms
    ("提取公积金", [("住房公积金提取",)]),
    ("残疾证", [("残疾人证",)]),
    ("我要办营业执照", [("营业执照",), ("企业设立登记", "个体工商户设立登记")]),
])
def test_everyday_queries_rank_the_items_named_so_first(demo: dict[int, str], query: str,
                                                        blocks: list[tuple[str, ...]]) -> None:
    """The results start with one block per entry of ``blocks``: every item whose name has
    one of its words (and none of an earlier block's), in any order within the block."""
    names = [demo[h.item_id] for h in search.search(query).hits]
    position = 0
    for index, words in enumerate(blocks):
        def named(n: str, words: tuple[str, ...] = words, index: int = index) -> bool:
            return any(w in n for w in words) and not any(
                w in n for earlier in blocks[:index] for w in earlier)
        expected = sum(1 for n in demo.values() if named(n))
        assert expected > 0
        block = names[position:position + expected]
        assert all(named(n) for n in block), (words, block)
        position += expected


def test_proxy_items_are_listed_where_they_are_received(demo: dict[int, str], client: Client) -> None:
    # 29 代办服务 items, all received by street centres of three districts (their departments
    # sit in the district's division); 20 of them are implemented by city bodies.
    def proxy_count(division: str) -> int:
        return int(client.get("/api/v1/lists", {"division": division}).json()["lists"][3]["count"])

    assert (proxy_count("620102"), proxy_count("620103"), proxy_count("620105")) == (10, 11, 8)
    assert proxy_count("620100") == 29
    assert proxy_count("620104") == 0


def test_pages_stay_within_the_query_budget_with_the_full_catalog(
        demo: dict[int, str], client: Client, django_assert_max_num_queries: Any) -> None:
    for url in ["/", "/lists/", "/lists/time_limited/", "/lists/proxy/?division=620102",
                "/items/?topic=社会保障&page=2", "/search/?q=公积金", "/power-list/", "/departments/"]:
        with django_assert_max_num_queries(12):
            response = client.get(url)
        assert response.status_code == 200, url


def test_every_guide_of_the_demo_renders(demo: dict[int, str], client: Client) -> None:
    for item in Item.objects.all()[:40]:
        response = client.get(f"/items/{item.implementation_code}/")
        assert response.status_code == 200
        assert item.implementation_code in response.content.decode()
