"""The audit log in the admin: read-only, for the bureau and supervisors."""

from __future__ import annotations

from django.contrib import admin

from tongban.audit.admin_site import ReadOnlyAdmin

from .models import AuditCheckpoint, AuditRecord, AuditVerification


@admin.register(AuditRecord)
class AuditRecordAdmin(ReadOnlyAdmin[AuditRecord]):
    list_display = ("seq", "at", "actor_name", "action", "object_type", "object_id")
    list_filter = ("action", "object_type")
    search_fields = ("action", "object_type", "object_id", "actor_name")
    date_hierarchy = "at"
    readonly_fields = ("seq", "at", "actor", "actor_name", "action", "object_type", "object_id",
                       "detail", "prev_hash", "hash", "algorithm")


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdmin[AuditCheckpoint]):
    list_display = ("seq", "at", "count", "signature_algorithm", "key_id")
    readonly_fields = ("seq", "record_hash", "hash_algorithm", "count", "at",
                       "signature_algorithm", "key_id", "signature")


@admin.register(AuditVerification)
class AuditVerificationAdmin(ReadOnlyAdmin[AuditVerification]):
    list_display = ("requested_at", "requested_by", "status", "intact", "records_checked")
    readonly_fields = ("requested_by", "requested_at", "started_at", "finished_at", "status",
                       "intact", "records_checked", "checkpoints_checked", "last_seq", "problems")
