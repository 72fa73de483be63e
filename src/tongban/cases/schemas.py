"""API schemas of cases (办件), steps and extensions.

Times are ISO 8601 in Asia/Shanghai (+08:00). Enumerated values carry their code and their
Chinese label (``*_label``). Every state-changing request may carry ``expected_version``, the
case version the client last saw; a stale one answers 409.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from ninja import Field, Schema

from tongban.accounts.masking import mask_id_number, mask_phone
from tongban.cases.workflows.definition import Definition
from tongban.cases.workflows.models import TaskStatus

# The API's one definition of error bodies (OpenAPI components are named by class).
from tongban.catalog.api.public import ErrorOut as ErrorOut
from tongban.catalog.api.public import ProblemsOut as ProblemsOut
from tongban.catalog.models import Commitment, LimitUnit, Material
from tongban.core.schemas import BoundedDate, local
from tongban.licences.documents import verify_path
from tongban.licences.selectors import licences_of_case

from .models import (
    ApplicantKind,
    Case,
    CaseEvent,
    CaseMaterial,
    Channel,
    ClockStop,
    Delivery,
    Extension,
    Notice,
    Status,
    Visit,
)

if TYPE_CHECKING:
    from .actions import Action

MAX_TEXT = 2000


def _label(enum: Any, value: Any) -> str:
    try:
        return str(enum(value).label)
    except ValueError:
        return str(value or "")


# --- requests ---------------------------------------------------------------------------------

class VersionIn(Schema):
    expected_version: int | None = Field(
        None, ge=0, description="The case version the client saw; a stale one answers 409")


class ApplicantIn(Schema):
    kind: str = Field(description="natural_person 自然人 / legal_person 法人")
    name: str = Field(max_length=100)
    id_number: str = Field(max_length=18,
                           description="公民身份号码 (natural person) or 统一社会信用代码 (legal person)")
    phone: str = Field("", max_length=20)


class AgentIn(Schema):
    """The agent (代理人) acting for the applicant, with the authorisation record."""

    name: str = Field(max_length=100)
    id_number: str = Field(max_length=18, description="公民身份号码 of the agent")
    authorization: str = Field(max_length=MAX_TEXT, description="授权委托说明")


class CaseCreateIn(Schema):
    item: str = Field(description="实施编码 of the item applied for")
    channel: str = Field(description="online / window / mobile / terminal / post")
    applicant: ApplicantIn
    agent: AgentIn | None = None
    form_data: dict[str, Any] = Field(default_factory=dict,
                                      description="The application form: field name → value")


class ProxyReceiveIn(Schema):
    """The proxy desk's walk-in (``POST /proxy/cases``'s ``payload`` part, as JSON)."""

    item: str = Field(description="实施编码 of the item applied for")
    applicant: ApplicantIn
    form_data: dict[str, Any] = Field(default_factory=dict,
                                      description="The application form: field name → value")


class SupplementItemIn(Schema):
    name: str = Field(max_length=200, description="What is missing or faulty")
    reason: str = Field(max_length=MAX_TEXT)
    material_id: int | None = Field(None, description="The catalog material, when it is one")


WINDOW_DESCRIPTION = ("The window (id) where the applicant was received; a window clerk's answer "
                      "is given at a window even without it, and records the visit (跑动)")


class SupplementIn(VersionIn):
    items: list[SupplementItemIn] = Field(description="Every item to supply, all at once (一次性告知)")
    note: str = Field("", max_length=MAX_TEXT)
    window: int | None = Field(None, description=WINDOW_DESCRIPTION)


class AcceptIn(VersionIn):
    window: int | None = Field(None, description=WINDOW_DESCRIPTION)


class ReasonIn(VersionIn):
    reason: str = Field(max_length=MAX_TEXT)


class RefuseIn(ReasonIn):
    window: int | None = Field(None, description=WINDOW_DESCRIPTION)


class OptionalReasonIn(VersionIn):
    reason: str = Field("", max_length=MAX_TEXT)


class DeliverIn(VersionIn):
    delivery: str = Field(description="pickup 窗口领取 / post 邮寄送达 / online 网上送达")


class VisitIn(VersionIn):
    purpose: str = Field(max_length=100)
    window: int | None = None


class PromiseIn(VersionIn):
    material: int = Field(description="The catalog material (容缺) promised")
    promise: str = Field(max_length=MAX_TEXT, description="书面承诺")
    promised_by: BoundedDate = Field(description="Date by which the material will be supplied")


class StepActIn(VersionIn):
    action: str = Field(description="approve / forward / deny / return (/ complete)")
    reason: str = Field("", max_length=MAX_TEXT)
    return_to: str = Field("", max_length=50, description="For return: the step key to go back to")


class SuspendIn(VersionIn):
    procedure: str = Field("", max_length=16, description=(
        "The special procedure (Art. 45): hearing 听证 / tender 招标 / auction 拍卖 / inspection 检验"
        " / testing 检测 / quarantine 检疫 / appraisal 鉴定 / expert_review 专家评审 (required)"))
    reason: str = Field(max_length=MAX_TEXT)
    expected_working_days: int | None = Field(
        None, ge=0, le=3650, description="How long it takes, in working days (required, 1–365)")


class HaltIn(VersionIn):
    ground: str = Field("", max_length=16, description=(
        "legal 法定事由 / applicant 申请人申请 (required)"))
    reason: str = Field(max_length=MAX_TEXT)


class ExtensionIn(VersionIn):
    working_days: int = Field(ge=0, le=3650)
    reason: str = Field(max_length=MAX_TEXT)


class ExtensionDecideIn(VersionIn):
    approve: bool
    note: str = Field("", max_length=MAX_TEXT)


# --- responses --------------------------------------------------------------------------------

class ItemRef(Schema):
    implementation_code: str
    name: str
    version: int
    commitment: str
    commitment_label: str
    committed_limit: int
    committed_limit_unit: str
    committed_limit_unit_label: str
    required_visits: int


class CaseDepartmentOut(Schema):
    """A department handling a case or a step."""

    id: int
    name: str
    uscc: str


class PartyOut(Schema):
    kind: str
    kind_label: str
    name: str
    id_number: str
    phone: str
    account: str | None = Field(None, description="Username of the applicant's account, if any")


class AgentOut(Schema):
    name: str
    id_number: str
    authorization: str
    account: str | None = None


class CaseMaterialOut(Schema):
    id: int
    material_id: int | None
    name: str
    state: str
    state_label: str
    original_name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: dt.datetime
    superseded: bool
    promise: str
    promised_by: dt.date | None
    download_url: str | None


class ChecklistEntryOut(Schema):
    """A material the item version asks for, and where this case stands with it."""

    material_id: int
    name: str
    necessity: str
    necessity_label: str
    required: bool = Field(description="Needed before acceptance (required, or 容缺 promised)")
    deferrable: bool = Field(description="容缺: may be promised in writing and supplied later")
    state: str = Field(description="supplied / promised / missing")


class NoticeOut(Schema):
    id: int
    kind: str
    kind_label: str
    number: str
    issued_at: dt.datetime
    body: dict[str, Any]
    resolved_at: dt.datetime | None


class EventOut(Schema):
    seq: int
    at: dt.datetime
    actor: str
    action: str
    action_label: str
    from_status: str
    to_status: str
    reason: str
    data: dict[str, Any]


class TaskOut(Schema):
    id: int
    case_id: int
    case_number: str | None
    case_version: int
    step_key: str
    name: str
    department: CaseDepartmentOut
    role: str
    assignee: str | None = Field(description="Username of the person it is assigned to")
    finished_by: str | None = Field(None, description="Username of the person who finished it "
                                    "(approved, returned, denied…); null while open")
    status: str
    status_label: str
    opened_at: dt.datetime
    due_at: dt.datetime | None
    finished_at: dt.datetime | None
    outcome: str
    deadline_state: str
    late: bool
    actions: list[str] = Field(description="Actions the workflow allows at this step")

    @staticmethod
    def build(task: Any, case: Case, *, deadline_state: str,
              definition: Definition | None = None) -> TaskOut:
        actions: list[str] = []
        if definition is not None:
            try:
                actions = list(definition.step(task.step_key).actions)
            except KeyError:
                actions = []
        return TaskOut(
            id=task.pk, case_id=case.pk, case_number=case.number, case_version=case.version,
            step_key=task.step_key, name=task.name,
            department=CaseDepartmentOut(id=task.department.pk, name=task.department.name,
                                     uscc=task.department.uscc),
            role=task.role, assignee=task.assignee.username if task.assignee else None,
            finished_by=task.finished_by.username if task.finished_by_id else None,
            status=task.status, status_label=_label(TaskStatus, task.status),
            opened_at=local(task.opened_at), due_at=local(task.due_at),
            finished_at=local(task.finished_at), outcome=task.outcome,
            deadline_state=deadline_state, late=task.late, actions=actions)


class CaseActionOut(Schema):
    """An action the caller may take on the case now."""

    code: str = Field(description="The operation: submit, pre_review, request_supplement, supply, "
                      "accept, refuse, step, suspend, halt, resume, request_extension, extend, "
                      "deliver, withdraw, terminate, record_visit")
    label: str
    task_id: int | None = Field(None, description="For an action on an open step "
                                "(step, suspend, request_extension, or a supplement notice after "
                                "acceptance): the step task to act on (POST /tasks/{task_id}/…)")
    ops: list[str] = Field(default_factory=list,
                           description="For step: the operations the step allows. approve, deny, "
                           "return, forward, complete: POST /tasks/{task_id}/act with action = "
                           "the operation; supplement: POST /cases/{id}/supplement (一次性告知); "
                           "suspend: POST /tasks/{task_id}/suspend (特别程序); extend: POST "
                           "/tasks/{task_id}/extension (延期)")


class ExtensionOut(Schema):
    id: int
    working_days: int
    reason: str
    state: str
    state_label: str
    requested_by: str
    requested_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_note: str


class VisitOut(Schema):
    at: dt.datetime
    purpose: str
    hall: str | None
    window: str | None


class ClockStopOut(Schema):
    kind: str
    kind_label: str
    procedure: str = Field(description="A special procedure's kind (Art. 45), else empty")
    procedure_label: str
    ground: str = Field(description="A suspension's (中止) ground: legal / applicant, else empty")
    ground_label: str
    reason: str
    expected_working_days: int | None
    started_at: dt.datetime
    ended_at: dt.datetime | None


class CaseSummaryOut(Schema):
    """One case in a list."""

    id: int
    number: str | None
    version: int
    status: str
    status_label: str
    channel: str
    item: ItemRef
    department: CaseDepartmentOut
    applicant_name: str
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    accepted_at: dt.datetime | None
    due_at: dt.datetime | None
    provisional: bool
    deadline_state: str

    @staticmethod
    def build(case: Case, *, deadline_state: str) -> CaseSummaryOut:
        return CaseSummaryOut(
            id=case.pk, number=case.number, version=case.version, status=case.status,
            status_label=_label(Status, case.status), channel=case.channel,
            item=_item_ref(case), department=_department_ref(case.department),
            applicant_name=case.applicant_name, created_at=local(case.created_at),
            submitted_at=local(case.submitted_at), accepted_at=local(case.accepted_at),
            due_at=local(case.due_at), provisional=case.due_provisional,
            deadline_state=deadline_state)


class CasePageOut(Schema):
    count: int = Field(description="Matching cases, exact up to 1,000 (see count_exact)")
    count_exact: bool = Field(True, description="False when there are more than `count`")
    page: int
    page_size: int
    next: str | None = Field(None, description="Cursor of the following page (pass as "
                             "`cursor`); null on the last page")
    previous: str | None = Field(None, description="Cursor of the page before; null on the "
                                 "first")
    items: list[CaseSummaryOut]


class WorkflowRef(Schema):
    id: int
    name: str
    version: int


class CaseLicenceOut(Schema):
    identifier: str = Field(description="The e-licence's identifier (verify at verify_path)")
    type_name: str
    verify_path: str


class CaseOut(Schema):
    """A case with its history, notices, materials, steps, extensions and visits."""

    id: int
    number: str | None
    version: int = Field(description="Optimistic-lock version: send it back as expected_version")
    status: str
    status_label: str
    channel: str
    channel_label: str
    item: ItemRef
    workflow: WorkflowRef | None
    department: CaseDepartmentOut
    receiving_unit: CaseDepartmentOut | None
    hall: str | None = Field(description="The hall or centre that received it")
    hall_id: int | None = Field(description="Its id (for POST /calendar/deadline)")
    applicant: PartyOut
    agent: AgentOut | None
    form_data: dict[str, Any]
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    accepted_at: dt.datetime | None
    due_at: dt.datetime | None
    provisional: bool = Field(description="The due instant uses a year without official schedule")
    deadline_state: str = Field(description="green / yellow (warning) / red (overdue)")
    extension_working_days: int
    decided_at: dt.datetime | None
    decision_reason: str
    result_name: str
    delivered_at: dt.datetime | None
    delivery: str
    delivery_label: str
    closed_reason: str
    visit_count: int
    allowed_visits: int
    excess_visits: bool
    checklist: list[ChecklistEntryOut] = Field(
        description="The item version's materials: upload with material = material_id")
    materials: list[CaseMaterialOut]
    notices: list[NoticeOut]
    history: list[EventOut]
    tasks: list[TaskOut] = Field(description="The workflow's steps, open and finished")
    extensions: list[ExtensionOut]
    visits: list[VisitOut]
    clock_stops: list[ClockStopOut]
    available_actions: list[CaseActionOut] = Field(
        description="What the caller may do on the case now (its status and the caller's role "
        "and workplace); the operation may still refuse the data sent with it")
    licences: list[CaseLicenceOut] = Field(
        default_factory=list, description="The e-licences issued when the result was delivered")


def _item_ref(case: Case) -> ItemRef:
    v = case.item_version
    return ItemRef(
        implementation_code=case.item.implementation_code,
        name=v.name, version=v.number, commitment=v.commitment,
        commitment_label=_label(Commitment, v.commitment), committed_limit=v.committed_limit,
        committed_limit_unit=v.committed_limit_unit,
        committed_limit_unit_label=_label(LimitUnit, v.committed_limit_unit),
        required_visits=v.required_visits)


def _department_ref(department: Any) -> CaseDepartmentOut:
    return CaseDepartmentOut(id=department.pk, name=department.name, uscc=department.uscc)


def _checklist(case: Case) -> list[ChecklistEntryOut]:
    current = {m.material_id: m.state for m in case.materials.all()
               if not m.superseded and m.material_id is not None}
    required = {Material.Necessity.REQUIRED, Material.Necessity.DEFERRABLE}
    return [ChecklistEntryOut(
        material_id=m.pk, name=m.name, necessity=m.necessity,
        necessity_label=_label(Material.Necessity, m.necessity), required=m.necessity in required,
        deferrable=m.deferrable, state=current.get(m.pk, "missing"))
        for m in case.item_version.materials.all()]


def _material(case: Case, m: CaseMaterial) -> CaseMaterialOut:
    url = (reverse("api:case_material_file", kwargs={"number_or_id": str(case.pk), "record_id": m.pk})
           if m.file else None)
    return CaseMaterialOut(
        id=m.pk, material_id=m.material_id, name=m.name, state=m.state,
        state_label=_label(CaseMaterial.State, m.state), original_name=m.original_name,
        content_type=m.content_type, size=m.size, sha256=m.sha256, uploaded_at=local(m.uploaded_at),
        superseded=m.superseded, promise=m.promise, promised_by=m.promised_by, download_url=url)


# Actions recorded in the history that are not transitions of the state machine.
EXTRA_ACTION_LABELS = {"create": _("创建"), "promise_material": _("容缺承诺"),
                       "extension_rejected": _("延期未批准")}


def _event(e: CaseEvent) -> EventOut:
    from .services import ACTION_LABELS

    label = ACTION_LABELS.get(e.action) or EXTRA_ACTION_LABELS.get(e.action) or e.action
    return EventOut(
        seq=e.seq, at=local(e.at), actor=e.actor_name or (str(e.actor) if e.actor else ""),
        action=e.action, action_label=str(label), from_status=e.from_status,
        to_status=e.to_status, reason=e.reason, data=e.data)


def case_out(case: Case, *, full_identifiers: bool, deadline_state: str,
             task_states: dict[int, str], form_data: dict[str, Any],
             actions: Iterable[Action] = ()) -> CaseOut:
    """The detail of a case loaded by ``selectors.case_detail``.

    ``full_identifiers`` false masks ID numbers and phones; ``form_data`` is passed in already
    masked or not (the selector knows the field types).
    """
    from tongban.cases.workflows.services import definition_of

    from .services import allowed_visits

    id_number = case.applicant_id_number if full_identifiers else mask_id_number(
        case.applicant_id_number)
    phone = case.applicant_phone if full_identifiers else mask_phone(case.applicant_phone)
    agent = None
    if case.agent_name or case.agent_id:
        agent = AgentOut(
            name=case.agent_name,
            id_number=case.agent_id_number if full_identifiers else mask_id_number(
                case.agent_id_number),
            authorization=case.authorization,
            account=case.agent.username if case.agent_id and case.agent else None)
    definition = definition_of(case) if case.workflow_id else None
    workflow = (WorkflowRef(id=case.workflow.pk, name=case.workflow.name, version=case.workflow.version)
                if case.workflow_id and case.workflow else None)
    notices: list[Notice] = list(case.notices.all())
    extensions: list[Extension] = list(case.extensions.all())
    visits: list[Visit] = list(case.visit_records.all())
    stops: list[ClockStop] = list(case.clock_stops.all())
    # Every part below is a schema validated as it is built, or a value of its field's type
    # already: the whole is assembled without validating each part a second time
    # (``tests/cases/test_api_detail_answers.py`` checks it against the validated whole).
    return CaseOut.model_construct(
        id=case.pk, number=case.number, version=case.version, status=case.status,
        status_label=_label(Status, case.status), channel=case.channel,
        channel_label=_label(Channel, case.channel), item=_item_ref(case), workflow=workflow,
        department=_department_ref(case.department),
        receiving_unit=_department_ref(case.receiving_unit) if case.receiving_unit else None,
        hall=case.hall.name if case.hall else None, hall_id=case.hall_id,
        applicant=PartyOut(kind=case.applicant_kind,
                           kind_label=_label(ApplicantKind, case.applicant_kind),
                           name=case.applicant_name, id_number=id_number, phone=phone,
                           account=case.applicant.username if case.applicant_id and case.applicant
                           else None),
        agent=agent, form_data=form_data, created_at=local(case.created_at),
        submitted_at=local(case.submitted_at), accepted_at=local(case.accepted_at),
        due_at=local(case.due_at), provisional=case.due_provisional,
        deadline_state=deadline_state, extension_working_days=case.extension_working_days,
        decided_at=local(case.decided_at), decision_reason=case.decision_reason,
        result_name=case.result_name, delivered_at=local(case.delivered_at),
        delivery=case.delivery, delivery_label=_label(Delivery, case.delivery) if case.delivery else "",
        closed_reason=case.closed_reason, visit_count=case.visits,
        allowed_visits=allowed_visits(case), excess_visits=case.excess_visits,
        checklist=_checklist(case),
        materials=[_material(case, m) for m in case.materials.all()],
        notices=[NoticeOut(id=n.pk, kind=n.kind, kind_label=_label(Notice.Kind, n.kind),
                           number=n.number, issued_at=local(n.issued_at), body=n.body,
                           resolved_at=local(n.resolved_at)) for n in notices],
        history=[_event(e) for e in case.events.all()],
        tasks=[TaskOut.build(t, case, deadline_state=task_states.get(t.pk, "green"),
                             definition=definition) for t in case.tasks.all()],
        extensions=[ExtensionOut(
            id=x.pk, working_days=x.working_days, reason=x.reason, state=x.state,
            state_label=_label(Extension.State, x.state), requested_by=str(x.requested_by),
            requested_at=local(x.requested_at),
            decided_by=str(x.decided_by) if x.decided_by else None,
            decided_at=local(x.decided_at), decision_note=x.decision_note) for x in extensions],
        visits=[VisitOut(at=local(v.at), purpose=v.purpose, hall=v.hall.name if v.hall else None,
                         window=v.window.number if v.window else None) for v in visits],
        clock_stops=[ClockStopOut(kind=s.kind, kind_label=_label(ClockStop.Kind, s.kind),
                                  procedure=s.procedure, procedure_label=s.get_procedure_display()
                                  if s.procedure else "", ground=s.ground,
                                  ground_label=s.get_ground_display() if s.ground else "",
                                  reason=s.reason, expected_working_days=s.expected_working_days,
                                  started_at=local(s.started_at), ended_at=local(s.ended_at))
                     for s in stops],
        available_actions=[CaseActionOut(code=a.code, label=a.label, task_id=a.task_id,
                                     ops=list(a.ops)) for a in actions],
        licences=[CaseLicenceOut(identifier=lc.identifier, type_name=lc.type.name,
                                 verify_path=verify_path(lc.identifier))
                  for lc in (licences_of_case(case.pk) if case.delivered_at else [])],
    )
