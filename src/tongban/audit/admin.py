"""The audit log in the admin: read-only, for the bureau and supervisors."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import AuditRecord


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    list_display = ("seq", "at", "actor_name", "action", "object_type", "object_id")
    list_filter = ("action", "object_type")
    search_fields = ("action", "object_type", "object_id", "actor_name")
    date_hierarchy = "at"
    readonly_fields = ("seq", "at", "actor", "actor_name", "action", "object_type", "object_id",
                       "detail", "prev_hash", "hash")

    # Append-only: nobody adds, edits or deletes records here (the hash chain would show it).
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
