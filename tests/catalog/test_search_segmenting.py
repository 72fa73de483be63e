"""Segmenting run by run, with the runs' words remembered, gives what jieba gives for the whole
text: an imported catalog's search index is the same as before."""

from __future__ import annotations

import jieba
import pytest

from tests.catalog.test_workbook import import_demo
from tongban.catalog import search
from tongban.catalog.models import SearchEntry


def whole(text: str) -> list[str]:
    """jieba over the whole text, as the index was built before."""
    return [t for t in jieba.cut_for_search(text, HMM=False) if t.strip() and (len(t) > 1 or t.isalnum())]


@pytest.mark.parametrize("text", [
    "", "   ", "残疾人证新办", "居民身份证补领（第2次）", "Ⅱ级 abc-123 社保卡（补办）", "a.b_c%d+e#f&g",
    "ＡＢＣ全角字母", "营业执照\n变更\r\n登记", "兰州市城关区皋兰路128号 兰州市政务服务中心",
])
def test_the_words_are_jiebas_own(text: str) -> None:
    assert search.segment(text) == whole(text)
    assert search.segment(text) == whole(text)  # and again, from what was remembered


@pytest.mark.django_db
def test_an_imported_catalog_is_indexed_as_jieba_segments_it_whole() -> None:
    import_demo()
    entries = list(SearchEntry.objects.select_related("item__current", "item__department",
                                                      "item__current__receiving_unit"))
    assert len(entries) > 200
    for entry in entries:
        version, item = entry.item.current, entry.item
        assert version is not None
        body = " ".join([
            version.name, item.department.name, " ".join(version.topics), version.conditions,
            version.result_name, version.location,
            version.receiving_unit.name if version.receiving_unit else "",
            " ".join(faq.question for faq in version.faqs.all()),
        ])
        assert entry.name_tokens == " ".join(whole(version.name))
        assert entry.tokens == " ".join(whole(body))
