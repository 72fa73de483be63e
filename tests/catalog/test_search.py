"""Chinese search: segmentation, synonyms, ranking, highlighting and keeping the index in sync."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tongban.catalog import search, services
from tongban.catalog.models import Item, SearchEntry, Synonym

from .conftest import Catalog


def names(catalog: Catalog, text: str) -> list[str]:
    """Names of the hits, best first."""
    by_id = {item.pk: item for item in catalog.items.values()}
    return [by_id[h.item_id].current.name for h in search.search(text).hits]  # type: ignore[union-attr]


def keys(catalog: Catalog, text: str) -> list[str]:
    by_id = {item.pk: key for key, item in catalog.items.items()}
    return [by_id[h.item_id] for h in search.search(text).hits]


# --- segmentation and parsing -----------------------------------------------------------------

def test_segment_yields_the_word_and_its_parts_and_drops_punctuation() -> None:
    assert search.segment("社会保险，户口") == ["社会", "保险", "社会保险", "户口"]


@pytest.mark.django_db
def test_default_synonyms_are_seeded_by_the_migration() -> None:
    seeded = {s.term: s.synonym_list() for s in Synonym.objects.all()}
    assert seeded["社保"] == ["社会保险", "社会保障"]
    assert seeded["户口"] == ["户籍"]
    assert seeded["医保"] == ["医疗保险", "医疗保障"]
    assert seeded["身份证"] == ["居民身份证"]
    assert seeded["公积金"] == ["住房公积金"]
    assert seeded["营业执照"] == ["企业设立登记", "个体工商户设立登记"]
    assert seeded["低保"] == ["最低生活保障"]


@pytest.mark.django_db
def test_query_is_expanded_with_synonyms_in_both_directions() -> None:
    forward = search.parse_query("社保")
    assert [a.phrase for a in forward.groups[0].alternatives] == ["社保", "社会保险", "社会保障"]
    backward = search.parse_query("最低生活保障")
    assert [a.phrase for a in backward.groups[0].alternatives] == ["最低生活保障", "低保"]


@pytest.mark.django_db
def test_stopwords_and_punctuation_leave_an_empty_query() -> None:
    assert search.parse_query("").is_empty
    assert search.parse_query("   ").is_empty
    assert search.parse_query("怎么办理？").is_empty
    assert [g.word for g in search.parse_query("我要办理身份证").groups] == ["身份证"]


# --- results ----------------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize(("query", "first"), [
    ("社保", "社会保障卡申领"),
    ("户口", "户口迁移（市内迁移）"),
    ("医保", "城乡居民基本医疗保险参保登记"),
    ("公积金", "住房公积金提取（租赁住房）"),
    ("低保", "最低生活保障"),
    ("身份证", "居民身份证补领"),
    ("营业执照", "企业设立登记"),
])
def test_short_everyday_words_find_the_item(published_items: Catalog, query: str, first: str) -> None:
    assert names(published_items, query)[0] == first


@pytest.mark.django_db
def test_name_matches_rank_above_body_matches(published_items: Catalog) -> None:
    # 社会保障卡申领 has the word in its name; the others only in conditions, topics or
    # department (社会保险费, 主题 社会保障, 人力资源和社会保障局).
    ranked = keys(published_items, "社保")
    assert ranked[0] == "social_card"
    assert set(ranked[1:]) == {"dibao", "company_cancel", "district_cancel"}
    hits = search.search("社保").hits
    assert hits[0].name_groups == 1
    assert all(h.name_groups == 0 for h in hits[1:])


@pytest.mark.django_db
def test_words_inside_longer_words_are_found(published_items: Catalog) -> None:
    # 社会保险费 is one word to jieba; the query 社会保险 still finds it through 社会 + 保险.
    assert {"company_cancel", "district_cancel"} <= set(keys(published_items, "社会保险"))


@pytest.mark.django_db
def test_every_word_must_match_when_some_item_has_all(published_items: Catalog) -> None:
    assert keys(published_items, "身份证 补领") == ["id_card"]
    assert sorted(keys(published_items, "企业 注销")) == ["company_cancel", "district_cancel"]


@pytest.mark.django_db
def test_any_word_is_accepted_when_no_item_has_all(published_items: Catalog) -> None:
    result = search.search("身份证 离婚")
    assert result.matched_all is False
    assert [h.item_id for h in result.hits] == [published_items.items["id_card"].pk]


@pytest.mark.django_db
def test_draft_and_cancelled_items_are_not_found(published_items: Catalog) -> None:
    assert search.search("无犯罪记录证明").hits == []  # only a draft
    assert search.search("公章刻制").hits == []  # cancelled


@pytest.mark.django_db
@pytest.mark.parametrize("query", [
    "zzqxv", '"社保', "社保 OR NEAR(", "*", "AND", "'; DROP TABLE catalog_item; --", "户口\\",
    "x" * 500, "（）【】", "123",
])
def test_odd_queries_return_normally(published_items: Catalog, query: str) -> None:
    result = search.search(query)
    assert isinstance(result.hits, list)
    assert Item.objects.count() == len(published_items.items)


@pytest.mark.django_db
def test_synonyms_edited_by_the_bureau_apply_at_once(published_items: Catalog) -> None:
    assert search.search("户口本").hits == []
    Synonym.objects.create(term="户口本", synonyms="户口簿")
    assert keys(published_items, "户口本") == ["hukou"]  # 审批结果名称 户口簿登记页
    Synonym.objects.create(term="注销登记", synonyms="关门歇业")
    assert set(keys(published_items, "关门歇业")) == {"company_cancel", "district_cancel"}


@pytest.mark.django_db
def test_the_synonyms_are_read_once_and_edits_and_deletions_apply_at_once(
        published_items: Catalog) -> None:
    search.search("户口本")
    with CaptureQueriesContext(connection) as queries:
        assert search.search("户口本").hits == []
    assert not [q for q in queries if "catalog_synonym" in q["sql"]]

    synonym = Synonym.objects.create(term="户口本", synonyms="身份证")
    assert "hukou" not in keys(published_items, "户口本")
    synonym.synonyms = "户口簿"
    synonym.save()
    assert keys(published_items, "户口本") == ["hukou"]
    synonym.delete()
    assert search.search("户口本").hits == []


# --- highlighting -----------------------------------------------------------------------------

@pytest.mark.django_db
def test_highlight_marks_matches_and_escapes_everything_else() -> None:
    query = search.parse_query("社保")
    assert search.highlight("社会保障卡申领", query) == "<mark>社会保障</mark>卡申领"
    assert (search.highlight("<b>社保</b> & 社会保险", query)
            == "&lt;b&gt;<mark>社保</mark>&lt;/b&gt; &amp; <mark>社会保险</mark>")
    assert search.highlight("<i>无关</i>", query) == "&lt;i&gt;无关&lt;/i&gt;"


@pytest.mark.django_db
def test_snippet_shows_the_text_around_the_first_match() -> None:
    query = search.parse_query("社保")
    text = ("企业已依法完成清算，债权债务已清偿完结，已结清应缴税款、社会保险费，"
            "无未办结的行政许可、行政处罚等事项。")
    snippet = search.snippet(text, query, width=20)
    assert snippet == "…清应缴税款、<mark>社会保险</mark>费，无未办结的行政许…"
    assert search.snippet("无关内容", query) == ""


# --- keeping the index in sync ----------------------------------------------------------------

@pytest.mark.django_db
def test_publishing_a_new_version_replaces_the_indexed_text(published_items: Catalog) -> None:
    def name_hits(text: str) -> dict[str, int]:
        by_id = {item.pk: key for key, item in published_items.items.items()}
        return {by_id[h.item_id]: h.name_groups for h in search.search(text).hits}

    data = services.version_to_data(published_items.version("fund_rent"))
    data.name = "住房公积金提取（房租）"
    draft = services.item_save_draft(actor=published_items.actor, data=data)
    assert name_hits("房租") == {}  # the draft is not public yet
    assert name_hits("租赁") == {"fund_rent": 1}
    services.version_submit(actor=published_items.actor, version=draft)
    services.version_review(actor=published_items.actor, version=draft, approve=True)
    assert name_hits("房租") == {"fund_rent": 1}
    assert name_hits("租赁") == {"fund_rent": 0}  # only 受理条件 still says 租赁住房


@pytest.mark.django_db
def test_cancelling_removes_the_item_from_search(published_items: Catalog) -> None:
    assert keys(published_items, "城乡居民 医疗保险") == ["medical"]
    services.item_cancel(actor=published_items.actor, item=published_items.items["medical"],
                         reason="职能调整")
    assert search.search("城乡居民 医疗保险").hits == []


@pytest.mark.django_db
def test_reindex_search_command_rebuilds_everything(published_items: Catalog) -> None:
    SearchEntry.objects.all().delete()
    assert search.search("社保").hits == []
    out = StringIO()
    call_command("reindex_search", stdout=out)
    assert out.getvalue().strip() == f"搜索索引已重建：{len(published_items.listed)} 个事项"
    assert keys(published_items, "社保")[0] == "social_card"


@pytest.mark.django_db
def test_reindex_search_restores_a_lost_sqlite_index(published_items: Catalog) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the FTS5 table and its triggers exist on SQLite only")
    with connection.cursor() as cursor:
        for trigger in ("ai", "ad", "au"):
            cursor.execute(f"DROP TRIGGER catalog_searchentry_fts_{trigger}")
        cursor.execute("DROP TABLE catalog_search_fts")
    call_command("reindex_search", stdout=StringIO())
    assert keys(published_items, "户口")[0] == "hukou"
    # The triggers are back: cancelling removes the item without another rebuild.
    services.item_cancel(actor=published_items.actor, item=published_items.items["hukou"], reason="测试")
    assert "hukou" not in keys(published_items, "户口")


@pytest.mark.django_db
def test_the_database_has_its_full_text_index() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'catalog_search_fts'")
            assert "fts5" in cursor.fetchone()[0].lower()
        else:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [search.PG_INDEX])
            definition = cursor.fetchone()[0]
            assert "USING gin" in definition
            assert "to_tsvector('simple'::regconfig, name_tokens)" in definition
