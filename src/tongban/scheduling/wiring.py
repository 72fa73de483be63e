"""Listeners that turn events of one app into background work of another."""

from __future__ import annotations


def recompute_deadlines_later(years: list[int]) -> None:
    """Called by the clock after a year's official schedule is loaded (on commit): recompute,
    in the background, every open case whose due instant was provisional."""
    from tongban.cases.tasks import recompute_deadlines

    recompute_deadlines.enqueue(sorted(years))
