"""The case personas, the demo catalog and the API client of the case tests serve here too."""

from tests.cases.conftest import api, catalog, overseers, people

__all__ = ["api", "catalog", "overseers", "people"]
