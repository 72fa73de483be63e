"""The case API: applying, intake, the workflow's steps, extensions and the result.

Every operation uses the default auth (bearer token or session). A case the caller may not see
answers 404 (its existence is not revealed); an action the caller may not take answers 403; a
broken rule 422 with ``[{field, message}]``; an action on a case someone else changed first —
or whose state no longer allows it — 409 with a message saying so. Every state-changing
request may carry ``expected_version`` (the case ``version`` the client saw) and answers with
the case as it is now, including its new ``version``.
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema, UploadedFile
from ninja.errors import HttpError
from ninja.params import HeaderEx, P
from pydantic import Field

from tongban.cases.workflows.models import StepTask, TaskStatus
from tongban.catalog.models import Item, Material
from tongban.clock import selectors as clock
from tongban.core import prepared
from tongban.core.errors import Problem, RuleViolation
from tongban.core.keyset import Cursor
from tongban.core.schemas import BoundedDateTime, PageNumber
from tongban.organizations.models import Window

from . import selectors, services
from .actions import available_actions
from .detail import case_detail_response, rendered_response
from .forms import case_form_fields
from .materials import case_material_add
from .models import Case, Extension
from .schemas import (
    AcceptIn,
    CaseCreateIn,
    CaseOut,
    CasePageOut,
    CaseSummaryOut,
    DeliverIn,
    ErrorOut,
    ExtensionDecideIn,
    ExtensionIn,
    HaltIn,
    OptionalReasonIn,
    ProblemsOut,
    PromiseIn,
    ProxyReceiveIn,
    ReasonIn,
    RefuseIn,
    StepActIn,
    SupplementIn,
    SuspendIn,
    VersionIn,
    VisitIn,
    case_out,
)

router = Router(tags=["cases"])

# What a state-changing operation may answer.
ACTION: dict[int, Any] = {200: CaseOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
                          422: ProblemsOut}
CREATED: dict[int, Any] = {201: CaseOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
                           422: ProblemsOut}


# --- helpers ----------------------------------------------------------------------------------

def _case(request: HttpRequest, number_or_id: str) -> Case:
    case = selectors.case_find(request.user, number_or_id)
    if case is None:
        raise HttpError(404, _("办件不存在，或您无权查看"))
    return case


def _task(request: HttpRequest, task_id: int) -> StepTask:
    from tongban.cases.workflows import selectors as workflow_selectors

    task = workflow_selectors.task_find(request.user, task_id)
    if task is None:
        raise HttpError(404, _("环节任务不存在，或您无权查看"))
    return task


# The item applied for, by implementation code: both reads compiled once (``core.prepared``);
# a code's item id is remembered (checked against the row read, which is read every time).
_ITEM_ID = prepared.Values(lambda code: Item.objects.filter(implementation_code=code)
                           .values_list("pk", flat=True)[:1])
_ITEM = prepared.Lookup(lambda pk: Item.objects.select_related("current", "department")
                        .filter(pk=pk))
_item_ids: dict[str, int] = {}


def _item(code: str) -> Item | None:
    remembered = _item_ids.get(code)  # (threads share the map: one read, no check-then-index)
    item = _item_row(remembered, code) if remembered is not None else None
    if item is None:
        _item_ids.pop(code, None)
        pk = _ITEM_ID.first(code)
        item = _item_row(pk, code) if pk is not None else None
        if item is not None:
            if len(_item_ids) >= 10_000:
                _item_ids.clear()
            _item_ids[code] = item.pk
    return item


def _item_row(pk: int, code: str) -> Item | None:
    try:
        item = _ITEM.get(pk)
    except Item.DoesNotExist:
        return None
    return item if item.implementation_code == code else None


def _window(window_id: int | None) -> Window | None:
    if window_id is None:
        return None
    window = Window.objects.select_related("hall").filter(pk=window_id).first()
    if window is None:
        raise RuleViolation([Problem("window", _("窗口不存在"))])
    return window


def detail(request: HttpRequest, case_id: int) -> CaseOut:
    """The case as ``request.user`` sees it (identifiers masked where the role does not need
    them), with the actions they may take on it now."""
    user = request.user
    case = selectors.case_detail(case_id)
    now = timezone.now()
    full = selectors.sees_identifiers(user, case)
    form_data = case.form_data if full else selectors.mask_form_data(
        case.form_data, case_form_fields(case.form_data))
    tasks = list(case.tasks.all())
    # The calendar's version and the hall's office hours checked once for the case and its
    # steps, and only when a clock runs (as the kept detail does).
    hours = clock.office_hours_memo()
    running = bool(tasks) or case.due_at is not None
    with clock.calendar_scope() if running else contextlib.nullcontext():
        task_states = {t.pk: selectors.task_deadline_state(
            t, now=now, hall_id=case.hall_id,
            hours=hours(case.hall_id) if t.status == TaskStatus.OPEN else None) for t in tasks}
        deadline = selectors.case_deadline_state(case, now=now, hours=hours)
    return case_out(case, full_identifiers=full, form_data=form_data, task_states=task_states,
                    deadline_state=deadline, actions=available_actions(user, case))


def answer(request: HttpRequest, case_id: int, status: int = 200) -> HttpResponse:
    """:func:`detail` as the answer of an operation: the bytes Ninja renders from it (the
    operation declares ``CaseOut``), without Ninja validating the schema a second time."""
    return rendered_response(detail(request, case_id).model_dump(), status=status)


def _version(payload: VersionIn | None) -> int | None:
    return payload.expected_version if payload is not None else None


# --- applying ---------------------------------------------------------------------------------

# The deepest row a page number reaches (OFFSET reads and drops every row above it): beyond it
# the ``next`` cursor pages on at constant cost. ``count`` is exact up to COUNT_CAP.
MAX_OFFSET = 10_000
COUNT_CAP = 1_000


class CaseQuery(Schema):
    status: list[str] = Field(default_factory=list,
                              description="One or more statuses (repeat, or comma-separated)")
    item: str = Field("", description="实施编码 of the item")
    deadline_state: str = Field("", description="green / yellow / red")
    due_before: BoundedDateTime | None = Field(None, description="Due strictly before this instant")
    page: PageNumber = Field(1, description=f"Page number; rows beyond the first {MAX_OFFSET:,} "
                             "are reached with `cursor` instead")
    page_size: int = Field(20, ge=1, le=100)
    cursor: str = Field("", max_length=64, description="The `next` (or `previous`) of the page "
                        "before: keyset paging, constant cost at any depth; `page` is then "
                        "ignored")


@router.get("/cases", response={200: CasePageOut, 422: ProblemsOut}, summary="Cases I may see")
def list_cases(request: HttpRequest, query: Query[CaseQuery]) -> Any:
    """Applicants: their own cases (as applicant or agent). Officers and heads: their
    department's (and those with a step of their department). Clerks: their hall's. Proxy
    agents: those their street/town centre receives. Supervisors and the bureau: all.
    Newest first.

    Paging: follow `next` (a cursor) to the following page — constant cost however deep.
    `page` numbers still work for the first 10,000 rows. `count` is exact up to 1,000
    (`count_exact` true); above, it is 1,000 and `count_exact` is false."""
    filters = selectors.check_filter(statuses=query.status, item=query.item,
                                     deadline_state=query.deadline_state,
                                     due_before=query.due_before)
    now = timezone.now()
    branches = selectors.visible_branches(request.user)  # read once for the count and the page
    count, exact = selectors.case_count(request.user, filters, cap=COUNT_CAP, now=now,
                                        branches=branches)
    if query.cursor:
        try:
            cursor = Cursor.decode(query.cursor)
        except (ValueError, OverflowError):
            raise RuleViolation([Problem("cursor", _("分页游标无效，请使用上一页返回的next"))]) \
                from None
        page = selectors.case_page(request.user, filters, cursor=cursor, size=query.page_size,
                                   now=now, branches=branches)
        rows, after, before = page.rows, page.next, page.previous
    else:
        start = (query.page - 1) * query.page_size
        if start >= MAX_OFFSET:
            raise RuleViolation([Problem("page", _("页码过大：前%(n)s条之后请用next游标翻页") % {
                "n": MAX_OFFSET})])
        found = selectors.case_offset_page(request.user, filters, offset=start,
                                           size=query.page_size + 1, now=now, branches=branches)
        rows = found[:query.page_size]
        after = Cursor(forward=True, value=rows[-1].created_at, pk=rows[-1].pk).encode() \
            if len(found) > query.page_size else None
        before = Cursor(forward=False, value=rows[0].created_at, pk=rows[0].pk).encode() \
            if rows and start > 0 else None
    states = selectors.case_deadline_states(rows, now=now)
    return CasePageOut(count=count, count_exact=exact, page=query.page,
                       page_size=query.page_size, next=after, previous=before,
                       items=[CaseSummaryOut.build(c, deadline_state=states[c.pk]) for c in rows])


@router.post("/cases", response=CREATED, summary="Start an application (draft)")
def create_case(request: HttpRequest, payload: CaseCreateIn,
                idempotency_key: HeaderEx[str, P(alias="Idempotency-Key")] = "") -> Any:
    """A draft for the item's current published version. From a citizen's or an enterprise's
    account the ``applicant`` is the account holder (or its company); to apply for someone else
    the caller sends ``agent`` — themself, with the authorisation record — and the person as
    ``applicant``. Anything else is a 422 naming the field. At a window a clerk creates it for a
    walk-in.

    Send an ``Idempotency-Key`` header: a retry with the same key returns the same case
    instead of a second one.
    """
    item = _item(payload.item.strip())
    if item is None:
        raise RuleViolation([Problem("item", _("没有实施编码为“%(code)s”的事项") % {
            "code": payload.item})])
    agent = None
    if payload.agent is not None:
        agent = services.AgentData(name=payload.agent.name, id_number=payload.agent.id_number,
                                   authorization=payload.agent.authorization)
    case = services.case_create(
        actor=request.user, item=item, channel=payload.channel,
        applicant=services.ApplicantData(kind=payload.applicant.kind, name=payload.applicant.name,
                                         id_number=payload.applicant.id_number,
                                         phone=payload.applicant.phone),
        agent=agent, form_data=payload.form_data, idempotency_key=idempotency_key.strip())
    return answer(request, case.pk, 201)


@router.post("/proxy/cases", response=CREATED, summary="Proxy desk: receive a walk-in (multipart)")
def proxy_receive(request: HttpRequest, payload: Form[str],
                  idempotency_key: HeaderEx[str, P(alias="Idempotency-Key")] = "") -> Any:
    """代办受理 at a street/town centre, as the proxy desk's page does (``case_proxy_receive``):
    ``payload`` is JSON (``item``, ``applicant``, ``form_data``); each material's file is a part
    named ``material.<id>``. The case is created, its materials attached, submitted and accepted
    — the resident's visit — all or nothing; a bad file is a 422 naming ``material.<id>``."""
    try:
        data = ProxyReceiveIn.model_validate_json(payload)
    except ValueError as exc:
        raise RuleViolation([Problem("payload", _("payload 不是有效的受理数据：%(e)s") % {
            "e": str(exc).splitlines()[0][:200]})]) from None
    item = _item(data.item.strip())
    if item is None or item.current is None:
        raise RuleViolation([Problem("item", _("没有实施编码为“%(code)s”的事项") % {
            "code": data.item})])
    materials = {f"material.{m.pk}": m for m in item.current.materials.all()}
    unknown = sorted(set(request.FILES) - set(materials))
    if unknown:
        raise RuleViolation([Problem(name, _("该事项没有这项材料")) for name in unknown])
    case = services.case_proxy_receive(
        actor=request.user, item=item, form_data=data.form_data,
        applicant=services.ApplicantData(kind=data.applicant.kind, name=data.applicant.name,
                                         id_number=data.applicant.id_number,
                                         phone=data.applicant.phone),
        uploads=[(materials[name], request.FILES[name]) for name in sorted(request.FILES)],
        idempotency_key=idempotency_key.strip()[:64])
    return answer(request, case.pk, 201)


