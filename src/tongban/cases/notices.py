"""Written notices to the applicant (告知文书) as printable pages.

The case services issue a :class:`~tongban.cases.models.Notice` with each transition that must
be told in writing — one-time supplement notice (一次性告知书), acceptance, refusal, special
procedure, suspension (中止), extension, decision — and keep what was decided in ``Notice.body``. This module
finds a notice for a reader who may see it and assembles what its page shows: the body as
issued, plus the case's parties (ID numbers masked), item and issuing department. Times are
shown in Asia/Shanghai.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tongban.accounts.masking import mask_id_number
from tongban.catalog.models import Commitment
from tongban.clock.deadline import SHANGHAI

from . import policies
from .models import (
    ApplicantKind,
    Case,
    CaseMaterial,
    Delivery,
    HaltGround,
    Notice,
    SpecialProcedure,
)

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

# Said where the item version names no route of its own (行政复议法 Art. 20: 60 days;
# 行政诉讼法 Art. 46: six months).
DEFAULT_REVIEW_ROUTE = _(
    "如对本决定不服，可以自收到本文书之日起六十日内依法申请行政复议，"
    "或者自收到本文书之日起六个月内依法向人民法院提起行政诉讼。")


def visible_notice(user: Actor, *, case_number: str, notice_number: str) -> Notice | None:
    """The notice, if it belongs to that case and the user may view the case; else None
    (the page answers 404 either way, so a notice's existence is not revealed)."""
    notice = (Notice.objects.select_related(
        "case", "case__item", "case__item_version", "case__department", "case__hall")
        .filter(number=notice_number, case__number=case_number).first())
    if notice is None or not policies.can_view(user, notice.case):
        return None
    return notice


def notice_url(notice: Notice) -> str:
    """Where the printable page of a notice is (for links from case pages and messages)."""
    return reverse("cases:notice", args=[notice.case.number, notice.number])


def _instant(value: Any) -> dt.datetime | None:
    if isinstance(value, str) and value:
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(SHANGHAI)
    return None


def _party(case: Case) -> dict[str, Any]:
    natural = case.applicant_kind == ApplicantKind.NATURAL
    return {
        "applicant_name": case.applicant_name,
        "applicant_kind": ApplicantKind(case.applicant_kind).label,
        "applicant_id_label": _("公民身份号码") if natural else _("统一社会信用代码"),
        # A company's credit code is public (it is printed on its licence); a person's ID is not.
        "applicant_id": mask_id_number(case.applicant_id_number) if natural
        else case.applicant_id_number,
        "agent_name": case.agent_name,
        "agent_id": mask_id_number(case.agent_id_number) if case.agent_id_number else "",
    }


def _limit_text(case: Case) -> Any:
    version = case.item_version
    if version.commitment == Commitment.ON_THE_SPOT:
        return _("即收即办（当场办结）")
    if version.commitment == Commitment.SAME_DAY:
        return _("当日办结")
    return _("%(n)s个%(unit)s") % {"n": version.committed_limit,
                                  "unit": version.get_committed_limit_unit_display()}


def _promises(case: Case, until: dt.datetime) -> list[CaseMaterial]:
    """容缺 promises made up to the notice's issue (supplied or not since)."""
    return list(case.materials.filter(state=CaseMaterial.State.PROMISED, uploaded_at__lte=until)
                .order_by("pk"))


def notice_context(notice: Notice) -> dict[str, Any]:
    """Everything the notice's page shows, with times in Asia/Shanghai."""
    case = notice.case
    version = case.item_version
    department = case.department
    body = notice.body or {}
    context: dict[str, Any] = {
        "notice": notice,
        "case": case,
        "title": Notice.Kind(notice.kind).label,
        "issued_at": _instant(notice.issued_at),
        "submitted_at": _instant(case.submitted_at),
        "item_name": version.name,
        "item_code": case.item.implementation_code,
        "department": department,
        "receiving_unit": case.receiving_unit.name if case.receiving_unit_id and case.receiving_unit
        else "",
        "consultation_phone": version.consultation_phone or department.consultation_phone,
        "complaint_phone": version.complaint_phone or department.complaint_phone,
        "location": version.location or (case.hall.address if case.hall else ""),
        "limit_text": _limit_text(case),
        "review_route": version.review_route.strip() or DEFAULT_REVIEW_ROUTE,
        "body": body,
        **_party(case),
    }
    kind = notice.kind
    if kind == Notice.Kind.SUPPLEMENT:
        context["items"] = [{"name": i.get("name", ""), "reason": i.get("reason", "")}
                            for i in body.get("items", [])]
        context["note"] = body.get("note", "")
        # Issued after acceptance, the time until the applicant supplies is a clock stop.
        context["after_acceptance"] = bool(case.accepted_at and case.accepted_at <= notice.issued_at)
    elif kind == Notice.Kind.ACCEPTANCE:
        context["accepted_at"] = _instant(case.accepted_at) or context["issued_at"]
        context["due_at"] = _instant(body.get("due_at"))
        context["provisional"] = bool(body.get("provisional"))
        context["promises"] = _promises(case, notice.issued_at)
        # 行政许可法 Art. 32: accepted by law from the receipt of the materials.
        context["by_law"] = bool(body.get("by_law"))
        context["received_at"] = _instant(body.get("received_at"))
        context["answer_due"] = _instant(body.get("answer_due"))
    elif kind == Notice.Kind.REFUSAL:
        context["reason"] = body.get("reason", "")
    elif kind == Notice.Kind.SUSPENSION:
        context["reason"] = body.get("reason", "")
        context["expected_working_days"] = body.get("expected_working_days")
        procedure = body.get("procedure", "")
        context["procedure"] = SpecialProcedure(procedure).label \
            if procedure in SpecialProcedure.values else ""
    elif kind == Notice.Kind.HALT:
        context["reason"] = body.get("reason", "")
        ground = body.get("ground", "")
        context["ground"] = HaltGround(ground).label if ground in HaltGround.values else ""
    elif kind == Notice.Kind.EXTENSION:
        context["reason"] = body.get("reason", "")
        context["working_days"] = body.get("working_days")
        context["due_at"] = _instant(body.get("due_at"))
        context["provisional"] = bool(case.due_provisional)
    elif kind == Notice.Kind.DECISION:
        context["approved"] = bool(body.get("approved"))
        context["reason"] = body.get("reason", "")
        context["result_name"] = body.get("result_name", "")
        # 秒批: the rule set, its version and each condition with whether it held.
        context["automatic"] = body.get("automatic") or None
        context["deliveries"] = [label for _value, label in Delivery.choices]
        context["owed"] = [m for m in _promises(case, notice.issued_at)
                           if not m.superseded and m.material_id is not None]
    return context


def notice_template(notice: Notice) -> str:
    return f"cases/notice_{notice.kind}.html"
