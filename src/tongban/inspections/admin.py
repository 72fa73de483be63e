"""Admin: the directories and tasks, read-only (they change through the workbook import and the
staff pages, which check, audit and keep a drawn task frozen)."""

from __future__ import annotations

from django.contrib import admin

from tongban.audit.admin_site import ReadOnlyAdmin

from .models import Conflict, DrawTask, InspectionItem, Inspector, MarketEntity


@admin.register(MarketEntity)
class MarketEntityAdmin(ReadOnlyAdmin[MarketEntity]):
    list_display = ["uscc", "name", "entity_type", "industry", "risk_level", "department"]
    list_filter = ["entity_type", "risk_level", "department"]
    search_fields = ["uscc", "name"]


@admin.register(Inspector)
class InspectorAdmin(ReadOnlyAdmin[Inspector]):
    list_display = ["certificate_number", "name", "department", "active", "user"]
    list_filter = ["department", "active"]
    search_fields = ["certificate_number", "name"]


@admin.register(Conflict)
class ConflictAdmin(ReadOnlyAdmin[Conflict]):
    list_display = ["inspector", "entity", "reason"]


@admin.register(InspectionItem)
class InspectionItemAdmin(ReadOnlyAdmin[InspectionItem]):
    list_display = ["code", "name", "department", "method"]
    list_filter = ["department"]


@admin.register(DrawTask)
class DrawTaskAdmin(ReadOnlyAdmin[DrawTask]):
    list_display = ["name", "department", "status", "drawn_at", "published_at"]
    list_filter = ["status", "department"]
    exclude = ["entity_pool", "inspector_pool", "conflict_reasons"]
