"""Schedules in the admin: the bureau administrator may pause one or change its timing."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest

from tongban.core.auditing import record as audit_record

from .models import Schedule


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin[Schedule]):
    list_display = ["name", "task", "interval_seconds", "daily_at", "next_run_at", "last_run_at",
                    "enabled"]
    list_filter = ["enabled"]
    readonly_fields = ["last_run_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A schedule's name and task are set by the code that defines it (a data migration).
        return ["name", "task", "last_run_at"] if obj is not None else ["last_run_at"]

    def save_model(self, request: HttpRequest, obj: Schedule, form: Any, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_record(actor=request.user, action="schedule.saved", object_type="schedule",
                         object_id=obj.name, detail={
                             "enabled": obj.enabled, "interval_seconds": obj.interval_seconds,
                             "daily_at": obj.daily_at.isoformat() if obj.daily_at else None,
                             "next_run_at": obj.next_run_at.isoformat()})

    def delete_model(self, request: HttpRequest, obj: Schedule) -> None:
        with transaction.atomic():
            audit_record(actor=request.user, action="schedule.deleted", object_type="schedule",
                         object_id=obj.name, detail={})
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        # The bulk delete (the changelist's action) records each schedule as a single delete does.
        with transaction.atomic():
            for schedule in queryset:
                self.delete_model(request, schedule)
