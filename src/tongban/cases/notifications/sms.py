"""SMS behind an interface: a deployment plugs in its operator's gateway by setting
``TONGBAN_SMS_BACKEND`` to a dotted path of a class with ``send(phone, text)``."""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from tongban.accounts.masking import mask_phone

log = logging.getLogger(__name__)


class SmsBackend(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class LogSmsBackend:
    """Writes messages to the log; the default until a gateway is configured."""

    def send(self, phone: str, text: str) -> None:
        log.info("SMS to %s: %s", mask_phone(phone), text)


class MemorySmsBackend:
    """Keeps messages in memory, for tests (clear ``outbox`` before each)."""

    outbox: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        MemorySmsBackend.outbox.append((phone, text))


def sms_backend() -> SmsBackend:
    backend: SmsBackend = import_string(settings.SMS_BACKEND)()
    return backend
