"""Chinese full-text search over the published catalog.

Text is segmented with jieba (search mode, so 社会保险 also yields 社会 and 保险) and stored in
:class:`SearchEntry`. The index itself is SQLite FTS5 or PostgreSQL tsvector — see the
``query`` side below and the migration that creates the FTS5 table.
"""

from __future__ import annotations

from collections.abc import Iterable

import jieba

from .models import Item, SearchEntry, VersionStatus

jieba.setLogLevel(60)  # jieba logs its dictionary loading at INFO on every process start


def segment(text: str) -> list[str]:
    """Search-mode segmentation; single characters of punctuation and space are dropped."""
    return [t for t in jieba.cut_for_search(text or "") if t.strip() and (len(t) > 1 or t.isalnum())]


def reindex_items(item_ids: Iterable[int]) -> None:
    """Rebuild the search entries of these items from their current published version."""
    ids = list(item_ids)
    if not ids:
        return
    items = Item.objects.filter(pk__in=ids).select_related("current", "department")
    SearchEntry.objects.filter(item_id__in=ids).delete()
    entries = []
    for item in items:
        version = item.current
        if version is None or version.status != VersionStatus.PUBLISHED:
            continue
        body = " ".join([
            version.name, item.department.name, " ".join(version.topics), version.conditions,
            version.result_name, version.location,
        ])
        entries.append(SearchEntry(item=item, name_tokens=" ".join(segment(version.name)),
                                   tokens=" ".join(segment(body))))
    SearchEntry.objects.bulk_create(entries)
