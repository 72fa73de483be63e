"""The demo city's data layer: elements (filled in by its part of the data layer)."""

from __future__ import annotations


def load_data_elements() -> None:
    """Nothing yet."""