@router.get("/cases/{number_or_id}", response={200: CaseOut, 404: ErrorOut},
            summary="One case with history, notices, materials and steps")
def get_case(request: HttpRequest, number_or_id: str) -> Any:
    """By case number (20 digits) or id. ID numbers, phones and addresses are masked for roles
    that do not need them (only the applicant's side and the handling staff see them whole).
    A staff member's read is audited (``case.viewed``)."""
    # The case row only (permission, masking, audit); the rest is kept per state (``detail``).
    case = selectors.case_head(request.user, number_or_id)
    if case is None:
        raise HttpError(404, _("办件不存在，或您无权查看"))
    services.case_data_access_record(actor=request.user, case=case, what="viewed")
    response = case_detail_response(request, request.user, case)
    return response if response is not None else answer(request, case.pk)


@router.post("/cases/{number_or_id}/materials", response=CREATED,
             summary="Upload a material (multipart)")
def upload_material(request: HttpRequest, number_or_id: str, file: File[UploadedFile],
                    material: Form[int | None] = None, name: Form[str] = "",
                    expected_version: Form[int | None] = None) -> Any:
    """``material``: the catalog material (id) this file is for; without it, ``name`` names an
    additional document. PDF, JPG, PNG or OFD, judged by content; size limited."""
    case = _case(request, number_or_id)
    record = None
    if material is not None:
        record = Material.objects.filter(pk=material).first()
        if record is None:
            raise RuleViolation([Problem("material", _("材料不存在"))])
    case_material_add(actor=request.user, case=case, material=record, name=name, upload=file,
                      original_name=file.name or "", expected_version=expected_version)
    return answer(request, case.pk, 201)


