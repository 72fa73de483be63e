"""Tests of the queue itself use the database backend, as ``tongban worker`` does."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def database_queue(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend",
                                  "QUEUES": ["default"]}}
