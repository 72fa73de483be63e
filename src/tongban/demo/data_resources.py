"""The demo city's data layer: resources (filled in by its part of the data layer)."""

from __future__ import annotations


def load_data_resources() -> None:
    """Nothing yet."""