@router.get("/cases/{number_or_id}/materials/{record_id}/file", url_name="case_material_file",
            response={404: ErrorOut}, summary="Download a material's file",
            openapi_extra={"responses": {200: {
                "description": "The file as uploaded (PDF, JPG, PNG or OFD)",
                "content": {"application/octet-stream": {"schema": {
                    "type": "string", "format": "binary"}}}}}})
def download_material(request: HttpRequest, number_or_id: str, record_id: int) -> Any:
    """Whoever may see the case may download its materials."""
    case = _case(request, number_or_id)
    record = case.materials.filter(pk=record_id).exclude(file="").first()
    if record is None:
        raise HttpError(404, _("材料文件不存在"))
    services.case_data_access_record(actor=request.user, case=case, what="material_downloaded",
                                     detail={"material": record.pk, "name": record.name})
    response = FileResponse(record.file.open("rb"), content_type=record.content_type,
                            as_attachment=True, filename=record.original_name or record.file.name or "")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@router.post("/cases/{number_or_id}/materials/promise", response=ACTION,
             summary="Promise a 容缺 material in writing")
def promise_material(request: HttpRequest, number_or_id: str, payload: PromiseIn) -> Any:
    case = _case(request, number_or_id)
    material = Material.objects.filter(pk=payload.material).first()
    if material is None:
        raise RuleViolation([Problem("material", _("材料不存在"))])
    services.case_material_promise(actor=request.user, case=case, material=material,
                                   promise=payload.promise, promised_by=payload.promised_by,
                                   expected_version=payload.expected_version)
    return answer(request, case.pk)


