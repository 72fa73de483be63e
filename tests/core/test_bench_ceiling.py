"""The ceiling views of benchmarks/http_bench.py are not part of the served site unless
TONGBAN_BENCH_CEILING mounts them."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
def test_the_ceiling_views_are_not_served_by_default(client: Client) -> None:
    assert client.get("/_bench/constant").status_code == 404
    assert client.get("/_bench/one-row?id=1").status_code == 404


def test_the_ceiling_views_declare_their_access() -> None:
    from tongban import bench
    from tongban.core.access import ACCESS_ATTR

    assert [getattr(p.callback, ACCESS_ATTR) for p in bench.urlpatterns] == ["public", "public"]
