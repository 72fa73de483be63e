"""The tables the load generator writes, with the columns it fills (the rest take their model
defaults, see :class:`~tongban.demo.load.writer.Table`)."""

from __future__ import annotations

from dataclasses import dataclass

from tongban.audit.models import AuditRecord
from tongban.cases.models import Case, CaseEvent, CaseMaterial, Notice, Visit
from tongban.cases.notifications.models import Notification
from tongban.cases.workflows.models import StepTask
from tongban.ratings.models import Rating, RectificationTicket
from tongban.supervision.models import SupervisionRecord

from .writer import Table


@dataclass
class Tables:
    case: Table
    event: Table
    material: Table
    notice: Table
    task: Table
    visit: Table
    rating: Table
    rating_tag: Table
    ticket: Table
    supervision: Table
    notification: Table
    audit: Table

    def in_order(self) -> list[Table]:
        """Referenced tables before the tables referring to them."""
        return [self.case, self.event, self.material, self.notice, self.task, self.visit,
                self.rating, self.rating_tag, self.ticket, self.supervision, self.notification,
                self.audit]


def build() -> Tables:
    return Tables(
        case=Table(Case, [
            "id", "number", "item_id", "item_version_id", "workflow_id", "department_id",
            "receiving_unit_id", "hall_id", "channel", "status", "version", "event_count",
            "applicant_id", "applicant_kind", "applicant_name", "applicant_id_number",
            "applicant_phone", "agent_id", "agent_name", "authorization", "form_data",
            "created_at", "submitted_at", "accepted_at", "due_at", "decided_at",
            "decision_reason", "result_name", "delivered_at", "delivery", "closed_reason",
            "visits", "deadline_state"], {"agent_id_number": "", "idempotency_key": "",
                                          "due_provisional": False, "excess_visits": False,
                                          "extension_working_days": 0}),
        event=Table(CaseEvent, ["id", "case_id", "seq", "at", "actor_id", "actor_name", "action",
                                "from_status", "to_status", "reason", "data"]),
        material=Table(CaseMaterial, ["id", "case_id", "material_id", "name", "uploaded_by_id",
                                      "uploaded_at", "checked_at_window"],
                       {"state": CaseMaterial.State.SUPPLIED.value, "file": "",
                        "superseded": False}),
        notice=Table(Notice, ["id", "case_id", "kind", "number", "issued_at", "issued_by_id",
                              "body", "resolved_at"]),
        task=Table(StepTask, ["id", "case_id", "step_key", "name", "department_id", "role",
                              "assignee_id", "status", "opened_at", "due_at", "finished_at",
                              "outcome", "finished_by_id", "deadline_state", "late"]),
        visit=Table(Visit, ["id", "case_id", "at", "hall_id", "purpose", "recorded_by_id"],
                    {"window_id": None}),
        rating=Table(Rating, ["id", "channel", "case_id", "visit_id", "item_id", "department_id",
                              "handler_id", "rater_id", "rater_name", "level", "indicators",
                              "text", "created_at"],
                     {"rater_phone": "", "rater_id_number": "", "on_staff_device": False,
                      "excluded": False, "excluded_reason": "", "excluded_at": None}),
        rating_tag=Table(Rating.tags.through, ["id", "rating_id", "ratingtag_id"]),
        ticket=Table(RectificationTicket, [
            "id", "rating_id", "department_id", "handler_id", "state", "opened_at", "due_at",
            "overdue", "response", "response_text", "responded_at", "responded_by_id",
            "callback_at", "callback_by_id", "callback_reached", "callback_note",
            "fix_satisfied", "fix_rated_at", "outcome", "closed_at"]),
        supervision=Table(SupervisionRecord, [
            "id", "kind", "case_id", "step_id", "department_id", "person_id", "detail", "data",
            "opened_at", "opened_by_name", "state", "acknowledged_at", "acknowledged_by_id",
            "explanation", "explained_at", "explained_by_id", "close_note", "closed_at",
            "closed_by_id"], {"escalated_at": None}),
        notification=Table(Notification, ["id", "recipient_id", "kind", "key", "case_id",
                                          "event_id", "subject", "body", "created_at",
                                          "read_at"]),
        audit=Table(AuditRecord, ["id", "seq", "at", "actor_id", "actor_name", "action",
                                  "object_type", "object_id", "detail", "prev_hash", "hash",
                                  "algorithm", "digest_version"]),
    )
