"""Telling people of something that happened on a floor below the notifications.

Notifications (in-app inbox, email, SMS) live with cases; the data layer and other apps below it
cannot import them. Such an app *announces* — who is to be told, and what — and the notifications
app, which registers itself as a listener when Django starts (``NotificationsConfig.ready``),
sends it in the background once the announcing transaction commits. Like every registration
between floors (docs/architecture.md), a missing listener raises: it never drops a message
silently.

Texts are rendered in the platform's language (``LANGUAGE_CODE``, Simplified Chinese) whatever
the language of the request that caused them: the message is read later, by someone else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation


@dataclass(frozen=True)
class Announcement:
    """One message: ``key`` names what it is about (the same key is sent to a person once)."""

    kind: str
    key: str
    subject: str
    text: str
    user_ids: tuple[int, ...] = ()
    # The data officers (数据管理员) of these departments, and of the data bureau when set.
    data_officers_of: tuple[int, ...] = ()
    data_bureau: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)


listeners: list[Callable[[Announcement], None]] = []


def announce(*, kind: str, key: str, subject: Any, text: Any, values: Mapping[str, Any],
             user_ids: Iterable[int | None] = (), data_officers_of: Iterable[int | None] = (),
             data_bureau: bool = False) -> Announcement | None:
    """Announce inside the causing transaction: ``subject`` and ``text`` are (lazy) templates
    filled with ``values`` in the platform's language. Returns what was announced (None when
    nobody is named)."""
    users = tuple(sorted({u for u in user_ids if u is not None}))
    departments = tuple(sorted({d for d in data_officers_of if d is not None}))
    if not users and not departments and not data_bureau:
        return None
    with translation.override(settings.LANGUAGE_CODE):
        rendered = Announcement(kind=kind, key=key[:100], subject=(str(subject) % values)[:200],
                                text=str(text) % values, user_ids=users,
                                data_officers_of=departments, data_bureau=data_bureau)
    if not listeners:
        raise ImproperlyConfigured("no announcement listener registered "
                                   "(tongban.cases.notifications registers one in ready())")
    for listener in listeners:
        listener(rendered)
    return rendered
