"""The guide page and the API's item detail are kept per published version
(``tongban.catalog.guide_cache``): a new version shows at once, a renamed department or hall
shows at once in this process, and the page around the kept part is each visitor's own."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.catalog.conftest import Catalog
from tests.conftest import make_user
from tests.factories import item_data, publish, with_changes
from tongban.accounts.models import Role, User
from tongban.catalog.models import ItemVersion
from tongban.organizations.models import Department, Hall

pytestmark = pytest.mark.django_db


def guide(client: Client, code: str) -> str:
    response = client.get(f"/items/{code}/")
    assert response.status_code == 200
    return response.content.decode()


def article(page: str) -> str:
    return page[page.index("<article"):page.index("</article>")]


def test_a_new_version_shows_at_once(client: Client, bureau: User, dept: Department) -> None:
    data = item_data(dept, sequence=7, name="旧名称事项")
    publish(data, actor=bureau)
    code = data.implementation_code
    assert "旧名称事项" in guide(client, code)
    assert client.get(f"/api/v1/items/{code}").json()["name"] == "旧名称事项"
    assert "旧名称事项" in guide(client, code)  # served from the cache now

    publish(with_changes(data, name="新名称事项", committed_limit=3), actor=bureau, note="改名")

    page = guide(client, code)
    assert "新名称事项 办事指南" in page and "旧名称事项" not in page
    assert "第 2 版" in page
    detail = client.get(f"/api/v1/items/{code}").json()
    assert (detail["name"], detail["committed_limit"]) == ("新名称事项", 3)


def test_the_kept_answer_is_the_fresh_answer(client: Client, published_items: Catalog) -> None:
    code = published_items.code("id_card")
    first = client.get(f"/api/v1/items/{code}")
    second = client.get(f"/api/v1/items/{code}")
    assert first.status_code == second.status_code == 200
    assert first["Content-Type"] == second["Content-Type"] == "application/json; charset=utf-8"
    assert first.content == second.content
    assert first.json()["implementation_code"] == code
    # The guide itself is the same; the page around it has a fresh CSRF token each time.
    assert article(guide(client, code)) == article(guide(client, code))


def test_each_visitor_gets_their_own_page_around_the_guide(published_items: Catalog) -> None:
    code = published_items.code("id_card")
    citizen = make_user("zhang", Role.CITIZEN, real_name="张明明", id_number="620102199001011233")
    officer = make_user("zhao", Role.OFFICER, real_name="赵强强",
                        department=published_items.version("id_card").item.department)
    anonymous, as_citizen, as_officer = Client(), Client(), Client()
    as_citizen.force_login(citizen)
    as_officer.force_login(officer)

    pages = [guide(c, code) for c in (anonymous, as_citizen, as_officer, anonymous, as_citizen)]

    assert all("居民身份证补领 办事指南" in p for p in pages)
    assert "张明明" not in pages[0] + pages[2] + pages[3]
    assert "赵强强" not in pages[0] + pages[1] + pages[3] + pages[4]
    assert "张明明" in pages[1] and "张明明" in pages[4]
    assert "赵强强" in pages[2]
    assert "/workbench/" in pages[2] and "/workbench/" not in pages[1]
    assert "/accounts/logout/" not in pages[0] + pages[3]


def test_a_renamed_department_or_hall_shows_at_once(client: Client, published_items: Catalog) -> None:
    code = published_items.code("id_card")
    version = ItemVersion.objects.select_related("item__department").get(
        pk=published_items.version("id_card").pk)
    before = guide(client, code)
    department = version.item.department
    assert department.name in before

    department.name = "兰州市公安局（更名后）"
    department.save()
    assert "兰州市公安局（更名后）" in guide(client, code)
    assert client.get(f"/api/v1/items/{code}").json()["department"]["name"] == "兰州市公安局（更名后）"

    hall = Hall.objects.order_by("pk").first()
    if hall is not None and hall.name in guide(client, code):
        hall.name = "新大厅名称"
        hall.save()
        assert "新大厅名称" in guide(client, code)


def test_english_and_chinese_are_kept_apart(client: Client, published_items: Catalog) -> None:
    code = published_items.code("id_card")
    chinese = guide(client, code)
    english = client.get(f"/items/{code}/", headers={"Accept-Language": "en"}).content.decode()
    assert "基本信息" in chinese and "基本信息" not in english
    assert "基本信息" in guide(client, code)


def csrf_field(page: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match, "no CSRF field on the page"
    return match.group(1)


def test_a_plain_visitors_page_is_kept_whole_with_their_own_csrf_token(
        published_items: Catalog) -> None:
    code = published_items.code("id_card")
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    built = first.get(f"/items/{code}/")
    kept = second.get(f"/items/{code}/")

    assert built.status_code == kept.status_code == 200
    assert built.templates and not kept.templates  # the second page was kept, not rendered
    pages = [built.content.decode(), kept.content.decode()]
    assert article(pages[0]) == article(pages[1])
    assert "居民身份证补领 办事指南" in pages[1]
    tokens = [csrf_field(p) for p in pages]
    assert tokens[0] != tokens[1]
    assert all("csrftoken" in c.cookies for c in (first, second))
    # Each visitor's token goes with their own cookie, not with the other's.
    elder = "/accounts/elder-mode/"
    assert second.post(elder, {"csrfmiddlewaretoken": tokens[0], "elder": "on"}).status_code == 403
    assert second.post(elder, {"csrfmiddlewaretoken": tokens[1], "elder": "on",
                               "next": f"/items/{code}/"}).status_code == 302
    # The elder-friendly page is kept apart from the plain one.
    assert 'class="elder"' in second.get(f"/items/{code}/").content.decode()
    assert 'class="elder"' not in first.get(f"/items/{code}/").content.decode()


def test_a_query_string_a_session_or_a_message_gets_its_own_page(published_items: Catalog) -> None:
    code = published_items.code("id_card")
    plain = Client()
    plain.get(f"/items/{code}/")  # kept
    asked = Client().get(f"/items/{code}/", {"from": "search"})
    assert asked.templates and f"/items/{code}/?from=search" in asked.content.decode()
    again = plain.get(f"/items/{code}/")
    assert not again.templates and "?from=search" not in again.content.decode()

    citizen = Client()
    citizen.force_login(make_user("li", Role.CITIZEN, real_name="李丽丽"))
    page = citizen.get(f"/items/{code}/")
    assert page.templates and "李丽丽" in page.content.decode()

    with_message = Client()
    with_message.cookies["messages"] = "anything"
    assert with_message.get(f"/items/{code}/").templates
