"""``tongban reindex_search``: rebuild the catalog's full-text index from the published items.

Also re-creates the database's full-text structures (SQLite FTS5 table and triggers, PostgreSQL
GIN index) if they are missing. Safe to run at any time; the result is the same every time.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _

from tongban.catalog import search


class Command(BaseCommand):
    help = "重建事项搜索索引（只收录现行版本已发布的事项）"

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            count = search.reindex_all()
        self.stdout.write(_("搜索索引已重建：%(n)s 个事项") % {"n": count})
