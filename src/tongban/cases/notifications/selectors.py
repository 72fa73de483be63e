"""Reads of a person's in-app messages."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from .models import Notification


def notification_list(*, user: Any, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's own messages, newest first (with the case, for its number)."""
    messages = Notification.objects.filter(recipient=user).select_related("case")
    if unread_only:
        messages = messages.filter(read_at__isnull=True)
    return messages


def unread_count(*, user: Any) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
