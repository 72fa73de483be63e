"""Reads of a person's in-app messages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from tongban.accounts.models import User

from .models import Notification

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor


def notification_list(*, user: Actor, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's own messages, newest first (with the case, for its number)."""
    if not isinstance(user, User):  # nobody signed in (and the system) has no messages
        return Notification.objects.none()
    messages = Notification.objects.filter(recipient=user).select_related("case")
    if unread_only:
        messages = messages.filter(read_at__isnull=True)
    return messages


def unread_count(*, user: Actor) -> int:
    if not isinstance(user, User):
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
