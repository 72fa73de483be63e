"""Fixtures of the supervision tests: the case tests' personas and catalog, plus overseers."""

from __future__ import annotations

from tests.cases.conftest import catalog, demo_forms, overseers, people

__all__ = ["catalog", "demo_forms", "overseers", "people"]
