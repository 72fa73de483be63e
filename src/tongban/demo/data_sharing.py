"""The demo city's data layer: sharing (filled in by its part of the data layer)."""

from __future__ import annotations


def load_data_sharing() -> None:
    """Nothing yet."""
