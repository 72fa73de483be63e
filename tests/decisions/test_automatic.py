"""秒批: a case that meets a published rule set is accepted, decided and delivered by the case
services within the submission's task; one that does not goes to a human with the findings; a
human review reopens an automatic decision."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pypdf import PdfReader

from tests.cases.conftest import SAME_DAY, form, item, pdf
from tongban.accounts.models import User
from tongban.audit.models import AuditRecord
from tongban.cases import services
from tongban.cases.documents import render_notice_pdf
from tongban.cases.materials import case_material_add
from tongban.cases.models import ApplicantKind, Case, Channel, Notice, Status
from tongban.cases.services import ApplicantData
from tongban.cases.workflows.models import StepTask, TaskStatus
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.decisions.models import AutoDecision, Outcome, RuleSet
from tongban.decisions.services.automatic import review_request

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _run_tasks(django_capture_on_commit_callbacks: Any) -> Any:
    """The queued automatic decision runs when the submission commits (immediate backend)."""
    global _capture
    _capture = django_capture_on_commit_callbacks


_capture: Any = None


def submit(citizen: User, **form_changes: Any) -> Case:
    case = services.case_create(
        actor=citizen, item=item(SAME_DAY), channel=Channel.ONLINE,
        applicant=ApplicantData(kind=ApplicantKind.NATURAL, name=citizen.real_name,
                                id_number=citizen.id_number, phone=citizen.phone),
        form_data={**form(), "purpose": "变更住所", **form_changes})
    for m in case.item_version.materials.all():
        case_material_add(actor=citizen, case=case, material=m, name=m.name, upload=pdf(),
                          original_name=f"{m.name}.pdf")
    with _capture(execute=True):  # the immediate backend runs the task after the commit
        services.case_submit(actor=citizen, case=case)
    return Case.objects.get(pk=case.pk)


def test_a_case_meeting_the_rules_is_decided_and_delivered_with_its_explanation(
        people: dict[str, User], rules: RuleSet) -> None:
    case = submit(people["citizen"])
    assert case.status == Status.DELIVERED
    record = AutoDecision.objects.get(case=case)
    assert record.outcome == Outcome.APPROVED and record.rule_set == rules
    assert record.inputs["form"]["purpose"] == "变更住所"
    assert record.outputs["approve"] is True
    assert [c["held"] for c in record.explanation] == [True, True]
    actions = list(case.events.order_by("seq").values_list("action", "actor_name"))
    assert [a for a, _n in actions] == ["create", "submit", "accept", "step", "approve", "deliver"]
    assert {n for a, n in actions[2:]} == {"自动审批（秒批）"}
    notice = Notice.objects.get(case=case, kind=Notice.Kind.DECISION)
    assert notice.body["automatic"]["version"] == rules.version
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(render_notice_pdf(notice))).pages)
    compact = "".join(text.split())
    assert "企业变更登记秒批规则" in compact and "第1版" in compact
    assert "联系电话为手机号码" in compact and "申请人工复核" in compact
    assert AuditRecord.objects.filter(action="auto_decision.approved").count() == 1


def test_a_case_not_meeting_the_rules_goes_to_a_human_with_the_findings(
        people: dict[str, User], rules: RuleSet) -> None:
    case = submit(people["citizen"], contact_phone="0931-8123456")
    assert case.status == Status.SUBMITTED  # waiting for the department, untouched
    record = AutoDecision.objects.get(case=case)
    assert record.outcome == Outcome.REFERRED and record.decided_at is None
    assert any("联系电话为手机号码" in f for f in record.findings)
    services.case_accept(actor=people["officer"], case=case)  # a human carries on as usual


def test_the_applicant_asks_for_a_human_review_which_reopens_the_decision(
        people: dict[str, User], rules: RuleSet) -> None:
    case = submit(people["citizen"])
    with pytest.raises(AccessDenied):
        review_request(actor=people["other"], case=case, reason="不服")
    with pytest.raises(RuleViolation):
        review_request(actor=people["citizen"], case=case, reason="  ")
    record = review_request(actor=people["citizen"], case=case, reason="我希望由工作人员审查")
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED and case.decided_at is None
    assert record.review_requested_by == people["citizen"]
    task = StepTask.objects.get(case=case, status=TaskStatus.OPEN)
    assert task.role == "head"
    services.case_step(actor=people["head"], task=task, action="deny", reason="经人工复核不符合条件")
    case.refresh_from_db()
    assert case.status == Status.DENIED
    assert Notice.objects.filter(case=case, kind=Notice.Kind.DECISION).count() == 2
    with pytest.raises(RuleViolation):  # once only
        review_request(actor=people["citizen"], case=case, reason="再次复核")


def test_the_figures_per_item(people: dict[str, User], rules: RuleSet, api: Any) -> None:
    from tongban.decisions.selectors import figures

    first = submit(people["citizen"])
    submit(people["citizen"], contact_phone="0931-8123456")
    review_request(actor=people["citizen"], case=first, reason="请人工审查")
    task = StepTask.objects.get(case=first, status=TaskStatus.OPEN)
    services.case_step(actor=people["head"], task=task, action="deny", reason="不符合")
    [row] = figures()
    assert (row.submitted, row.automatic, row.referred, row.reviews, row.reversals) == (2, 1, 1, 1, 1)
    assert row.share_automatic == 0.5 and row.median_seconds_to_decision is not None
    answer = api("head").get("/auto-decisions/figures")
    assert answer.status_code == 200 and answer.json()[0]["reversals"] == 1
    assert api("citizen").get("/auto-decisions/figures").status_code == 403


def test_the_applicant_asks_for_review_through_the_api(
        people: dict[str, User], rules: RuleSet, api: Any) -> None:
    case = submit(people["citizen"])
    mine = api("citizen")
    seen = mine.get(f"/cases/{case.number}/auto-decision").json()
    assert seen["rule_set_version"] == 1 and all(c["held"] for c in seen["conditions"])
    assert api("other").post(f"/cases/{case.number}/human-review",
                             {"reason": "x"}).status_code == 404
    answer = mine.post(f"/cases/{case.number}/human-review", {"reason": "请人工审查"})
    assert answer.status_code == 200 and answer.json()["review_requested_at"]
    assert Case.objects.get(pk=case.pk).status == Status.ACCEPTED
