"""The public read API of the catalog (no authentication)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.test import Client
from django.utils import timezone

from .conftest import REVIEW_ROUTE, Catalog

pytestmark = pytest.mark.django_db


def get(client: Client, url: str, status: int = 200, **params: Any) -> Any:
    response = client.get(url, params)
    assert response.status_code == status, (url, params, response.content)
    return response.json()


def iso(value: datetime | None) -> str:
    """How the API writes a time: Asia/Shanghai, ISO 8601, milliseconds (Django's encoder)."""
    assert value is not None
    return str(DjangoJSONEncoder().default(timezone.localtime(value)))


def codes(data: dict[str, Any]) -> list[str]:
    return [i["implementation_code"] for i in data["items"]]


# --- /items -----------------------------------------------------------------------------------

def test_items_lists_published_items_with_total_and_pagination(client: Client,
                                                               published_items: Catalog) -> None:
    everything = get(client, "/api/v1/items", limit=100)
    assert everything["total"] == 10
    assert sorted(codes(everything)) == sorted(published_items.code(k) for k in published_items.listed)
    first = get(client, "/api/v1/items", limit=4, offset=0)
    rest = get(client, "/api/v1/items", limit=4, offset=8)
    assert (first["total"], first["limit"], first["offset"]) == (10, 4, 0)
    assert codes(first) == codes(everything)[:4]
    assert codes(rest) == codes(everything)[8:]


def test_item_entry_fields(client: Client, published_items: Catalog) -> None:
    data = get(client, "/api/v1/items", commitment="proxy")
    assert data["total"] == 1
    entry = data["items"][0]
    version = published_items.version("dibao")
    assert entry == {
        "implementation_code": "11620100MB4938944B3000500178000", "basic_code": "000500178000",
        "name": "最低生活保障", "name_highlighted": None, "snippet": None,
        "item_type": "05", "item_type_label": "行政给付",
        "department": "兰州市民政局", "department_uscc": "11620100MB4938944B",
        "receiving_unit": "城关区皋兰路街道便民服务中心",
        "commitment": "proxy", "commitment_label": "代办服务", "committed_limit": 20,
        "committed_limit_unit": "working_days", "committed_limit_unit_label": "工作日",
        "required_visits": 0, "online_depth": 3, "online_depth_label": "Ⅲ 网上受理",
        "service_objects": ["natural_person"], "topics": ["社会保障"], "version": 1,
        "published_at": iso(version.published_at),
    }
    assert entry["published_at"].endswith("+08:00")


@pytest.mark.parametrize(("params", "expected"), [
    ({"commitment": "same_day"}, {"company_cancel", "hukou", "district_cancel"}),
    ({"division": "620102"}, {"district_cancel", "dibao"}),
    ({"division": "620102001000"}, {"dibao"}),
    ({"department": "126201020872796723"}, {"dibao"}),
    ({"department": "11620100MB202820XH"}, {"id_card", "hukou"}),
    ({"item_type": "20"}, {"social_card", "medical", "fund_rent"}),
    ({"service_object": "legal_person"}, {"company_setup", "company_cancel", "district_cancel", "penalty"}),
    ({"topic": "户籍办理"}, {"hukou"}),
    ({"online_depth": "2"}, {"id_card", "hukou"}),
    ({"commitment": "on_the_spot", "online_depth": "4", "service_object": "natural_person"},
     {"medical", "fund_rent"}),
    ({"topic": "没有这个主题"}, set()),
])
def test_items_filters(client: Client, published_items: Catalog, params: dict[str, Any],
                       expected: set[str]) -> None:
    data = get(client, "/api/v1/items", **params)
    assert set(codes(data)) == {published_items.code(k) for k in expected}
    assert data["total"] == len(expected)


@pytest.mark.parametrize(("params", "field", "message"), [
    ({"commitment": "soon"}, "commitment", "承诺类别“soon”无效"),
    ({"item_type": "99"}, "item_type", "事项类型“99”无效"),
    ({"service_object": "robot"}, "service_object", "服务对象“robot”无效"),
    ({"online_depth": "5"}, "online_depth", "网上办理深度“5”无效"),
    ({"division": "999999"}, "division", "行政区划代码“999999”不存在"),
    ({"department": "91000000000000000X"}, "department",
     "部门（统一社会信用代码“91000000000000000X”）不存在"),
    ({"topic": "长" * 51}, "topic", "主题分类过长（最多50个字）"),
    ({"limit": "0"}, "limit", "limit 须在1到100之间"),
    ({"limit": "101"}, "limit", "limit 须在1到100之间"),
    ({"offset": "-1"}, "offset", "offset 不能为负数"),
])
def test_items_bad_filter_is_422_naming_the_parameter(client: Client, published_items: Catalog,
                                                      params: dict[str, str], field: str,
                                                      message: str) -> None:
    data = get(client, "/api/v1/items", status=422, **params)
    assert [p["field"] for p in data["detail"]] == [field]
    assert data["detail"][0]["message"].startswith(message)


def test_items_non_numeric_limit_is_422_naming_it(client: Client, published_items: Catalog) -> None:
    data = get(client, "/api/v1/items", status=422, limit="many")
    assert data["detail"][0]["loc"] == ["query", "limit"]


def test_items_search_is_ranked_and_highlighted(client: Client, published_items: Catalog) -> None:
    data = get(client, "/api/v1/items", q="社保")
    assert data["total"] == 4
    assert data["query"] == "社保"
    assert data["expanded_with"] == ["社会保险", "社会保障"]
    assert data["matched_all_words"] is True
    top = data["items"][0]
    assert top["implementation_code"] == published_items.code("social_card")
    assert top["name_highlighted"] == "<mark>社会保障</mark>卡申领"
    assert top["snippet"].startswith("已在本市参加<mark>社会保险</mark>")
    assert {i["implementation_code"] for i in data["items"][1:]} == {
        published_items.code(k) for k in ("dibao", "company_cancel", "district_cancel")}


def test_items_search_with_filter_and_paging(client: Client, published_items: Catalog) -> None:
    data = get(client, "/api/v1/items", q="社保", service_object="legal_person", limit=1, offset=1)
    assert data["total"] == 2
    assert len(data["items"]) == 1
    assert data["items"][0]["name"] == "企业注销登记"


def test_items_search_escapes_html(client: Client, published_items: Catalog) -> None:
    data = get(client, "/api/v1/items", q="<b>户口</b>")
    assert data["items"][0]["name_highlighted"] == "<mark>户口</mark>迁移（市内迁移）"


@pytest.mark.parametrize(("q", "message"), [
    ("怎么办理", "没有可用于查找的词语，请输入事项名称或关键词"),
    ("zzqxv", "没有找到与“zzqxv”相关的事项"),
])
def test_items_search_without_results_explains(client: Client, published_items: Catalog, q: str,
                                               message: str) -> None:
    data = get(client, "/api/v1/items", q=q)
    assert (data["total"], data["items"], data["message"]) == (0, [], message)


# --- /items/{code} ----------------------------------------------------------------------------

def test_item_detail_is_the_full_guide(client: Client, published_items: Catalog) -> None:
    version = published_items.version("id_card")
    data = get(client, f"/api/v1/items/{published_items.code('id_card')}")
    assert data["published_at"] == iso(version.published_at)
    assert data["published_at"].endswith("+08:00")
    assert data["department"] == {
        "name": "兰州市公安局", "uscc": "11620100MB202820XH", "division_code": "620100",
        "division_name": "兰州市", "level": "city", "level_label": "市级",
        "consultation_phone": "0931-8433105", "complaint_phone": "0931-8918324",
        "address": "兰州市城关区武都路375号",
    }
    expected = {
        "implementation_code": "11620100MB202820XH3000700113003", "basic_code": "000700113003",
        "version": 1, "status": "published", "status_label": "已发布", "is_current": True,
        "name": "居民身份证补领", "item_type": "07", "item_type_label": "行政确认", "level": "city",
        "level_label": "市级", "commitment": "time_limited", "commitment_label": "限时办结",
        "legal_limit": 60, "legal_limit_unit": "natural_days", "legal_limit_unit_label": "自然日",
        "committed_limit": 15, "committed_limit_unit": "natural_days",
        "committed_limit_unit_label": "自然日", "required_visits": 1,
        "visit_reason": "需本人到场采集人像、指纹信息并核验身份", "online_depth": 2,
        "online_depth_label": "Ⅱ 网上预约预审", "handling_forms": ["window", "post"],
        "handling_forms_labels": ["窗口办理", "快递申请"], "charges_fee": True,
        "fee_standard": "居民身份证工本费每证20元", "fee_basis": "《中华人民共和国居民身份证法》第二十条",
        "conditions": "居民身份证丢失的，应当申请补领；可在全国范围内异地申请。",
        "legal_basis": "《中华人民共和国居民身份证法》第十一条", "service_objects": ["natural_person"],
        "service_objects_labels": ["自然人"], "topics": ["证件办理"],
        "location": "户籍所在地公安派出所户籍窗口",
        "office_hours": "周一至周五 9:00-12:00，13:30-17:30（法定节假日除外）",
        "consultation_phone": "0931-8433105", "complaint_phone": "0931-8918324",
        "review_route": REVIEW_ROUTE, "result_type": "licence", "result_type_label": "证照",
        "result_name": "中华人民共和国居民身份证", "receiving_unit": None,
        "special_procedures": "制证及邮寄，约10个自然日", "process": "",
        "materials": [{
            "position": 1, "name": "户口簿", "material_type": "original", "material_type_label": "原件",
            "form": "paper", "form_label": "纸质", "necessity": "required", "necessity_label": "必要",
            "deferrable": False, "source": "government", "source_label": "政府部门核发",
            "licence_type": "居民户口簿", "original_copies": 1, "copy_copies": 0, "notes": "",
            "legal_basis": "",
        }],
        "fees": [{"name": "居民身份证工本费", "amount": "20.00", "unit": "每证",
                  "basis": "国家发展改革委、财政部关于居民身份证工本费标准的规定"}],
        "faqs": [{"question": "补领身份证期间可以乘坐火车吗？",
                  "answer": "可以在派出所申领临时居民身份证，或在车站办理临时乘车身份证明。"}],
    }
    assert {k: v for k, v in data.items() if k not in {"published_at", "department"}} == expected


def test_item_detail_of_a_proxy_item_has_its_receiving_unit(client: Client, published_items: Catalog) -> None:
    data = get(client, f"/api/v1/items/{published_items.code('dibao')}")
    assert data["receiving_unit"]["name"] == "城关区皋兰路街道便民服务中心"
    assert data["receiving_unit"]["division_code"] == "620102001000"
    assert data["receiving_unit"]["level_label"] == "乡镇级"


def test_item_detail_marks_deferrable_materials(client: Client, published_items: Catalog) -> None:
    data = get(client, f"/api/v1/items/{published_items.code('company_setup')}")
    assert [(m["name"], m["necessity_label"], m["deferrable"]) for m in data["materials"]] == [
        ("《公司登记（备案）申请书》", "必要", False), ("公司章程", "必要", False),
        ("住所（经营场所）使用证明", "容缺", True), ("法定代表人居民身份证", "必要", False)]


def test_unknown_item_is_404_in_chinese(client: Client, published_items: Catalog) -> None:
    data = get(client, "/api/v1/items/11620100MB202820XH3000700199999", status=404)
    assert data == {"detail": "没有实施编码为“11620100MB202820XH3000700199999”的事项"}
    draft = published_items.code("draft")
    assert get(client, f"/api/v1/items/{draft}", status=404) == {
        "detail": f"实施编码为“{draft}”的事项尚未发布"}


def test_cancelled_item_is_410(client: Client, published_items: Catalog) -> None:
    code = published_items.code("seal")
    assert get(client, f"/api/v1/items/{code}", status=410) == {"detail": f"实施编码为“{code}”的事项已取消"}


# --- history ----------------------------------------------------------------------------------

def test_versions_list_the_published_history(client: Client, published_items: Catalog) -> None:
    item = published_items.items["hukou"]
    v1, v2 = item.versions.order_by("number")
    data = get(client, f"/api/v1/items/{item.implementation_code}/versions")
    assert data == [
        {"version": 2, "name": "户口迁移（市内迁移）", "status": "published", "status_label": "已发布",
         "is_current": True, "published_at": iso(v2.published_at)},
        {"version": 1, "name": "户口迁移（市内迁移）", "status": "superseded",
         "status_label": "已被新版本取代", "is_current": False,
         "published_at": iso(v1.published_at)},
    ]


def test_a_past_version_can_be_read(client: Client, published_items: Catalog) -> None:
    code = published_items.code("hukou")
    old = get(client, f"/api/v1/items/{code}/versions/1")
    assert (old["version"], old["is_current"], old["status"]) == (1, False, "superseded")
    assert old["office_hours"] == "周一至周五 9:00-12:00，13:30-17:30（法定节假日除外）"
    current = get(client, f"/api/v1/items/{code}/versions/2")
    assert current["office_hours"] == "周一至周六 9:00-17:30（法定节假日除外）"
    missing = get(client, f"/api/v1/items/{code}/versions/3", status=404)
    assert missing == {"detail": "该事项没有已公开的第3版"}


def test_versions_of_unknown_or_draft_items_are_404(client: Client, published_items: Catalog) -> None:
    get(client, "/api/v1/items/nope/versions", status=404)
    get(client, f"/api/v1/items/{published_items.code('draft')}/versions", status=404)
    get(client, f"/api/v1/items/{published_items.code('draft')}/versions/1", status=404)


# --- counts -----------------------------------------------------------------------------------

def test_lists_counts(client: Client, published_items: Catalog) -> None:
    assert get(client, "/api/v1/lists") == {
        "division": None, "department": None, "total": 10, "lists": [
            {"commitment": "on_the_spot", "label": "即收即办", "count": 4},
            {"commitment": "same_day", "label": "当日办结", "count": 3},
            {"commitment": "time_limited", "label": "限时办结", "count": 2},
            {"commitment": "proxy", "label": "代办服务", "count": 1},
        ]}
    district = get(client, "/api/v1/lists", division="620102")
    assert (district["total"], [c["count"] for c in district["lists"]]) == (2, [0, 1, 0, 1])
    police = get(client, "/api/v1/lists", department="11620100MB202820XH")
    assert [c["count"] for c in police["lists"]] == [0, 1, 1, 0]


def test_lists_bad_division_is_422(client: Client, published_items: Catalog) -> None:
    data = get(client, "/api/v1/lists", status=422, division="abc")
    assert data == {"detail": [{"field": "division", "message": "行政区划代码“abc”不存在"}]}


def test_power_list_counts(client: Client, published_items: Catalog) -> None:
    data = get(client, "/api/v1/power-list")
    assert data["total"] == 10
    assert {t["item_type"]: t["count"] for t in data["by_type"]} == {
        "01": 3, "02": 1, "03": 0, "04": 0, "05": 1, "06": 0, "07": 2, "08": 0, "09": 0, "10": 0, "20": 3}
    assert [t["label"] for t in data["by_type"]][:2] == ["行政许可", "行政处罚"]
    market = next(d for d in data["by_department"] if d["department"] == "兰州市市场监督管理局")
    assert market == {"department": "兰州市市场监督管理局", "uscc": "11620100051317876B",
                      "division_code": "620100", "total": 3, "by_type": {"01": 2, "02": 1}}
    district = get(client, "/api/v1/power-list", division="620102")
    assert [(d["department"], d["total"]) for d in district["by_department"]] == [("城关区市场监督管理局", 1)]
    get(client, "/api/v1/power-list", status=422, department="x")


def test_api_needs_no_login_and_is_documented(client: Client, published_items: Catalog) -> None:
    schema = get(client, "/api/v1/openapi.json")
    for path in ("/api/v1/items", "/api/v1/items/{implementation_code}",
                 "/api/v1/items/{implementation_code}/versions", "/api/v1/lists", "/api/v1/power-list"):
        assert "security" not in schema["paths"][path]["get"], path
