from django.contrib import admin

from .models import SupervisionRecord


@admin.register(SupervisionRecord)
class SupervisionRecordAdmin(admin.ModelAdmin[SupervisionRecord]):
    """Read-only: records are opened by the sweep and answered on the supervision pages."""

    list_display = ("opened_at", "kind", "case", "department", "person", "state")
    list_filter = ("kind", "state", "department")
    search_fields = ("case__number", "detail")
    raw_id_fields = ("case", "step", "person")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
