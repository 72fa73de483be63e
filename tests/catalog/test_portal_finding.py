"""Finding a service on the portal: topics for persons and companies, life events, and each
guide's answer to "how do I get this done" (apply online, or where to go, and the visits)."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from pytest_django.fixtures import Settings

from tongban.catalog import life_events, selectors
from tongban.catalog.models import Item, ItemVersion

pytestmark = pytest.mark.django_db

LIMITED = "11620100051317876B3000100139001"  # 食品经营许可（新办）, 限时办结, online depth Ⅲ
PROXY = "11620100051760018C3002000165004"  # 城乡居民基本养老保险参保登记, 代办服务


@pytest.fixture
def demo(settings: Settings) -> None:
    settings.DEBUG = True
    call_command("load_demo", stdout=StringIO())
    settings.DEBUG = False


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_topics_for_persons_and_companies(demo: None, client: Client) -> None:
    person = client.get("/topics/").content.decode()
    company = client.get("/topics/?for=company").content.decode()
    assert "<h1>主题服务</h1>" in person
    assert 'href="/topics/?for=person" aria-current="page">个人办事' in person
    assert 'href="/topics/?for=company" aria-current="page">法人办事' in company
    # Topic chips narrow the item list to the topic and the audience.
    topic = "%E5%A9%9A%E5%A7%BB%E7%99%BB%E8%AE%B0"  # 婚姻登记
    assert f'href="/items/?topic={topic}&amp;service_object=natural_person"' in person
    assert "婚姻登记" not in company  # no company marries
    assert "法人注销" in company
    # Life events of each audience, with their counts.
    assert 'href="/topics/events/marriage/">结婚' in person and "开办企业" not in person
    assert 'href="/topics/events/start-business/">开办企业' in company
    # A topic link leads to that topic's items for persons only.
    listed = client.get("/items/", {"topic": "婚姻登记", "service_object": "natural_person"}).content.decode()
    assert "结婚登记" in text(listed)
    # Nonsense audience falls back to persons.
    assert 'aria-current="page">个人办事' in client.get("/topics/?for=xyz").content.decode()


def test_life_events_are_data_and_match_topics_or_names(demo: None, client: Client) -> None:
    assert {e.slug for e in life_events.LIFE_EVENTS} >= {
        "birth", "school", "work", "marriage", "retirement", "start-business", "change-business",
        "close-business"}
    marriage = life_events.BY_SLUG["marriage"]
    versions = list(selectors.life_event_versions(marriage))
    names = {v.name for v in versions}
    assert names and all("婚" in v.name or "婚姻登记" in v.topics for v in versions)
    assert all("natural_person" in v.service_objects for v in versions)
    change = {v.name for v in selectors.life_event_versions(life_events.BY_SLUG["change-business"])}
    assert "企业变更登记" in change and all("变更" in n for n in change)
    page = client.get("/topics/events/marriage/").content.decode()
    assert "<h1>结婚：要办的事</h1>" in page
    assert f"共 {len(versions)} 项事项。" in page
    for name in names:
        assert name in page
    assert client.get("/topics/events/no-such-event/").status_code == 404


def test_the_guide_answers_apply_online_with_visits(demo: None, client: Client) -> None:
    page = client.get(f"/items/{LIMITED}/").content.decode()
    start = page.index('<section class="answer"')
    box = page[start:page.index("</section>", start)]
    assert "<h2 id=\"s-how\">怎么办</h2>" in box
    assert "零跑动：无需到现场" in box
    assert "本事项可以在网上申请。" in box
    assert f'<a class="button" href="/apply/{LIMITED}/">在线办理</a>' in box
    assert "也可以到窗口办理" in box and "兰州市政务服务中心" in box


def test_the_guide_says_where_to_go_when_not_online(demo: None, client: Client) -> None:
    version = ItemVersion.objects.filter(status="published", online_depth__lte=2, required_visits__gte=1) \
        .select_related("item").first()
    assert version is not None
    assert not selectors.applies_online(version)
    page = client.get(f"/items/{version.item.implementation_code}/").content.decode()
    box = text(page[page.index('<section class="answer"'):])
    assert "本事项不能在网上申请，请带齐申请材料到以下地点办理。" in box
    assert "到哪里办" in box and "在线办理" not in box.split("基本信息")[0]
    assert f"最多跑 {version.required_visits} 次" in box
    assert "办理地点" in box and version.location.split("；")[0][:10] in box


def test_a_proxy_item_names_the_receiving_centre_first(demo: None) -> None:
    item = Item.objects.get(implementation_code=PROXY)
    version = selectors.published_version_of(item)
    assert version is not None
    places = selectors.places_for(version)
    assert places[0].hall.name == "城关区皋兰路街道便民服务中心"
    assert places[0].periods == ["09:00-12:00", "13:30-17:30"]


def test_home_offers_the_ways_to_find_a_service(demo: None, client: Client) -> None:
    page = client.get("/").content.decode()
    for link in ('href="/topics/?for=person">个人办事', 'href="/topics/?for=company">法人办事',
                 'href="/topics/events/birth/">出生', 'href="/topics/events/close-business/">注销',
                 'href="/lists/on_the_spot/"', 'href="/search/"'):
        assert link in page, link
    assert 'href="/topics/">主题服务</a>' in page  # the main navigation
