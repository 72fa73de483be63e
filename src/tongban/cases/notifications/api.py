"""The logged-in person's own in-app messages: list them, mark them read."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from tongban.core.schemas import ErrorOut, Offset

from . import selectors, services
from .models import Notification

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    kind: str = Field(description="case 办件进展, task 新的待办, warning 时限预警, overdue 超期提醒")
    subject: str
    body: str
    case_number: str | None
    created_at: dt.datetime = Field(description="ISO 8601，+08:00")
    read: bool
    read_at: dt.datetime | None


class NotificationPage(Schema):
    total: int
    unread: int
    limit: int
    offset: int
    items: list[NotificationOut]


class ListFilter(Schema):
    unread: bool = Field(False, description="只列出未读消息")
    limit: int = Field(20, ge=1, le=100)
    offset: Offset = 0


class MarkedOut(Schema):
    marked: int


def _out(n: Notification) -> NotificationOut:
    return NotificationOut(
        id=n.pk, kind=n.kind, subject=n.subject, body=n.body,
        case_number=n.case.number if n.case is not None else None,
        created_at=timezone.localtime(n.created_at), read=n.read_at is not None,
        read_at=timezone.localtime(n.read_at) if n.read_at else None)


@router.get("", response=NotificationPage, summary="My messages, newest first")
def list_notifications(request: HttpRequest, filters: Query[ListFilter]) -> NotificationPage:
    messages = selectors.notification_list(user=request.user, unread_only=filters.unread)
    page = messages[filters.offset:filters.offset + filters.limit]
    return NotificationPage(total=messages.count(), unread=selectors.unread_count(user=request.user),
                            limit=filters.limit, offset=filters.offset, items=[_out(n) for n in page])


@router.post("/{int:notification_id}/read", response={200: NotificationOut, 404: ErrorOut},
             summary="Mark one of my messages read")
def mark_read(request: HttpRequest, notification_id: int) -> NotificationOut:
    try:
        notification = services.notification_mark_read(actor=request.user,
                                                       notification_id=notification_id)
    except Notification.DoesNotExist as exc:
        raise HttpError(404, _("没有这条消息")) from exc
    return _out(notification)


@router.post("/read-all", response=MarkedOut, summary="Mark all my messages read")
def mark_all_read(request: HttpRequest) -> MarkedOut:
    return MarkedOut(marked=services.notifications_mark_all_read(actor=request.user))