@router.post("/cases/{number_or_id}/submit", response=ACTION, summary="Submit the application")
def submit(request: HttpRequest, number_or_id: str, payload: VersionIn | None = None) -> Any:
    """The draft gets its case number. Submitting again answers the same case."""
    case = _case(request, number_or_id)
    services.case_submit(actor=request.user, case=case, expected_version=_version(payload))
    return answer(request, case.pk)


# --- intake -----------------------------------------------------------------------------------

@router.post("/cases/{number_or_id}/pre-review", response=ACTION, summary="Start pre-review (预审)")
def pre_review(request: HttpRequest, number_or_id: str, payload: VersionIn | None = None) -> Any:
    case = _case(request, number_or_id)
    services.case_pre_review(actor=request.user, case=case, expected_version=_version(payload))
    return answer(request, case.pk)


@router.post("/cases/{number_or_id}/supplement", response=ACTION,
             summary="Request a supplement (一次性告知)")
def request_supplement(request: HttpRequest, number_or_id: str, payload: SupplementIn) -> Any:
    """Lists every missing or faulty item at once in a one-time notice. Before acceptance the
    clock has not started; after acceptance the time until the supply is a clock stop."""
    case = _case(request, number_or_id)
    items = [services.SupplementItem(name=i.name, reason=i.reason, material_id=i.material_id)
             for i in payload.items]
    window = _window(payload.window)
    if services.at_window(request.user, window):
        services.case_window_supplement(actor=request.user, case=case, items=items,
                                        note=payload.note, window=window,
                                        expected_version=payload.expected_version)
    else:
        services.case_request_supplement(actor=request.user, case=case, items=items,
                                         note=payload.note,
                                         expected_version=payload.expected_version)
    return answer(request, case.pk)


