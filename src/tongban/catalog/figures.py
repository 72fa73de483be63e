"""Figures shown beside the catalog's items: the power list's performance over twelve months.

They are counted from cases by electronic supervision, floors above the catalog
(docs/architecture.md, "Floors"). Supervision registers its counter when it starts
(``SupervisionConfig.ready``); the catalog's pages ask here, so their imports point down.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

_item_performance: Callable[..., dict[int, Any]] | None = None


def register_item_performance(counter: Callable[..., dict[int, Any]]) -> None:
    """Called by the supervision app with ``supervision.metrics.item_performance``."""
    global _item_performance
    _item_performance = counter


def item_performance(since: dt.date, until: dt.date, *, item_ids: Iterable[int]) -> dict[int, Any]:
    """Each item's figures from ``since`` to ``until`` by item id (empty without supervision)."""
    if _item_performance is None:
        return {}
    return _item_performance(since, until, item_ids=list(item_ids))
