"""Shared fixtures: named personas and the demo catalog.

Tests run on SQLite by default and on PostgreSQL when TONGBAN_DATABASE_URL points at one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tongban.accounts.models import Role, User

REPO = Path(__file__).resolve().parent.parent
DEMO_WORKBOOK = REPO / "src" / "tongban" / "catalog" / "data" / "demo-catalog.xlsx"


def make_user(username: str, role: str, **extra: object) -> User:
    user = User.objects.create_user(username=username, password="secret-pass-123", role=role,
                                    real_name=extra.pop("real_name", username), **extra)
    return user


@pytest.fixture
def admin_user(db: None) -> User:
    """The bureau administrator (政务服务管理局) who maintains the catalog."""
    return make_user("bureau", Role.ADMIN)


@pytest.fixture
def citizen(db: None) -> User:
    return make_user("citizen", Role.CITIZEN, id_number="620102199001011233")
