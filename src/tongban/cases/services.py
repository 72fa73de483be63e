"""Case services: every transition of a case, with its permission check, history event, audit
record and deadline, in one transaction.

The state machine is ``TRANSITIONS``: action → (states it may start from, state it leads to).
Concurrency: each service locks the case row and, when the caller passes the version it saw
(``expected_version``), refuses with :class:`CaseConflict` if someone acted first; the status
check after the lock makes the second of two simultaneous actions fail cleanly either way.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc

from tongban.accounts.identifiers import id_number_compact, id_number_problem
from tongban.accounts.models import Role
from tongban.accounts.permissions import SYSTEM
from tongban.audit.services import audit_record
from tongban.cases.workflows import services as workflows
from tongban.cases.workflows.definition import END
from tongban.cases.workflows.models import StepTask, TaskStatus
from tongban.catalog.models import Commitment, Item, Material, VersionStatus
from tongban.clock import selectors as clock
from tongban.clock.deadline import SHANGHAI, WORKING_DAYS, Stop, compute_deadline
from tongban.core import prepared
from tongban.core.errors import AccessDenied, Problem, RuleViolation, inside_callers_transaction
from tongban.organizations.models import Department

from . import findings, policies
from .findings import Finding
from .models import (
    ApplicantKind,
    Case,
    CaseCounter,
    CaseEvent,
    CaseMaterial,
    Channel,
    ClockStop,
    Delivery,
    Extension,
    HaltGround,
    Notice,
    SpecialProcedure,
    Status,
    Visit,
)

S = Status
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "submit": (frozenset({S.DRAFT}), S.SUBMITTED),
    "pre_review": (frozenset({S.SUBMITTED}), S.PRE_REVIEW),
    "request_supplement": (frozenset({S.SUBMITTED, S.PRE_REVIEW, S.ACCEPTED}), S.SUPPLEMENT),
    # Back to where it was: submitted before acceptance, accepted after.
    "supply": (frozenset({S.SUPPLEMENT}), None),
    "accept": (frozenset({S.SUBMITTED, S.PRE_REVIEW}), S.ACCEPTED),
    # 行政许可法 Art. 32: no answer within five working days of receipt is acceptance.
    "accept_by_law": (frozenset({S.SUBMITTED, S.PRE_REVIEW}), S.ACCEPTED),
    "refuse": (frozenset({S.SUBMITTED, S.PRE_REVIEW}), S.REFUSED),
    "step": (frozenset({S.ACCEPTED}), S.ACCEPTED),
    "suspend": (frozenset({S.ACCEPTED}), S.SUSPENDED),  # 特别程序 (Art. 45)
    "halt": (frozenset({S.ACCEPTED}), S.HALTED),  # 中止
    "resume": (frozenset({S.SUSPENDED, S.HALTED}), S.ACCEPTED),
    "request_extension": (frozenset({S.ACCEPTED, S.SUSPENDED}), None),
    "extend": (frozenset({S.ACCEPTED, S.SUSPENDED}), None),
    "approve": (frozenset({S.ACCEPTED}), S.APPROVED),
    "deny": (frozenset({S.ACCEPTED}), S.DENIED),
    "deliver": (frozenset({S.APPROVED, S.DENIED}), S.DELIVERED),
    "withdraw": (frozenset({S.DRAFT, S.SUBMITTED, S.PRE_REVIEW, S.SUPPLEMENT, S.ACCEPTED,
                            S.SUSPENDED, S.HALTED}), S.WITHDRAWN),
    "terminate": (frozenset({S.SUPPLEMENT, S.ACCEPTED, S.SUSPENDED, S.HALTED}), S.TERMINATED),
    "record_visit": (frozenset(set(S) - {S.DRAFT}), None),
}
FINAL = frozenset({S.DELIVERED, S.REFUSED, S.WITHDRAWN, S.TERMINATED})


class CaseConflict(RuleViolation):
    """Someone else acted on the case first; reload and try again."""


def _conflict(message: Any) -> CaseConflict:
    return CaseConflict([Problem("version", message)])


def _deny() -> AccessDenied:
    return AccessDenied(_("您无权对该办件执行此操作"))



# --- the core of every transition -------------------------------------------------------------

# Every transition starts here; the statement is compiled once (``core.prepared``). Only what
# every transition reads is joined; the department and hall load on first use.
# of=self: PostgreSQL refuses FOR UPDATE on the nullable side of the outer join (workflow).
_LOCKED = prepared.Lookup(lambda pk: Case.objects.select_for_update(of=("self",))
                          .select_related("item_version", "workflow").filter(pk=pk))
_LOCKED_TASK = prepared.Lookup(lambda pk: StepTask.objects.select_for_update().filter(pk=pk))


def _lock(case: Case | int, expected_version: int | None) -> Case:
    pk = case if isinstance(case, int) else case.pk
    locked = _LOCKED.get(pk)
    if expected_version is not None and locked.version != expected_version:
        raise _conflict(_("该办件已被他人处理（版本%(now)s，您看到的是版本%(seen)s），请刷新后重试") % {
            "now": locked.version, "seen": expected_version})
    return locked


def _check(case: Case, action: str) -> None:
    allowed, _to = TRANSITIONS[action]
    if case.status not in allowed:
        raise _conflict(_("办件当前状态为“%(status)s”，不能执行“%(action)s”") % {
            "status": S(case.status).label, "action": ACTION_LABELS.get(action, action)})


def _event(case: Case, *, actor: Any, action: str, from_status: str, reason: str = "",
           data: dict[str, Any] | None = None, at: dt.datetime | None = None,
           counted: bool = False) -> CaseEvent:
    """Append the case's next history event and its audit record.

    ``counted``: the caller has already raised ``case.event_count`` and written it with its own
    update of the locked case row (``_move``, ``case_create``); otherwise it is written here.
    """
    if not counted:
        case.event_count += 1
        prepared.update(case, ["event_count"])
    seq = case.event_count
    user = actor if getattr(actor, "pk", None) else None
    event = CaseEvent(
        case=case, seq=seq, at=at or timezone.now(), actor=user, actor_name=str(actor) if actor else "",
        action=action, from_status=from_status, to_status=case.status, reason=reason,
        data=data or {})
    prepared.insert(event)
    audit_record(actor=actor, action=f"case.{action}", object_type="case",
                 object_id=case.number or case.pk,
                 detail={"from": from_status, "to": case.status, "event": seq})
    return event


def _move(case: Case, action: str, *, actor: Any, to: str | None = None, reason: str = "",
          data: dict[str, Any] | None = None, fields: Sequence[str] = (),
          at: dt.datetime | None = None) -> CaseEvent:
    """Apply ``action``: status change, version bump, history event and audit, together."""
    _check(case, action)
    before = case.status
    target = to or TRANSITIONS[action][1] or before
    case.status = target
    case.version += 1  # the row is locked (``_lock``): nobody else changes it meanwhile
    case.event_count += 1
    prepared.update(case, ["status", "version", "event_count", *fields])
    return _event(case, actor=actor, action=action, from_status=before, reason=reason,
                  data=data, at=at, counted=True)


ACTION_LABELS = {
    "submit": _("提交"), "pre_review": _("预审"), "request_supplement": _("一次性告知补正"),
    "supply": _("补正材料"), "accept": _("受理"), "accept_by_law": _("依法视为受理"),
    "refuse": _("不予受理"), "step": _("办理"), "suspend": _("特别程序"), "halt": _("中止办理"),
    "resume": _("恢复计时"), "request_extension": _("申请延期"),
    "extend": _("批准延期"), "approve": _("准予办理"), "deny": _("不予办理"),
    "deliver": _("送达"), "withdraw": _("撤回"), "terminate": _("终止"),
    "record_visit": _("登记跑动"),
}


def _require_reason(reason: str, field: str = "reason") -> None:
    if not reason.strip():
        raise RuleViolation([Problem(field, _("须填写理由"))])


def refresh_due(case: Case, *, now: dt.datetime | None = None,
                stops: Sequence[Stop] | None = None) -> None:
    """Recompute the due instant from acceptance, clock stops and approved extensions
    (``stops``: the case's own clock stops unless given)."""
    if case.accepted_at is None:
        return
    version = case.item_version
    if stops is None:
        stops = [Stop(s.started_at, s.ended_at or (now or timezone.now()))
                 for s in case.clock_stops.all()]
    result = compute_deadline(
        start=case.accepted_at, category=version.commitment, limit=version.committed_limit,
        unit=version.committed_limit_unit, stops=stops,
        extension_working_days=case.extension_working_days, calendar=clock.work_calendar(),
        hours=clock.office_hours(case.hall_id), same_day_cutoff=clock.same_day_cutoff())
    case.due_at, case.due_provisional = result.due, result.provisional


def _notice(case: Case, kind: str, *, actor: Any, body: dict[str, Any]) -> Notice:
    prefix = {"acceptance": "SL", "supplement": "BZ", "refusal": "BY", "suspension": "TB",
              "halt": "ZZ", "extension": "YQ", "decision": "JD"}[kind]
    # Acceptance, refusal and decision happen once in a case's life (the state machine allows
    # no second one); the others may repeat and are numbered in turn.
    once = kind in {Notice.Kind.ACCEPTANCE, Notice.Kind.REFUSAL, Notice.Kind.DECISION}
    count = 1 if once else case.notices.filter(kind=kind).count() + 1
    notice = Notice(
        case=case, kind=kind, number=f"{prefix}{case.number}-{count}", issued_at=timezone.now(),
        issued_by=actor if getattr(actor, "pk", None) else None, body=body)
    prepared.insert(notice)
    return notice


def _after_commit(event: CaseEvent) -> None:
    """Work after the transition commits: notifications to applicant and handlers, sent by a
    background task that runs only if the transition commits."""
    from tongban.cases.notifications.tasks import send_case_event
    from tongban.scheduling.queue import enqueue_after_commit

    enqueue_after_commit(send_case_event, event.pk)


# --- reading personal data ---------------------------------------------------------------------

@transaction.atomic
def case_data_access_record(*, actor: Any, case: Case, what: str,
                            detail: dict[str, Any] | None = None) -> None:
    """Staff reading an applicant's personal data — the case with its identifiers, a material's
    file, a notice's page or PDF — is an exercise of power and is audited (``case.<what>``:
    ``viewed``, ``material_viewed``, ``material_downloaded``, ``notice_viewed``,
    ``notice_downloaded``). The applicant's own reads are not."""
    if policies.is_applicant_side(actor, case):
        return
    audit_record(actor=actor, action=f"case.{what}", object_type="case",
                 object_id=case.number or case.pk, detail=detail or {})


# --- creating and submitting ------------------------------------------------------------------

@dataclass
class ApplicantData:
    kind: str
    name: str
    id_number: str
    phone: str = ""


@dataclass
class AgentData:
    name: str
    id_number: str
    authorization: str
    user: Any = None


def _check_party(applicant: ApplicantData, agent: AgentData | None) -> list[Problem]:
    problems: list[Problem] = []
    if applicant.kind not in ApplicantKind.values:
        problems.append(Problem("applicant.kind", _("申请人类型须为自然人或法人")))
    if not applicant.name.strip():
        problems.append(Problem("applicant.name", _("申请人姓名/名称不能为空")))
    if applicant.kind == ApplicantKind.NATURAL:
        message = id_number_problem(applicant.id_number)
        if message is not None:
            problems.append(Problem("applicant.id_number", message))
    elif not uscc.is_valid(applicant.id_number or ""):
        problems.append(Problem("applicant.id_number", _("统一社会信用代码无效")))
    if agent is not None:
        if not agent.name.strip():
            problems.append(Problem("agent.name", _("代理人姓名不能为空")))
        message = id_number_problem(agent.id_number, label=_("代理人公民身份号码"))
        if message is not None:
            problems.append(Problem("agent.id_number", message))
        if not agent.authorization.strip():
            problems.append(Problem("agent.authorization", _("代理办理须提供授权委托说明")))
    return problems


def _same_name(a: str, b: str) -> bool:
    return "".join(a.split()) == "".join(b.split())


def _check_account_party(actor: Any, applicant: ApplicantData, agent: AgentData | None,
                         problems: list[Problem]) -> list[Problem]:
    """An application from a citizen's or an enterprise's own account: its applicant is the
    account holder — the person, or for an enterprise account its company. Applying for anyone
    else is done as their agent (代理人): the account holder themself, named as the agent, with
    the authorisation record, exactly as at the window; an enterprise account is no agent.
    ``problems`` are those already found, so that a field is not reported twice."""
    taken = {p.field for p in problems}
    found: list[Problem] = []

    def add(field: str, message: Any) -> None:
        if field not in taken:
            found.append(Problem(field, message))

    enterprise = getattr(actor, "role", None) == Role.ENTERPRISE
    if agent is not None:
        if enterprise:
            add("agent", _("法人账户不能作为代理人代他人申请；代理人须使用本人的自然人账户申请"))
            return found
        if id_number_compact(agent.id_number) != (actor.id_number or "").upper():
            add("agent.id_number", _("代理人须为登录账户本人：代理人公民身份号码须与账户一致"))
        if not _same_name(agent.name, actor.real_name or ""):
            add("agent.name", _("代理人须为登录账户本人：代理人姓名须为“%(name)s”") % {
                "name": actor.real_name})
        return found
    other = _("网上申请的申请人须为账户本人；为他人申请，须以代理人身份提交并提供授权委托说明")
    if enterprise:
        if applicant.kind != ApplicantKind.LEGAL:
            add("applicant.kind", _("法人账户的申请人须为本单位（法人）"))
        elif uscc.compact(applicant.id_number or "").upper() != (actor.uscc or "").upper():
            add("applicant.id_number", _("法人账户的申请人须为本单位：统一社会信用代码须为%(uscc)s") % {
                "uscc": actor.uscc})
        elif not _same_name(applicant.name, actor.real_name or ""):
            add("applicant.name", _("法人账户的申请人须为本单位：名称须为“%(name)s”") % {
                "name": actor.real_name})
        return found
    if applicant.kind != ApplicantKind.NATURAL:
        add("applicant.kind", other)
    elif id_number_compact(applicant.id_number) != (actor.id_number or "").upper():
        add("applicant.id_number", other)
    elif not _same_name(applicant.name, actor.real_name or ""):
        add("applicant.name", _("申请人须为账户本人：姓名须为“%(name)s”") % {"name": actor.real_name})
    return found


def _next_number(case: Case, at: dt.datetime) -> str:
    """<division code><yyyymmdd><6-digit daily sequence>, e.g. 62010020261126000042."""
    day = at.astimezone(SHANGHAI).date()
    code = _DEPARTMENT.get(case.department_id).division.code[:6]
    connection = transaction.get_connection()
    table = connection.ops.quote_name(CaseCounter._meta.db_table)
    where = "day = %s AND division_code = %s"
    params = [connection.ops.adapt_datefield_value(day), code]
    # One UPDATE takes the day's row and keeps it locked until the submission commits, so two
    # submissions never get the same number; the first of the day creates the row.
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET value = value + 1 WHERE {where}", params)
        if cursor.rowcount == 0:
            CaseCounter.objects.get_or_create(day=day, division_code=code)
            cursor.execute(f"UPDATE {table} SET value = value + 1 WHERE {where}", params)
        cursor.execute(f"SELECT value FROM {table} WHERE {where}", params)
        value = cursor.fetchone()[0]
    return f"{code}{day:%Y%m%d}{value:06d}"


_DEPARTMENT = prepared.Lookup(lambda pk: Department.objects.select_related("division").filter(pk=pk))


@transaction.atomic
def case_create(*, actor: Any, item: Item, channel: str, applicant: ApplicantData,
                form_data: dict[str, Any], agent: AgentData | None = None,
                hall: Any = None, idempotency_key: str = "") -> Case:
    """Start a draft application for the item's current published version.

    From a citizen's or an enterprise's account the applicant is the account holder (or its
    company), or the account holder is the agent with an authorisation record
    (:func:`_check_account_party`); at a window, a clerk creates it for a walk-in. The form data
    is checked against the item version's form definition.
    """
    from .forms import form_validate

    if idempotency_key:
        if len(idempotency_key) > 64:
            raise RuleViolation([Problem("idempotency_key", _("幂等键不能超过64个字符"))])
        existing = _idempotent_case(actor, idempotency_key)
        if existing is not None:
            return existing
    version = item.current
    if version is None or version.status != VersionStatus.PUBLISHED:
        raise RuleViolation([Problem("item", _("该事项未发布或已取消，不能申请"))])
    if channel not in Channel.values:
        raise RuleViolation([Problem("channel", _("申请渠道无效"))])
    if not getattr(actor, "is_authenticated", False):
        raise _deny()
    public = _is_public(actor)
    problems = _check_party(applicant, agent)
    if public:
        problems.extend(_check_account_party(actor, applicant, agent, problems))
    clean, form_problems = form_validate(version=version, data=form_data)
    problems.extend(form_problems)
    if problems:
        raise RuleViolation(problems)
    if not public and getattr(actor, "role", None) not in {"clerk", "officer", "head",
                                                           "proxy_agent"}:
        raise _deny()
    natural = applicant.kind == ApplicantKind.NATURAL
    case = Case(
        item=item, item_version=version, department_id=item.department_id,
        receiving_unit_id=version.receiving_unit_id if version.commitment == Commitment.PROXY
        else None,
        hall=hall or (actor.hall if not public and getattr(actor, "hall_id", None) else None),
        channel=channel, applicant_kind=applicant.kind, applicant_name=applicant.name.strip(),
        applicant_id_number=id_number_compact(applicant.id_number) if natural
        else applicant.id_number.strip().upper(), applicant_phone=applicant.phone,
        form_data=clean, idempotency_key=idempotency_key, event_count=1,
    )
    if public:
        if agent is not None:
            case.agent = actor
        else:
            case.applicant = actor
    if agent is not None:
        case.agent_name, case.agent_id_number = agent.name.strip(), id_number_compact(agent.id_number)
        case.authorization = agent.authorization
        if agent.user is not None:
            case.agent = agent.user
    try:
        with transaction.atomic():
            prepared.insert(case)
    except IntegrityError:  # the same idempotency key raced in from a second request
        return Case.objects.get(applicant=actor, idempotency_key=idempotency_key)
    _event(case, actor=actor, action="create", from_status="", data={"channel": channel},
           counted=True)
    return case


def _is_public(user: Any) -> bool:
    return getattr(user, "role", None) in {"citizen", "enterprise"}


def _idempotent_case(actor: Any, key: str) -> Case | None:
    """The case ``actor`` already created with this idempotency key (a retried request).

    The actor's row is locked first, so a retry arriving while the first request is still
    running waits for it and then finds its case (applicants acting as agents and staff
    creating for walk-ins have no unique constraint to fall back on).
    """
    if not getattr(actor, "pk", None):
        return None
    # get_user_model(), not type(actor): a request's user is a lazy wrapper.
    get_user_model().objects.select_for_update().filter(pk=actor.pk).first()
    if _is_public(actor):
        mine = Q(applicant=actor) | Q(applicant=None, agent=actor)
    else:
        mine = Q(applicant=None, events__seq=1, events__actor=actor)
    return Case.objects.filter(mine, idempotency_key=key).first()


def missing_materials(case: Case) -> list[Material]:
    """Required materials of the pinned version neither supplied nor promised (容缺)."""
    required = _REQUIRED_MATERIALS.all(case.item_version_id)
    if not required:
        return []
    have = {m.material_id for m in _CASE_MATERIALS.all(case.pk)}
    return [m for m in required if m.pk not in have]


# Read at every acceptance (compiled once, ``core.prepared``).
_REQUIRED_MATERIALS = prepared.Lookup(lambda pk: Material.objects.filter(
    version_id=pk, necessity__in=(Material.Necessity.REQUIRED, Material.Necessity.DEFERRABLE)))
_CASE_MATERIALS = prepared.Lookup(lambda pk: CaseMaterial.objects.filter(case_id=pk,
                                                                        superseded=False))


@transaction.atomic
def case_submit(*, actor: Any, case: Case, expected_version: int | None = None) -> Case:
    """The applicant submits the draft; it gets its case number."""
    case = _lock(case, expected_version)
    if not (policies.is_applicant_side(actor, case) or policies.can_receive(actor, case)):
        raise _deny()
    if case.status != S.DRAFT:
        if case.status == S.SUBMITTED and case.submitted_at is not None:
            return case  # a repeated submission (same request retried): same answer
        _check(case, "submit")
    at = timezone.now()
    case.number = _next_number(case, at)
    case.submitted_at = at
    event = _move(case, "submit", actor=actor, fields=["number", "submitted_at"], at=at)
    _after_commit(event)
    return case


@transaction.atomic
def case_pre_review(*, actor: Any, case: Case, expected_version: int | None = None) -> Case:
    case = _lock(case, expected_version)
    if not policies.can_receive(actor, case):
        raise _deny()
    _move(case, "pre_review", actor=actor)
    return case


# --- materials --------------------------------------------------------------------------------

@transaction.atomic
def case_material_promise(*, actor: Any, case: Case, material: Material, promise: str,
                          promised_by: dt.date, expected_version: int | None = None) -> CaseMaterial:
    """容缺: the applicant promises in writing to supply a deferrable material later.

    Only before acceptance (the promise is what lets an incomplete case be accepted), only for a
    material the item version marks 容缺, never for 即收即办 (its result is handed over at once).
    The promised file must be uploaded before the result is delivered (``case_deliver``); a new
    promise for the same material replaces the earlier one.
    """
    case = _lock(case, expected_version)
    if not (policies.is_applicant_side(actor, case) or policies.can_receive(actor, case)):
        raise _deny()
    if material.version_id != case.item_version_id or not material.deferrable:
        raise RuleViolation([Problem("material", _("该材料不允许容缺后补"))])
    if case.item_version.commitment == Commitment.ON_THE_SPOT:
        raise RuleViolation([Problem("material", _("即收即办事项须材料齐全，不适用容缺后补"))])
    if case.status not in {S.DRAFT, S.SUBMITTED, S.PRE_REVIEW, S.SUPPLEMENT}:
        raise _conflict(_("办件当前状态为“%(status)s”，不能再作容缺承诺") % {
            "status": S(case.status).label})
    problems = []
    if not promise.strip():
        problems.append(Problem("promise", _("容缺须有书面承诺")))
    if not isinstance(promised_by, dt.date) or promised_by < timezone.now().astimezone(SHANGHAI).date():
        problems.append(Problem("promised_by", _("承诺补交日期不能早于今天")))
    if case.materials.filter(material=material, superseded=False,
                             state=CaseMaterial.State.SUPPLIED).exists():
        problems.append(Problem("material", _("该材料已提交，无需容缺承诺")))
    if problems:
        raise RuleViolation(problems)
    case.materials.filter(material=material, superseded=False).update(superseded=True)
    record = CaseMaterial.objects.create(
        case=case, material=material, name=material.name, state=CaseMaterial.State.PROMISED,
        promise=promise.strip(), promised_by=promised_by,
        uploaded_by=actor if getattr(actor, "pk", None) else None)
    _event(case, actor=actor, action="promise_material", from_status=case.status,
           reason=promise.strip(), data={"material": material.pk,
                                         "promised_by": promised_by.isoformat()})
    return record


# --- intake: supplement, accept, refuse -------------------------------------------------------

@dataclass
class SupplementItem:
    name: str
    reason: str
    material_id: int | None = None


class _NotOneTime(RuleViolation):
    """A later supplement notice asks for something no earlier notice of the case named."""

    def __init__(self, problems: list[Problem], *, case: Case, names: list[str]) -> None:
        super().__init__(problems)
        self.case, self.names = case, names


def case_request_supplement(*, actor: Any, case: Case, items: Sequence[SupplementItem],
                            note: str = "", expected_version: int | None = None,
                            task: StepTask | None = None) -> Notice:
    """一次性告知: list every missing or faulty material at once in one notice.

    Before acceptance the clock has not started; after acceptance the time until the applicant
    supplies counts as a clock stop. A later notice of the same case may only name materials an
    earlier notice named (supplied, but still not right); anything else is refused, and the
    attempt opens a supervision record against the department (it stays although the notice
    is refused).
    """
    try:
        return _request_supplement(actor=actor, case=case, items=items, note=note,
                                   expected_version=expected_version, task=task)
    except _NotOneTime as refused:
        violation = RuleViolation(refused.problems)
        violation.on_rollback.append(functools.partial(
            _record_not_one_time, actor=actor, case=refused.case, names=refused.names))
        if not inside_callers_transaction():
            violation.run_on_rollback()
        # Otherwise a caller's transaction (a window action: notice and visit together) is
        # rolled back with the refusal; the caller writes the record afterwards.
        raise violation from None


def _earlier_supplement_items(case: Case) -> tuple[set[int], set[str]]:
    """The materials (ids, and names for items without one) the case's notices named so far."""
    ids: set[int] = set()
    names: set[str] = set()
    for body in case.notices.filter(kind=Notice.Kind.SUPPLEMENT).values_list("body", flat=True):
        for entry in (body or {}).get("items", []):
            if entry.get("material_id"):
                ids.add(int(entry["material_id"]))
            names.add(str(entry.get("name", "")).strip())
    return ids, names


def _check_one_time(case: Case, items: Sequence[SupplementItem]) -> None:
    if not case.notices.filter(kind=Notice.Kind.SUPPLEMENT).exists():
        return
    ids, names = _earlier_supplement_items(case)
    problems, new = [], []
    for i, item in enumerate(items):
        named = item.material_id in ids if item.material_id else item.name.strip() in names
        if not named:
            new.append(item.name.strip())
            problems.append(Problem(f"items[{i}].name", _(
                "一次性告知：“%(name)s”未在本办件此前的补正告知书中列明，不能再次要求补正；"
                "再次告知只能针对已告知、补正后仍不符合要求的材料") % {"name": item.name.strip()}))
    if problems:
        raise _NotOneTime(problems, case=case, names=new)


@transaction.atomic
def _record_not_one_time(*, actor: Any, case: Case, names: list[str]) -> None:
    """The refused attempt, on record: an audit record, and a supervision record against the
    department (one per case; later attempts are audited)."""
    audit_record(actor=actor, action="case.supplement_not_one_time", object_type="case",
                 object_id=case.number or case.pk, detail={"items": names})
    # The person's department; a clerk or proxy agent answers through their hall's department.
    department = getattr(actor, "department_id", None) or (
        actor.hall.department_id if getattr(actor, "hall_id", None) else None) \
        or case.department_id
    findings.report(
        Finding.SUPPLEMENT_NOT_ONE_TIME, case=case, department=department,
        person=actor if getattr(actor, "pk", None) else None, actor=actor,
        detail=str(_("办件%(number)s再次要求补正此前未告知的材料：%(names)s") % {
            "number": case.number or case.pk, "names": "、".join(names)}))


@transaction.atomic
def _request_supplement(*, actor: Any, case: Case, items: Sequence[SupplementItem],
                        note: str, expected_version: int | None,
                        task: StepTask | None) -> Notice:
    case = _lock(case, expected_version)
    if task is not None:
        _check_task(actor, case, task, "supplement")
    elif not policies.can_receive(actor, case):
        raise _deny()
    _check(case, "request_supplement")
    if not items:
        raise RuleViolation([Problem("items", _("一次性告知须列出全部需补正的材料"))])
    problems = [Problem(f"items[{i}].reason", _("须说明补正原因"))
                for i, item in enumerate(items) if not item.reason.strip()]
    if problems:
        raise RuleViolation(problems)
    _check_one_time(case, items)
    at = timezone.now()
    if case.accepted_at is not None:
        ClockStop.objects.create(case=case, kind=ClockStop.Kind.SUPPLEMENT, started_at=at,
                                 reason=note or str(_("受理后补正")))
    notice = _notice(case, Notice.Kind.SUPPLEMENT, actor=actor, body={
        "items": [{"name": i.name, "reason": i.reason, "material_id": i.material_id}
                  for i in items], "note": note})
    event = _move(case, "request_supplement", actor=actor, reason=note,
                  data={"notice": notice.number, "items": len(items)}, at=at)
    _after_commit(event)
    return notice


@transaction.atomic
def case_supply(*, actor: Any, case: Case, expected_version: int | None = None) -> Case:
    """The applicant has uploaded what the one-time notice asked for; the case goes back."""
    case = _lock(case, expected_version)
    if not (policies.is_applicant_side(actor, case) or policies.can_receive(actor, case)):
        raise _deny()
    _check(case, "supply")
    notice = case.notices.filter(kind=Notice.Kind.SUPPLEMENT, resolved_at=None).last()
    at = timezone.now()
    if notice is not None:
        since = notice.issued_at
        supplied = set(case.materials.filter(uploaded_at__gte=since, superseded=False)
                       .values_list("material_id", flat=True))
        still = [i["name"] for i in notice.body.get("items", [])
                 if i.get("material_id") and i["material_id"] not in supplied]
        if still:
            raise RuleViolation([Problem("materials", _("尚未补正：%(names)s") % {
                "names": "、".join(still)})])
        notice.resolved_at = at
        notice.save(update_fields=["resolved_at"])
    target = S.ACCEPTED if case.accepted_at else S.SUBMITTED
    fields: list[str] = []
    if case.accepted_at:
        _end_stops(case, at, kinds=[ClockStop.Kind.SUPPLEMENT])
        refresh_due(case)
        fields = ["due_at", "due_provisional"]
    event = _move(case, "supply", actor=actor, to=target, fields=fields, at=at)
    _after_commit(event)
    return case


@transaction.atomic
def case_accept(*, actor: Any, case: Case, expected_version: int | None = None,
                hall: Any = None, window: Any = None, in_person: bool | None = None) -> Case:
    """受理: the clock starts; an acceptance notice is issued and the workflow begins.

    即收即办 items are accepted, decided and handed over in this same transaction.
    """
    case = _lock(case, expected_version)
    if not policies.can_receive(actor, case):
        raise _deny()
    # Staff of a hall (clerks, proxy agents) accept only at their own hall's windows.
    own_hall = getattr(actor, "hall_id", None)
    if window is not None and own_hall is not None and window.hall_id != own_hall:
        raise RuleViolation([Problem("window", _("该窗口不属于您所在的大厅"))])
    if window is not None:
        _check_window_serves(window, case)
    missing = [m.name for m in missing_materials(case)]
    if missing:
        raise RuleViolation([Problem("materials", _(
            "材料不齐全，不能受理；请一次性告知补正：%(names)s") % {"names": "、".join(missing)})])
    at = timezone.now()
    case.accepted_at = at
    if hall is not None:
        case.hall = hall
    case.workflow = workflows.workflow_for(case.item_id, case.item_version.commitment)
    # At the moment of acceptance no clock stop can count: stops count only from acceptance on.
    refresh_due(case, stops=())
    notice = _notice(case, Notice.Kind.ACCEPTANCE, actor=actor, body={
        "due_at": case.due_at.isoformat() if case.due_at else None,
        "provisional": case.due_provisional})
    event = _move(case, "accept", actor=actor, at=at, data={"notice": notice.number},
                  fields=["accepted_at", "hall", "workflow", "due_at", "due_provisional"])
    if in_person if in_person is not None else case.channel == Channel.WINDOW:
        _visit(case, actor=actor, purpose=str(_("窗口受理")), hall=case.hall, window=window, at=at)
    tasks = workflows.workflow_start(case, at=at)
    if case.item_version.commitment == Commitment.ON_THE_SPOT:
        # 即收即办: the window completes the case on the spot.
        for task in tasks:
            workflows.task_finish(task, actor=actor, outcome="approve", at=at)
        _decide(case, actor=actor, approve=True, reason="", at=at)
        case.delivery = Delivery.PICKUP
        case.delivered_at = at
        event = _move(case, "deliver", actor=actor, fields=["delivery", "delivered_at"], at=at,
                      data={"delivery": Delivery.PICKUP})
    _after_commit(event)
    return case


# 行政许可法 Art. 32: an application neither accepted, refused nor answered with a one-time
# supplement notice within this many working days of receipt is accepted by law.
ACCEPT_BY_LAW_WORKING_DAYS = 5


def received_at(case: Case) -> dt.datetime | None:
    """When the department last received the application's materials: the submission, or the
    latest supply after a one-time notice before acceptance."""
    last_supply = (CaseEvent.objects.filter(case=case, action="supply", to_status=S.SUBMITTED)
                   .order_by("-seq").values_list("at", flat=True).first())
    times = [t for t in (case.submitted_at, last_supply) if t is not None]
    return max(times) if times else None


def answer_due(case: Case, received: dt.datetime) -> dt.datetime:
    """The end of the five working days (Art. 32) the department has to accept, refuse or send
    a one-time supplement notice, counted on the working-day clock from ``received``."""
    return compute_deadline(
        start=received, category=Commitment.TIME_LIMITED, limit=ACCEPT_BY_LAW_WORKING_DAYS,
        unit=WORKING_DAYS, calendar=clock.work_calendar(), hours=clock.office_hours(case.hall_id),
        same_day_cutoff=clock.same_day_cutoff()).due


def cases_accept_by_law(*, now: dt.datetime) -> list[str]:
    """Accept by law (Art. 32) every submitted application left unanswered for five working
    days since its materials were received. Run by the deadline sweep; idempotent. Returns
    the numbers of the cases accepted."""
    # Five working days are never fewer than five calendar days.
    candidates = list(Case.objects.filter(
        status__in=(S.SUBMITTED, S.PRE_REVIEW),
        submitted_at__lte=now - dt.timedelta(days=ACCEPT_BY_LAW_WORKING_DAYS),
    ).order_by("submitted_at", "pk").values_list("pk", flat=True))
    accepted = []
    for pk in candidates:
        case = case_accept_by_law(case=pk, now=now)
        if case is not None:
            accepted.append(case.number or str(case.pk))
    return accepted


@transaction.atomic
def case_accept_by_law(*, case: Case | int, now: dt.datetime) -> Case | None:
    """依法视为受理 (Art. 32): if the case is still unanswered five working days after its
    materials were received, it is accepted from the instant of receipt — the due instant is
    counted from then — with an acceptance notice saying so, the applicant told, and a red
    supervision record against the department that should have answered. Returns the case if
    it was accepted now, None if not (answered meanwhile, or still in time)."""
    case = _lock(case, None)
    if case.status not in TRANSITIONS["accept_by_law"][0]:
        return None
    received = received_at(case)
    if received is None:
        return None
    limit = answer_due(case, received)
    if now <= limit:
        return None
    case.accepted_at = received
    case.workflow = workflows.workflow_for(case.item_id, case.item_version.commitment)
    refresh_due(case, stops=())
    local = timezone.localtime
    reason = str(_("自%(received)s收到申请材料起五个工作日内（至%(limit)s）未作出受理、不予受理或"
                   "补正告知，依据《中华人民共和国行政许可法》第三十二条，自收到申请材料之日起即为受理")
                 % {"received": f"{local(received):%Y-%m-%d %H:%M}",
                    "limit": f"{local(limit):%Y-%m-%d %H:%M}"})
    notice = _notice(case, Notice.Kind.ACCEPTANCE, actor=SYSTEM, body={
        "due_at": case.due_at.isoformat() if case.due_at else None,
        "provisional": case.due_provisional, "by_law": True,
        "received_at": received.isoformat(), "answer_due": limit.isoformat()})
    event = _move(case, "accept_by_law", actor=SYSTEM, at=now, reason=reason,
                  data={"notice": notice.number, "received_at": received.isoformat(),
                        "answer_due": limit.isoformat()},
                  fields=["accepted_at", "workflow", "due_at", "due_provisional"])
    # The steps open now; the case's own clock runs from receipt.
    workflows.workflow_start(case, at=now)
    findings.report(
        Finding.ACCEPTED_BY_LAW, case=case, actor=SYSTEM, person=None,
        department=case.receiving_unit_id or case.department_id,
        detail=str(_("办件%(number)s：%(reason)s") % {"number": case.number, "reason": reason}))
    _after_commit(event)
    return case


def _check_window_serves(window: Any, case: Case) -> None:
    """A window that is not a comprehensive window (综合窗口) accepts only items of the
    departments it serves (a 代办 case: of its department or of its receiving unit)."""
    if window.is_comprehensive:
        return
    served = list(window.departments.order_by("pk"))
    if {d.pk for d in served} & {case.department_id, case.receiving_unit_id}:
        return
    raise RuleViolation([Problem("window", _(
        "%(window)s不是综合窗口，只受理%(served)s的事项，不能受理%(department)s的事项")
        % {"window": window.name or window.number,
           "served": "、".join(d.name for d in served) or _("（未设受理部门）"),
           "department": case.department.name})])


@transaction.atomic
def case_refuse(*, actor: Any, case: Case, reason: str, expected_version: int | None = None) -> Notice:
    """不予受理, with the reason written in the refusal notice."""
    case = _lock(case, expected_version)
    if not policies.can_receive(actor, case):
        raise _deny()
    _require_reason(reason)
    notice = _notice(case, Notice.Kind.REFUSAL, actor=actor, body={"reason": reason})
    case.closed_reason = reason
    event = _move(case, "refuse", actor=actor, reason=reason, fields=["closed_reason"],
                  data={"notice": notice.number})
    _after_commit(event)
    return notice


# --- the workflow's steps ---------------------------------------------------------------------

def _check_task(actor: Any, case: Case, task: StepTask, action: str) -> StepTask:
    task = _LOCKED_TASK.get(task.pk)
    if task.case_id != case.pk:
        raise RuleViolation([Problem("task", _("任务不属于该办件"))])
    if task.status != TaskStatus.OPEN:
        raise _conflict(_("该环节已办理"))
    if not workflows.can_work_on(actor, task):
        raise _deny()
    step = workflows.definition_of(case).step(task.step_key)
    if action not in step.actions:
        raise RuleViolation([Problem("action", _("环节“%(step)s”不允许此操作") % {"step": step.name})])
    return task


@transaction.atomic
def case_step(*, actor: Any, task: StepTask, action: str, reason: str = "",
              return_to: str = "", expected_version: int | None = None) -> Case:
    """Act on an open step: approve (pass, or decide at a deciding step), forward (代办 centre
    hands over), deny (at a deciding step, with reasons) or return to an earlier step."""
    case = _lock(task.case_id, expected_version)
    _check(case, "step")
    task = _check_task(actor, case, task, action)
    definition = workflows.definition_of(case)
    step = definition.step(task.step_key)
    at = timezone.now()
    if action == "deny":
        _require_reason(reason)
        if not step.decides:
            raise RuleViolation([Problem("action", _("只有决定环节可以作出不予办理决定"))])
        workflows.task_finish(task, actor=actor, outcome=action, at=at)
        workflows.tasks_cancel(case, at=at)
        event = _decide(case, actor=actor, approve=False, reason=reason, at=at)
    elif action == "return":
        target = return_to or (step.return_to[0] if step.return_to else "")
        workflows.task_finish(task, actor=actor, outcome=action, at=at)
        workflows.task_return(case, task, to=target, at=at)
        event = _move(case, "step", actor=actor, reason=reason, at=at,
                      data={"step": task.step_key, "action": action, "to": target})
    elif action in ("approve", "forward", "complete"):
        workflows.task_finish(task, actor=actor, outcome=action, at=at)
        opened, ended = workflows.task_open_next(case, task, at=at)
        data = {"step": task.step_key, "action": action, "late": task.late,
                "opened": [t.step_key for t in opened]}
        if step.decides and END in step.next and ended:
            event = _decide(case, actor=actor, approve=True, reason=reason, at=at)
        else:
            event = _move(case, "step", actor=actor, reason=reason, at=at, data=data)
    else:
        raise RuleViolation([Problem("action", _("请使用对应的补正、特别程序或延期操作"))])
    _after_commit(event)
    return case


def _decide(case: Case, *, actor: Any, approve: bool, reason: str, at: dt.datetime) -> CaseEvent:
    case.decided_at = at
    case.decision_reason = reason
    case.result_name = case.item_version.result_name if approve else ""
    _notice(case, Notice.Kind.DECISION, actor=actor, body={
        "approved": approve, "reason": reason, "result_name": case.result_name})
    return _move(case, "approve" if approve else "deny", actor=actor, reason=reason, at=at,
                 fields=["decided_at", "decision_reason", "result_name"])


# --- clock stops and extensions ---------------------------------------------------------------

# The longest special procedure the platform accepts, in working days (a year and more).
MAX_PROCEDURE_WORKING_DAYS = 365


@transaction.atomic
def case_suspend(*, actor: Any, task: StepTask, procedure: str, reason: str,
                 expected_working_days: int | None,
                 expected_version: int | None = None) -> Case:
    """特别程序 (行政许可法 Art. 45: hearing, tender, auction, inspection, testing, quarantine,
    appraisal, expert review): the clock stops; the applicant is told its kind, reason and
    duration in writing (the special-procedure notice). Kind and duration are required."""
    case = _lock(task.case_id, expected_version)
    _check(case, "suspend")
    _check_task(actor, case, task, "suspend")
    problems = []
    if procedure not in SpecialProcedure.values:
        problems.append(Problem("procedure", _(
            "须选择特别程序种类：%(kinds)s") % {"kinds": "、".join(
                str(label) for label in SpecialProcedure.labels)}))
    if not reason.strip():
        problems.append(Problem("reason", _("须填写理由")))
    if expected_working_days is None or not (
            1 <= expected_working_days <= MAX_PROCEDURE_WORKING_DAYS):
        problems.append(Problem("expected_working_days", _(
            "须书面告知特别程序所需时间：填写1至%(n)s个工作日") % {"n": MAX_PROCEDURE_WORKING_DAYS}))
    if problems:
        raise RuleViolation(problems)
    at = timezone.now()
    ClockStop.objects.create(case=case, kind=ClockStop.Kind.SPECIAL_PROCEDURE, procedure=procedure,
                             reason=reason, started_at=at,
                             expected_working_days=expected_working_days)
    notice = _notice(case, Notice.Kind.SUSPENSION, actor=actor, body={
        "procedure": procedure, "reason": reason,
        "expected_working_days": expected_working_days})
    event = _move(case, "suspend", actor=actor, reason=reason, at=at,
                  data={"notice": notice.number, "procedure": procedure,
                        "expected_working_days": expected_working_days})
    _after_commit(event)
    return case


@transaction.atomic
def case_halt(*, actor: Any, case: Case, ground: str, reason: str,
              expected_version: int | None = None) -> Case:
    """中止: the procedure halts for a legal reason or at the applicant's request; the clock
    stops until ``case_resume``, and the applicant is told the ground and reason in writing
    (the suspension notice). The department's officers and head decide it."""
    case = _lock(case, expected_version)
    if not (policies.is_department_staff(actor, case) or policies.can_terminate(actor, case)):
        raise _deny()
    _check(case, "halt")
    problems = []
    if ground not in HaltGround.values:
        problems.append(Problem("ground", _("须选择中止事由类型：法定事由或申请人申请")))
    if not reason.strip():
        problems.append(Problem("reason", _("须填写中止理由")))
    if problems:
        raise RuleViolation(problems)
    at = timezone.now()
    ClockStop.objects.create(case=case, kind=ClockStop.Kind.SUSPENSION, ground=ground,
                             reason=reason, started_at=at)
    notice = _notice(case, Notice.Kind.HALT, actor=actor, body={"ground": ground, "reason": reason})
    event = _move(case, "halt", actor=actor, reason=reason, at=at,
                  data={"notice": notice.number, "ground": ground})
    _after_commit(event)
    return case


@transaction.atomic
def case_resume(*, actor: Any, case: Case, expected_version: int | None = None) -> Case:
    case = _lock(case, expected_version)
    _check(case, "resume")
    if not (policies.is_department_staff(actor, case) or policies.can_terminate(actor, case)):
        raise _deny()
    at = timezone.now()
    _end_stops(case, at, kinds=[ClockStop.Kind.SPECIAL_PROCEDURE, ClockStop.Kind.SUSPENSION])
    refresh_due(case)
    event = _move(case, "resume", actor=actor, at=at, fields=["due_at", "due_provisional"])
    _after_commit(event)
    return case


def _end_stops(case: Case, at: dt.datetime, *, kinds: Sequence[str]) -> None:
    """End the open clock stops of these kinds, and move the due instants of the open steps
    later by the business time each stop covered — a step's own budget stops with the case."""
    from tongban.clock.deadline import business_add, business_seconds_between

    stops = list(ClockStop.objects.filter(case=case, ended_at=None, kind__in=kinds))
    if not stops:
        return
    ClockStop.objects.filter(pk__in=[s.pk for s in stops]).update(ended_at=at)
    calendar, hours = clock.work_calendar(), clock.office_hours(case.hall_id)
    stopped = sum(business_seconds_between(s.started_at, at, calendar=calendar, hours=hours)
                  for s in stops)
    if not stopped:
        return
    for task in StepTask.objects.filter(case=case, status=TaskStatus.OPEN).exclude(due_at=None):
        assert task.due_at is not None
        task.due_at = business_add(task.due_at, stopped, calendar=calendar, hours=hours).due
        task.save(update_fields=["due_at"])


@transaction.atomic
def case_request_extension(*, actor: Any, task: StepTask, working_days: int, reason: str,
                           expected_version: int | None = None) -> Extension:
    case = _lock(task.case_id, expected_version)
    _check(case, "request_extension")
    _check_task(actor, case, task, "extend")
    _require_reason(reason)
    limit = 10  # 行政许可法 Art. 42: up to ten more days
    if not 1 <= working_days <= limit:
        raise RuleViolation([Problem("working_days", _("延期须为1至%(n)s个工作日") % {"n": limit})])
    if case.extensions.filter(state=Extension.State.REQUESTED).exists():
        raise _conflict(_("已有待批准的延期申请"))
    used = sum(case.extensions.filter(state=Extension.State.APPROVED)
               .values_list("working_days", flat=True))
    if used + working_days > limit:
        raise RuleViolation([Problem("working_days", _("延期合计不得超过%(n)s个工作日") % {"n": limit})])
    extension = Extension.objects.create(case=case, working_days=working_days, reason=reason,
                                         requested_by=actor, requested_at=timezone.now())
    event = _move(case, "request_extension", actor=actor, reason=reason,
                  data={"working_days": working_days, "extension": extension.pk})
    _after_commit(event)
    return extension


@transaction.atomic
def case_decide_extension(*, actor: Any, extension: Extension, approve: bool, note: str = "",
                          expected_version: int | None = None) -> Extension:
    """The department head approves (延期) or rejects; the applicant is told the reason."""
    case = _lock(extension.case_id, expected_version)
    extension = Extension.objects.select_for_update().get(pk=extension.pk)
    if not policies.can_approve_extension(actor, case):
        raise _deny()
    if extension.state != Extension.State.REQUESTED:
        raise _conflict(_("该延期申请已处理"))
    _check(case, "extend")
    at = timezone.now()
    extension.state = Extension.State.APPROVED if approve else Extension.State.REJECTED
    extension.decided_by, extension.decided_at, extension.decision_note = actor, at, note
    extension.save()
    if approve:
        case.extension_working_days += extension.working_days
        refresh_due(case)
        notice = _notice(case, Notice.Kind.EXTENSION, actor=actor, body={
            "working_days": extension.working_days, "reason": extension.reason,
            "due_at": case.due_at.isoformat() if case.due_at else None})
        event = _move(case, "extend", actor=actor, reason=extension.reason, at=at,
                      fields=["extension_working_days", "due_at", "due_provisional"],
                      data={"notice": notice.number, "working_days": extension.working_days})
    else:
        event = _event(case, actor=actor, action="extension_rejected", from_status=case.status,
                       reason=note, at=at)
    _after_commit(event)
    return extension


# --- the end of a case ------------------------------------------------------------------------

@transaction.atomic
def case_deliver(*, actor: Any, case: Case, delivery: str, expected_version: int | None = None) -> Case:
    case = _lock(case, expected_version)
    if not policies.can_deliver(actor, case):
        raise _deny()
    if delivery not in Delivery.values:
        raise RuleViolation([Problem("delivery", _("送达方式须为窗口领取、邮寄送达或网上送达"))])
    if case.status == S.APPROVED:
        from .materials import outstanding_promises

        owed = [m.name for m in outstanding_promises(case)]
        if owed:
            raise RuleViolation([Problem("materials", _(
                "容缺承诺的材料尚未补交：%(names)s；补交后方可送达办理结果") % {"names": "、".join(owed)})])
    at = timezone.now()
    case.delivery, case.delivered_at = delivery, at
    event = _move(case, "deliver", actor=actor, fields=["delivery", "delivered_at"], at=at,
                  data={"delivery": delivery})
    if delivery == Delivery.PICKUP:
        _visit(case, actor=actor, purpose=str(_("领取结果")), hall=case.hall, window=None, at=at)
    _after_commit(event)
    return case


@transaction.atomic
def case_withdraw(*, actor: Any, case: Case, reason: str = "",
                  expected_version: int | None = None) -> Case:
    """The applicant withdraws while the case is not decided."""
    case = _lock(case, expected_version)
    if not policies.is_applicant_side(actor, case):
        raise _deny()
    at = timezone.now()
    workflows.tasks_cancel(case, at=at)
    ClockStop.objects.filter(case=case, ended_at=None).update(ended_at=at)
    case.closed_reason = reason
    event = _move(case, "withdraw", actor=actor, reason=reason, fields=["closed_reason"], at=at)
    _after_commit(event)
    return case


@transaction.atomic
def case_terminate(*, actor: Any, case: Case, reason: str,
                   expected_version: int | None = None) -> Case:
    """终止: the procedure ends without a decision (e.g. the applicant died, the company was
    dissolved, the supplement never came)."""
    case = _lock(case, expected_version)
    if not policies.can_terminate(actor, case):
        raise _deny()
    _require_reason(reason)
    at = timezone.now()
    workflows.tasks_cancel(case, at=at)
    ClockStop.objects.filter(case=case, ended_at=None).update(ended_at=at)
    case.closed_reason = reason
    event = _move(case, "terminate", actor=actor, reason=reason, fields=["closed_reason"], at=at)
    _after_commit(event)
    return case


# --- visits ------------------------------------------------------------------------------------

def _visit(case: Case, *, actor: Any, purpose: str, hall: Any, window: Any, at: dt.datetime) -> Visit:
    visit = Visit.objects.create(case=case, at=at, hall=hall, window=window, purpose=purpose,
                                 recorded_by=actor if getattr(actor, "pk", None) else None)
    case.visits = case.visit_records.count()
    case.excess_visits = case.visits > allowed_visits(case)
    Case.objects.filter(pk=case.pk).update(visits=case.visits, excess_visits=case.excess_visits)
    return visit


def allowed_visits(case: Case) -> int:
    """Visits the item promises; a walk-in's own first visit to the window is never excess."""
    promised = case.item_version.required_visits
    return max(promised, 1) if case.channel == Channel.WINDOW else promised


@transaction.atomic
def case_record_visit(*, actor: Any, case: Case, purpose: str, window: Any = None,
                      expected_version: int | None = None) -> Visit:
    """Record an in-person interaction (跑动); more visits than the item promises is flagged."""
    case = _lock(case, expected_version)
    if not policies.can_record_visit(actor, case):
        raise _deny()
    _check(case, "record_visit")
    if not purpose.strip():
        raise RuleViolation([Problem("purpose", _("须填写跑动事由"))])
    visit = _visit(case, actor=actor, purpose=purpose, hall=case.hall, window=window, at=timezone.now())
    _event(case, actor=actor, action="record_visit", from_status=case.status,
           data={"visits": case.visits, "excess": case.excess_visits})
    return visit

