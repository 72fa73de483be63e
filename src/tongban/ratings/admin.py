"""Admin: ratings and tickets are read-only (nobody edits a rating; tickets move only through
their services); bad-review tags may be added, renamed or switched off (not deleted)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tongban.audit.admin_site import ReadOnlyAdmin

from .models import Rating, RatingTag, RectificationTicket


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin[Rating]):
    list_display = ["created_at", "channel", "case", "department", "level", "excluded"]
    list_filter = ["channel", "level", "excluded"]
    date_hierarchy = "created_at"
    # The rater's identity is not listed: supervisors read it on the ticket pages.
    exclude = ["rater", "rater_name", "rater_phone", "rater_id_number"]


@admin.register(RectificationTicket)
class TicketAdmin(ReadOnlyAdmin[RectificationTicket]):
    list_display = ["pk", "department", "state", "due_at", "overdue", "outcome"]
    list_filter = ["state", "overdue", "outcome"]


@admin.register(RatingTag)
class TagAdmin(admin.ModelAdmin[RatingTag]):
    list_display = ["name", "code", "national", "active", "sort"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