@router.post("/cases/{number_or_id}/supply", response=ACTION,
             summary="Declare the supplement supplied")
def supply(request: HttpRequest, number_or_id: str, payload: VersionIn | None = None) -> Any:
    """After uploading what the one-time notice asked for; the case goes back to where it was."""
    case = _case(request, number_or_id)
    services.case_supply(actor=request.user, case=case, expected_version=_version(payload))
    return answer(request, case.pk)


@router.post("/cases/{number_or_id}/accept", response=ACTION, summary="Accept (受理)")
def accept(request: HttpRequest, number_or_id: str, payload: AcceptIn | None = None) -> Any:
    """The clock starts; an acceptance notice is issued and the workflow begins. A 即收即办 case
    is decided and handed over in the same transaction."""
    case = _case(request, number_or_id)
    window = _window(payload.window if payload else None)
    if services.at_window(request.user, window):
        services.case_window_accept(actor=request.user, case=case, window=window,
                                    expected_version=_version(payload))
    else:
        services.case_accept(actor=request.user, case=case, expected_version=_version(payload))
    return answer(request, case.pk)


@router.post("/cases/{number_or_id}/refuse", response=ACTION, summary="Refuse (不予受理)")
def refuse(request: HttpRequest, number_or_id: str, payload: RefuseIn) -> Any:
    """At a window (a window clerk, or ``window`` named) the refusal is handed over in person:
    it records the applicant's visit, as on the window's page."""
    case = _case(request, number_or_id)
    window = _window(payload.window)
    if services.at_window(request.user, window):
        services.case_window_refuse(actor=request.user, case=case, reason=payload.reason,
                                    window=window, expected_version=payload.expected_version)
    else:
        services.case_refuse(actor=request.user, case=case, reason=payload.reason,
                             expected_version=payload.expected_version)
    return answer(request, case.pk)


# --- during handling --------------------------------------------------------------------------

@router.post("/cases/{number_or_id}/halt", response=ACTION,
             summary="Suspend the procedure (中止): the clock stops")
def halt(request: HttpRequest, number_or_id: str, payload: HaltIn) -> Any:
    """For a legal reason or at the applicant's request; the applicant gets a suspension
    notice. ``POST …/resume`` ends it."""
    case = _case(request, number_or_id)
    services.case_halt(actor=request.user, case=case, ground=payload.ground,
                       reason=payload.reason, expected_version=payload.expected_version)
    return answer(request, case.pk)


@router.post("/cases/{number_or_id}/resume", response=ACTION,
             summary="End a special procedure or a suspension (the clock runs again)")
def resume(request: HttpRequest, number_or_id: str, payload: VersionIn | None = None) -> Any:
    case = _case(request, number_or_id)
    services.case_resume(actor=request.user, case=case, expected_version=_version(payload))
    return answer(request, case.pk)


