"""Messages go to Django's in-memory mail outbox and the in-memory SMS backend."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cases.conftest import catalog, people  # noqa: F401  (fixtures used here)
from tongban.cases.notifications.sms import MemorySmsBackend


@pytest.fixture(autouse=True)
def _outboxes(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_BACKEND = "tongban.cases.notifications.sms.MemorySmsBackend"
    MemorySmsBackend.outbox.clear()
