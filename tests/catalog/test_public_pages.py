"""The public catalog pages: home, the four lists, power list, departments, search and guides."""

from __future__ import annotations

import re
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tongban.catalog.views import public

from .conftest import HOURS, Catalog, _data, _publish

pytestmark = pytest.mark.django_db


class Page(HTMLParser):
    """Collects what the accessibility checks need from one HTML page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.html = html
        self.lang = ""
        self.landmarks: set[str] = set()
        self.controls: list[dict[str, Any]] = []
        self.label_for: set[str] = set()
        self.th_without_scope = 0
        self.tables = 0
        self.tables_in_wrap = 0
        self._wrap_depth: list[bool] = []
        self.rows: list[list[str]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang") or ""
        if tag in {"main", "nav", "header", "footer"}:
            self.landmarks.add(tag)
        if tag in {"input", "select", "textarea"} and a.get("type") not in {"hidden", "submit"}:
            self.controls.append(a)
        if tag == "label" and a.get("for"):
            self.label_for.add(a["for"] or "")
        if tag == "div":
            self._wrap_depth.append("table-wrap" in (a.get("class") or "").split())
        if tag == "table":
            self.tables += 1
            self.tables_in_wrap += any(self._wrap_depth)
        if tag == "th" and not a.get("scope"):
            self.th_without_scope += 1
        if tag == "tr":
            self._row = []
        if tag in {"td", "th"}:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self._wrap_depth:
            self._wrap_depth.pop()
        if tag in {"td", "th"} and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        if tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def text(self) -> str:
        return " ".join(re.sub(r"<[^>]+>", " ", self.html).split())


def get(client: Client, url: str, status: int = 200) -> Page:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return Page(response.content.decode())


def shown(value: datetime | None) -> str:
    """A time as the pages show it: Beijing time, to the minute."""
    assert value is not None
    local = timezone.localtime(value)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def assert_accessible(page: Page) -> None:
    assert page.lang == "zh-CN"
    assert {"main", "nav", "header", "footer"} <= page.landmarks
    unlabelled = [c for c in page.controls if c.get("id") not in page.label_for]
    assert unlabelled == []
    assert page.th_without_scope == 0
    assert page.tables == page.tables_in_wrap  # every table scrolls inside its own wrapper


def item_names(page: Page) -> list[str]:
    """First cell of each body row of the results table (the item's name)."""
    return [row[0] for row in page.rows if row and "事项名称" not in row[0]]


# --- home and lists ---------------------------------------------------------------------------

def test_home_shows_search_lists_topics_and_departments(client: Client, published_items: Catalog) -> None:
    page = get(client, "/")
    text = page.text()
    assert_accessible(page)
    assert "已公布 10 项政务服务事项" in text
    assert "即收即办清单 4 项" in text
    assert "当日办结清单 3 项" in text
    assert "限时办结清单 2 项" in text
    assert "代办服务清单 1 项" in text
    assert "社会保障 (2)" in text
    assert "法人注销 (2)" in text
    assert "兰州市公安局 (2)" in text
    assert "城关区皋兰路街道便民服务中心 (1)" in text  # the 代办 item it receives
    assert 'action="/search/"' in page.html


@pytest.mark.parametrize(("commitment", "expected"), [
    ("on_the_spot", ["企业设立登记", "社会保障卡申领", "城乡居民基本医疗保险参保登记",
                     "住房公积金提取（租赁住房）"]),
    ("same_day", ["企业注销登记", "户口迁移（市内迁移）", "企业注销登记"]),
    ("time_limited", ["对未取得食品经营许可从事食品经营活动的行政处罚", "居民身份证补领"]),
    ("proxy", ["最低生活保障 代办受理：城关区皋兰路街道便民服务中心"]),
])
def test_each_list_shows_only_its_published_items(client: Client, published_items: Catalog,
                                                  commitment: str, expected: list[str]) -> None:
    page = get(client, f"/lists/{commitment}/")
    assert_accessible(page)
    assert sorted(item_names(page)) == sorted(expected)
    assert f"共 {len(expected)} 项" in page.text()
    assert "公章刻制备案" not in page.html  # cancelled
    assert "无犯罪记录证明开具" not in page.html  # draft


def test_unknown_list_is_404(client: Client, published_items: Catalog) -> None:
    get(client, "/lists/tomorrow/", status=404)


def test_list_tabs_show_counts_under_the_current_filter(client: Client, published_items: Catalog) -> None:
    page = get(client, "/lists/same_day/?division=620102")
    text = page.text()
    assert "即收即办清单 (0)" in text
    assert "当日办结清单 (1)" in text
    assert "代办服务清单 (1)" in text
    assert 'href="/lists/proxy/?division=620102"' in page.html


@pytest.mark.parametrize(("url", "expected"), [
    # A division includes its sub-divisions; a 代办 item counts where it is received, too.
    ("/lists/same_day/?division=620102", ["企业注销登记"]),
    ("/lists/proxy/?division=620102", ["最低生活保障 代办受理：城关区皋兰路街道便民服务中心"]),
    ("/lists/proxy/?division=620103", []),
    ("/lists/same_day/?division=620100", ["企业注销登记", "户口迁移（市内迁移）", "企业注销登记"]),
    ("/lists/proxy/?department=126201020872796723",
     ["最低生活保障 代办受理：城关区皋兰路街道便民服务中心"]),
    ("/lists/on_the_spot/?department=11620100051317876B", ["企业设立登记"]),
    ("/lists/time_limited/?item_type=02", ["对未取得食品经营许可从事食品经营活动的行政处罚"]),
    ("/lists/on_the_spot/?service_object=legal_person", ["企业设立登记"]),
    ("/lists/time_limited/?service_object=legal_person",
     ["对未取得食品经营许可从事食品经营活动的行政处罚"]),
    ("/lists/on_the_spot/?topic=住房保障", ["住房公积金提取（租赁住房）"]),
    ("/lists/on_the_spot/?online_depth=3", ["社会保障卡申领"]),
    ("/items/?commitment=same_day&service_object=natural_person", ["户口迁移（市内迁移）"]),
    ("/items/?topic=社会保障", ["社会保障卡申领",
                               "最低生活保障 代办受理：城关区皋兰路街道便民服务中心"]),
])
def test_filters_narrow_the_list(client: Client, published_items: Catalog, url: str,
                                 expected: list[str]) -> None:
    page = get(client, url)
    assert sorted(item_names(page)) == sorted(expected)


def test_invalid_filter_values_are_reported_and_ignored(client: Client, published_items: Catalog) -> None:
    page = get(client, "/lists/time_limited/?item_type=99&division=999999&online_depth=七")
    text = page.text()
    assert "以下筛选条件无效，已忽略" in text
    assert "item_type ：事项类型“99”无效" in text
    assert "division ：行政区划代码“999999”不存在" in text
    assert "online_depth ：网上办理深度“七”无效" in text
    assert len(item_names(page)) == 2


def test_lists_are_paginated_and_pages_keep_the_filters(client: Client, published_items: Catalog,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(public, "PAGE_SIZE", 2)
    first = get(client, "/items/?service_object=natural_person")
    second = get(client, "/items/?service_object=natural_person&page=2")
    assert "第 1 / 4 页" in first.text()
    assert 'href="?service_object=natural_person&amp;page=2"' in first.html
    assert len(item_names(first)) == 2
    assert len(item_names(second)) == 2
    assert set(item_names(first)).isdisjoint(item_names(second))
    assert 'href="?service_object=natural_person&amp;page=1"' in second.html


def test_lists_overview_counts_per_division(client: Client, published_items: Catalog) -> None:
    page = get(client, "/lists/")
    assert_accessible(page)
    rows = {row[0]: row[1:] for row in page.rows if row}
    # columns: 即收即办, 当日办结, 限时办结, 代办服务, 合计
    assert rows["兰州市"] == ["4", "3", "2", "1", "10"]
    assert rows["城关区"] == ["0", "1", "0", "1", "2"]
    assert rows["皋兰路街道"] == ["0", "0", "0", "1", "1"]
    assert "七里河区" not in rows


# --- power list and departments ---------------------------------------------------------------

def test_power_list_counts_by_type_and_department(client: Client, published_items: Catalog) -> None:
    page = get(client, "/power-list/")
    assert_accessible(page)
    rows = {row[0]: row[1:] for row in page.rows if row}
    assert rows["行政许可"] == ["01", "3"]
    assert rows["行政处罚"] == ["02", "1"]
    assert rows["行政给付"] == ["05", "1"]
    assert rows["行政确认"] == ["07", "2"]
    assert rows["公共服务"] == ["20", "3"]
    assert rows["其他行政权力"] == ["10", "0"]  # 公章刻制备案 was cancelled
    assert rows["合计"] == ["", "10"]
    # by department: columns are the types present (01, 02, 05, 07, 20) and the total
    assert rows["兰州市市场监督管理局"] == ["2", "1", "", "", "", "3"]
    assert rows["兰州市公安局"] == ["", "", "", "2", "", "2"]
    assert "城关区皋兰路街道便民服务中心" not in rows  # receives, does not implement


def test_power_list_filtered_by_type_shows_legal_basis(client: Client, published_items: Catalog) -> None:
    page = get(client, "/power-list/?item_type=02")
    text = page.text()
    assert "事项明细（1 项）" in text
    assert "《中华人民共和国食品安全法》第一百二十二条" in text
    assert published_items.code("penalty") in text


def test_department_index_and_page(client: Client, published_items: Catalog) -> None:
    index = get(client, "/departments/")
    assert_accessible(index)
    rows = {row[0]: row[1:] for row in index.rows if row}
    assert rows["兰州市市场监督管理局"] == ["1", "1", "1", "0", "3"]
    assert rows["城关区皋兰路街道便民服务中心"] == ["0", "0", "0", "1", "1"]

    page = get(client, "/departments/11620100051317876B/")
    assert_accessible(page)
    text = page.text()
    assert "兰州市市场监督管理局" in text and "0931-8619275" in text
    assert "即收即办清单（1 项）" in text
    assert "当日办结清单（1 项）" in text
    assert "限时办结清单（1 项）" in text
    assert "代办服务清单（0 项）" in text
    centre = get(client, "/departments/126201020872796723/").text()
    assert "代办服务清单（1 项）" in centre and "最低生活保障" in centre
    assert "上级部门" not in centre
    get(client, "/departments/000000000000000000/", status=404)


# --- search -----------------------------------------------------------------------------------

def test_search_page_ranks_and_highlights(client: Client, published_items: Catalog) -> None:
    page = get(client, "/search/?q=社保")
    assert_accessible(page)
    text = page.text()
    assert "找到 4 项与“社保”相关的事项" in text
    assert "同时查找了同义词：社会保险、社会保障" in text
    assert item_names(page)[0].startswith("社会保障卡申领")
    assert "<mark>社会保障</mark>卡申领" in page.html


def test_search_can_be_filtered(client: Client, published_items: Catalog) -> None:
    page = get(client, "/search/?q=社保&service_object=legal_person")
    assert [n.split(" ")[0] for n in item_names(page)] == ["企业注销登记", "企业注销登记"]


def test_search_without_words_explains_what_to_do(client: Client, published_items: Catalog) -> None:
    assert "请输入要查找的事项名称或关键词" in get(client, "/search/").text()
    assert "没有可用于查找的词语" in get(client, "/search/?q=怎么办理").text()
    assert "没有找到与“zzqxv”相关的事项" in get(client, "/search/?q=zzqxv").text()


def test_search_escapes_the_query(client: Client, published_items: Catalog) -> None:
    page = get(client, "/search/?q=<script>alert(1)</script>")
    assert "<script>alert(1)</script>" not in page.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.html


# --- service guide ----------------------------------------------------------------------------

def test_guide_shows_every_field(client: Client, published_items: Catalog) -> None:
    version = published_items.version("id_card")
    page = get(client, f"/items/{published_items.code('id_card')}/")
    assert_accessible(page)
    text = page.text()
    published = shown(version.published_at)
    for expected in [
        "居民身份证补领 办事指南", "实施编码 11620100MB202820XH3000700113003", "基本编码 000700113003",
        "事项类型 行政确认", "实施主体 兰州市公安局", "行使层级 市级", "服务对象 自然人",
        "主题分类 证件办理", "限时办结清单", "法定办结时限 60个自然日", "承诺办结时限 15个自然日",
        "到现场次数 1 次", "必须现场办理原因 需本人到场采集人像、指纹信息并核验身份",
        "网上办理深度 Ⅱ 网上预约预审", "办理形式 窗口办理、快递申请", "特别程序 制证及邮寄，约10个自然日",
        "居民身份证丢失的，应当申请补领", "是否收费 是", "收费标准 居民身份证工本费每证20元",
        "收费依据 《中华人民共和国居民身份证法》第二十条", "《中华人民共和国居民身份证法》第十一条",
        "审批结果类型 证照", "审批结果名称 中华人民共和国居民身份证",
        "办理地点 户籍所在地公安派出所户籍窗口", f"办理时间 {HOURS}", "咨询电话 0931-8433105",
        "监督投诉电话 0931-8918324", "行政复议/诉讼途径 对办理结果不服的",
        "补领身份证期间可以乘坐火车吗？", "可以在派出所申领临时居民身份证", f"第 1 版 · 发布时间 {published}",
    ]:
        assert expected in text, expected
    assert ["居民身份证工本费", "20.00", "每证",
            "国家发展改革委、财政部关于居民身份证工本费标准的规定"] in page.rows
    assert ["1", "户口簿", "原件", "纸质", "必要", "政府部门核发", "居民户口簿", "1", "0", "无",
            "无"] in page.rows
    assert 'data-print' in page.html
    assert "此为历史版本" not in text


def test_guide_marks_deferrable_materials(client: Client, published_items: Catalog) -> None:
    page = get(client, f"/items/{published_items.code('company_setup')}/")
    assert ["3", "住所（经营场所）使用证明", "复印件", "纸质", "容缺", "申请人自备", "无", "0", "1",
            "可先书面承诺，3个工作日内补交", "无"] in page.rows
    assert '<strong class="badge badge-deferrable">容缺</strong>' in page.html
    assert page.html.count('class="deferrable"') == 1
    assert "承诺办结时限 0个工作日（当场办结）" in page.text()
    assert "到现场次数 0 次（零跑动）" in page.text()


def test_guide_of_a_proxy_item_names_the_receiving_unit(client: Client, published_items: Catalog) -> None:
    text = get(client, f"/items/{published_items.code('dibao')}/").text()
    assert "代办受理单位 城关区皋兰路街道便民服务中心 （兰州市城关区皋兰路128号）" in text
    assert "特别程序 入户调查及审核结果公示，公示期7日" in text


def test_cancelled_item_says_so(client: Client, published_items: Catalog) -> None:
    response = client.get(f"/items/{published_items.code('seal')}/")
    assert response.status_code == 410
    text = Page(response.content.decode()).text()
    assert "公章刻制备案：该事项已取消" in text
    assert "已取消，不再受理" in text


def test_unknown_and_unpublished_items_are_404(client: Client, published_items: Catalog) -> None:
    assert client.get("/items/11620100MB202820XH3000700199999/").status_code == 404
    assert client.get(f"/items/{published_items.code('draft')}/").status_code == 404
    assert client.get(f"/items/{published_items.code('draft')}/versions/").status_code == 404


def test_history_lists_published_versions_with_dates(client: Client, published_items: Catalog) -> None:
    item = published_items.items["hukou"]
    page = get(client, f"/items/{item.implementation_code}/versions/")
    assert_accessible(page)
    v1, v2 = item.versions.order_by("number")
    assert [r for r in page.rows if r and r[0].startswith("第")] == [
        ["第 2 版", "户口迁移（市内迁移）", shown(v2.published_at), "现行版本"],
        ["第 1 版", "户口迁移（市内迁移）", shown(v1.published_at), "已被新版本取代"],
    ]


def test_a_past_version_is_marked_as_not_current(client: Client, published_items: Catalog) -> None:
    code = published_items.code("hukou")
    old = get(client, f"/items/{code}/versions/1/").text()
    assert "此为历史版本，不是现行版本。 第 1 版（已被新版本取代）" in old
    assert f"办理时间 {HOURS}" in old
    current = get(client, f"/items/{code}/versions/2/").text()
    assert "此为历史版本" not in current
    assert "办理时间 周一至周六 9:00-17:30（法定节假日除外）" in current


def test_drafts_are_not_in_the_public_history(client: Client, published_items: Catalog) -> None:
    from tongban.catalog import services

    data = services.version_to_data(published_items.version("id_card"))
    draft = services.item_save_draft(actor=published_items.actor, data=data, change_note="草稿")
    code = published_items.code("id_card")
    assert client.get(f"/items/{code}/versions/{draft.number}/").status_code == 404
    history = get(client, f"/items/{code}/versions/").text()
    assert "第 2 版" not in history


def test_cancelled_item_history_stays_readable(client: Client, published_items: Catalog) -> None:
    code = published_items.code("seal")
    assert "已取消" in get(client, f"/items/{code}/versions/").text()
    old = get(client, f"/items/{code}/versions/1/").text()
    assert "此为历史版本" in old and "该事项已取消，不再受理。" in old


# --- budgets and layout -----------------------------------------------------------------------

LIST_PAGES = ["/", "/lists/", "/lists/on_the_spot/", "/lists/proxy/?division=620102&topic=社会保障",
              "/items/?service_object=natural_person&online_depth=4", "/search/?q=社保 卡",
              "/power-list/", "/power-list/?department=11620100051317876B", "/departments/",
              "/departments/11620100051317876B/"]


def test_list_pages_stay_within_a_query_budget_as_the_catalog_grows(
        client: Client, published_items: Catalog, django_assert_max_num_queries: Any) -> None:
    for url in LIST_PAGES:
        with django_assert_max_num_queries(12):
            assert client.get(url).status_code == 200
    market = published_items.departments["market"]
    for n in range(25):
        _publish(published_items.actor, _data(
            market, f"6201{n + 100:08d}", name=f"食品经营许可（第{n}类）", item_type="01",
            commitment="time_limited", legal_limit=20, committed_limit=5, required_visits=1,
            visit_reason="现场核查经营场所", online_depth=3, handling_forms=["window", "online"],
            service_objects=["legal_person"], topics=["准营准办", f"主题{n}"], result_type="licence",
            result_name="食品经营许可证"))
    for url in LIST_PAGES:
        with django_assert_max_num_queries(12):
            assert client.get(url).status_code == 200


def test_guide_page_query_count(client: Client, published_items: Catalog,
                                django_assert_max_num_queries: Any) -> None:
    with django_assert_max_num_queries(8):
        client.get(f"/items/{published_items.code('id_card')}/")


def test_stylesheet_has_print_and_phone_rules() -> None:
    css = (Path(public.__file__).resolve().parents[2] / "static" / "css" / "site.css").read_text()
    assert "@media print" in css
    assert "@media (max-width" in css
    assert ".table-wrap" in css


@pytest.mark.django_db
def test_the_filter_forms_places_are_kept_and_a_renamed_department_shows_at_once(
        client: Client, published_items: Catalog) -> None:
    client.get("/search/", {"q": "身份证"})
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/search/", {"q": "身份证"}).content.decode()
    read = " ".join(q["sql"] for q in queries)
    assert 'FROM "organizations_department"' not in read
    assert 'FROM "organizations_division"' not in read
    department = published_items.version("id_card").item.department
    assert f">{department.name}</option>" in page

    department.name = "兰州市公安局（更名后）"
    department.save()
    assert ">兰州市公安局（更名后）</option>" in client.get("/search/", {"q": "身份证"}).content.decode()