@router.post("/tasks/{task_id}/act", response=ACTION, tags=["cases"],
             summary="Act on a step: approve, forward, deny or return")
def act(request: HttpRequest, task_id: int, payload: StepActIn) -> Any:
    """``approve`` passes the step (and decides at a deciding step), ``forward`` hands a 代办
    case over, ``deny`` decides against (reason required), ``return`` sends the case back to
    ``return_to``."""
    task = _task(request, task_id)
    services.case_step(actor=request.user, task=task, action=payload.action, reason=payload.reason,
                       return_to=payload.return_to, expected_version=payload.expected_version)
    return answer(request, task.case_id)


@router.post("/tasks/{task_id}/suspend", response=ACTION,
             summary="Start a special procedure (特别程序): the clock stops")
def suspend(request: HttpRequest, task_id: int, payload: SuspendIn) -> Any:
    task = _task(request, task_id)
    services.case_suspend(actor=request.user, task=task, procedure=payload.procedure,
                          reason=payload.reason,
                          expected_working_days=payload.expected_working_days,
                          expected_version=payload.expected_version)
    return answer(request, task.case_id)


@router.post("/tasks/{task_id}/extension", response=ACTION, summary="Request an extension (延期)")
def request_extension(request: HttpRequest, task_id: int, payload: ExtensionIn) -> Any:
    """The department head decides it (``POST /extensions/{id}/decide``)."""
    task = _task(request, task_id)
    services.case_request_extension(actor=request.user, task=task,
                                    working_days=payload.working_days, reason=payload.reason,
                                    expected_version=payload.expected_version)
    return answer(request, task.case_id)


@router.post("/extensions/{extension_id}/decide", response=ACTION,
             summary="Approve or reject an extension (department head)")
def decide_extension(request: HttpRequest, extension_id: int, payload: ExtensionDecideIn) -> Any:
    extension = Extension.objects.filter(pk=extension_id).select_related("case").first()
    if extension is None or selectors.case_find(request.user, str(extension.case_id)) is None:
        raise HttpError(404, _("延期申请不存在，或您无权查看"))
    services.case_decide_extension(actor=request.user, extension=extension,
                                   approve=payload.approve, note=payload.note,
                                   expected_version=payload.expected_version)
    return answer(request, extension.case_id)


@router.post("/cases/{number_or_id}/visits", response=CREATED,
             summary="Record an in-person visit (跑动)")
def record_visit(request: HttpRequest, number_or_id: str, payload: VisitIn) -> Any:
    """More visits than the item promises flags the case (``excess_visits``)."""
    case = _case(request, number_or_id)
    services.case_record_visit(actor=request.user, case=case, purpose=payload.purpose,
                               window=_window(payload.window),
                               expected_version=payload.expected_version)
    return answer(request, case.pk, 201)


# --- the end ----------------------------------------------------------------------------------

@router.post("/cases/{number_or_id}/deliver", response=ACTION, summary="Deliver the result")
def deliver(request: HttpRequest, number_or_id: str, payload: DeliverIn) -> Any:
    case = _case(request, number_or_id)
    services.case_deliver(actor=request.user, case=case, delivery=payload.delivery,
                          expected_version=payload.expected_version)
    return answer(request, case.pk)


@router.post("/cases/{number_or_id}/withdraw", response=ACTION,
             summary="Withdraw the application (applicant)")
def withdraw(request: HttpRequest, number_or_id: str, payload: OptionalReasonIn | None = None) -> Any:
    case = _case(request, number_or_id)
    services.case_withdraw(actor=request.user, case=case,
                           reason=payload.reason if payload else "",
                           expected_version=_version(payload))
    return answer(request, case.pk)


@router.post("/cases/{number_or_id}/terminate", response=ACTION,
             summary="Terminate the procedure (终止)")
def terminate(request: HttpRequest, number_or_id: str, payload: ReasonIn) -> Any:
    case = _case(request, number_or_id)
    services.case_terminate(actor=request.user, case=case, reason=payload.reason,
                            expected_version=payload.expected_version)
    return answer(request, case.pk)
