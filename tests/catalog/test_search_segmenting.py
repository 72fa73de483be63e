"""Segmenting run by run, with the runs' words remembered, gives what jieba gives for the whole
text: an imported catalog's search index is the same as before."""

from __future__ import annotations

import jieba
import pytest

from tests.catalog.test_workbook import import_demo
from tongban.catalog import search, segmentation
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


def entries() -> list[tuple[int, str, str]]:
    return list(SearchEntry.objects.order_by("item_id").values_list("item_id", "name_tokens", "tokens"))


def test_segmenting_in_worker_processes_gives_the_same_words_in_the_same_order() -> None:
    texts = [(f"居民身份证补领（第{n}次）",
              f"兰州市城关区皋兰路{n}号 残疾人证新办 Ⅱ级 abc-{n} 社保卡（补办）") for n in range(300)]
    batches = [texts[i:i + 37] for i in range(0, len(texts), 37)]
    serial: list[list[tuple[str, str]]] = []
    with segmentation.Segmenter(expected=len(texts), workers=1) as segmenter:
        assert not segmenter.parallel
        for batch in batches:
            segmenter.submit(batch, serial.append)
    parallel: list[list[tuple[str, str]]] = []
    with segmentation.Segmenter(expected=segmentation.PARALLEL_MIN, workers=2) as segmenter:
        assert segmenter.parallel
        for batch in batches:
            segmenter.submit(batch, parallel.append)
    assert parallel == serial
    assert serial[0][0] == (" ".join(whole(texts[0][0])), " ".join(whole(texts[0][1])))


@pytest.mark.django_db
def test_the_index_built_in_worker_processes_is_the_serial_one(monkeypatch: pytest.MonkeyPatch) -> None:
    import_demo()
    serial = entries()
    assert len(serial) > 200
    started: list[bool] = []
    real = segmentation.Segmenter.__init__

    def two_workers(self: segmentation.Segmenter, *, expected: int, workers: int | None = None) -> None:
        real(self, expected=segmentation.PARALLEL_MIN, workers=2)
        started.append(self.parallel)

    monkeypatch.setattr(segmentation.Segmenter, "__init__", two_workers)
    monkeypatch.setattr(search, "REINDEX_BATCH", 40)  # several batches in flight at once
    search.reindex_all()
    assert started == [True]
    assert entries() == serial
    assert search.search(serial[0][1].split()[0]).hits
