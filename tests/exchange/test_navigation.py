"""The data layer's links: every visitor finds the catalog; review links only for the bureau."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser

from tongban.accounts.models import User
from tongban.accounts.navigation import links_for

pytestmark = pytest.mark.django_db


def labels(user: object) -> set[str]:
    return {str(link["label"]) for link in links_for(SimpleNamespace(user=user, path="/"))}


def test_the_bureau_reviews_a_department_drafts_and_everyone_reads_the_catalog(
        bureau_data_officer: User, police_data_officer: User) -> None:
    assert {"本部门资源", "资源审核", "数源确认", "数据共享", "数据元管理", "数据普查"} <= labels(
        bureau_data_officer)
    police = labels(police_data_officer)
    assert {"本部门资源", "数据共享", "数据元管理"} <= police
    assert not {"资源审核", "数源确认", "数据普查"} & police
    assert {"数据资源目录", "数据元"} <= labels(AnonymousUser())
