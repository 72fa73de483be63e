"""Intake: reading an applicant's personal data (audited), creating an application (who may be
the applicant and the agent), submitting it (its case number), pre-review and written promises
for deferrable materials (容缺)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc

from tongban.accounts.identifiers import id_number_compact, id_number_problem
from tongban.accounts.models import Role, User
from tongban.accounts.permissions import account_of
from tongban.audit.reads import read_record
from tongban.catalog.models import Commitment, Item, Material, VersionStatus
from tongban.clock.deadline import SHANGHAI
from tongban.core import prepared
from tongban.core.errors import Problem, RuleViolation
from tongban.organizations.models import Department

from .. import numbers, policies
from ..models import ApplicantKind, Case, CaseMaterial, Channel
from .transitions import S, _after_commit, _check, _conflict, _deny, _event, _lock, _move

# --- reading personal data ---------------------------------------------------------------------

def case_data_access_record(*, actor: Actor, case: Case, what: str,
                            detail: dict[str, Any] | None = None) -> None:
    """Staff reading an applicant's personal data — the case with its identifiers, a material's
    file, a notice's page or PDF — is an exercise of power and is audited (``case.<what>``:
    ``viewed``, ``material_viewed``, ``material_downloaded``, ``notice_viewed``,
    ``notice_downloaded``). The applicant's own reads are not.

    The record is written before the data is shown, by one statement committed on its own
    (``audit.reads.read_record``): a read holds no transaction and no lock."""
    if policies.is_applicant_side(actor, case):
        return
    read_record(actor=actor, action=f"case.{what}", object_type="case",
                object_id=case.number or case.pk, detail=detail or {})

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor


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
    user: User | None = None


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


def _check_account_party(actor: User, applicant: ApplicantData, agent: AgentData | None,
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
    """<division code><yyyymmdd><6-digit daily sequence>, e.g. 62010020261126000042: drawn from
    the day's sequence, no row held to commit (``cases.numbers``)."""
    day = at.astimezone(SHANGHAI).date()
    code = _DEPARTMENT.get(case.department_id).division.code[:6]
    return f"{code}{day:%Y%m%d}{numbers.daily_value(code, day):06d}"


_DEPARTMENT = prepared.Lookup(lambda pk: Department.objects.select_related("division").filter(pk=pk))


@transaction.atomic
def case_create(*, actor: Actor, item: Item, channel: str, applicant: ApplicantData,
                form_data: dict[str, Any], agent: AgentData | None = None,
                hall: Any = None, idempotency_key: str = "") -> Case:
    """Start a draft application for the item's current published version.

    From a citizen's or an enterprise's account the applicant is the account holder (or its
    company), or the account holder is the agent with an authorisation record
    (:func:`_check_account_party`); at a window, a clerk creates it for a walk-in. The form data
    is checked against the item version's form definition.
    """
    from ..forms import form_validate

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
    account = account_of(actor)
    public = account is not None and _is_public(account)
    problems = _check_party(applicant, agent)
    if account is not None and public:
        problems.extend(_check_account_party(account, applicant, agent, problems))
    clean, form_problems = form_validate(version=version, data=form_data)
    problems.extend(form_problems)
    if problems:
        raise RuleViolation(problems)
    if not public and getattr(actor, "role", None) not in {Role.CLERK, Role.OFFICER, Role.HEAD,
                                                           Role.PROXY_AGENT}:
        raise _deny()
    natural = applicant.kind == ApplicantKind.NATURAL
    case = Case(
        item=item, item_version=version, department_id=item.department_id,
        receiving_unit_id=version.receiving_unit_id if version.commitment == Commitment.PROXY
        else None,
        hall=hall or (account.hall if account is not None and not public else None),
        channel=channel, applicant_kind=applicant.kind, applicant_name=applicant.name.strip(),
        applicant_id_number=id_number_compact(applicant.id_number) if natural
        else applicant.id_number.strip().upper(), applicant_phone=applicant.phone,
        form_data=clean, idempotency_key=idempotency_key, event_count=1,
    )
    if public:
        if agent is not None:
            case.agent = account
        else:
            case.applicant = account
    if agent is not None:
        case.agent_name, case.agent_id_number = agent.name.strip(), id_number_compact(agent.id_number)
        case.authorization = agent.authorization
        if agent.user is not None:
            case.agent = agent.user
    if not idempotency_key:
        prepared.insert(case)  # no unique column can collide: no savepoint needed
    else:
        try:
            with transaction.atomic():
                prepared.insert(case)
        except IntegrityError:  # the same idempotency key raced in from a second request
            return Case.objects.get(applicant=account, idempotency_key=idempotency_key)
    _event(case, actor=actor, action="create", from_status="", data={"channel": channel},
           counted=True)
    return case


def _is_public(user: Actor) -> bool:
    return getattr(user, "role", None) in {Role.CITIZEN, Role.ENTERPRISE}


def _idempotent_case(actor: Actor, key: str) -> Case | None:
    """The case ``actor`` already created with this idempotency key (a retried request).

    The actor's row is locked first, so a retry arriving while the first request is still
    running waits for it and then finds its case (applicants acting as agents and staff
    creating for walk-ins have no unique constraint to fall back on).
    """
    account = account_of(actor)
    if account is None:
        return None
    # get_user_model(), not type(actor): a request's user is a lazy wrapper.
    get_user_model().objects.select_for_update().filter(pk=account.pk).first()
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


# Read at every acceptance (compiled once, ``core.prepared``); a published version's materials
# never change (an edit makes a new version), so they are read once per process.
_REQUIRED_MATERIALS = prepared.ImmutableRows(lambda pk: Material.objects.filter(
    version_id=pk, necessity__in=(Material.Necessity.REQUIRED, Material.Necessity.DEFERRABLE)),
    parent="version_id")
_CASE_MATERIALS = prepared.Lookup(lambda pk: CaseMaterial.objects.filter(case_id=pk,
                                                                        superseded=False))


# Called with each case submitted, inside the submission's transaction: the automatic decisions
# (``tongban.decisions``, a floor above) register one when Django starts, which queues the
# rules' evaluation after the commit when the item version has a published rule set (秒批).
submit_listeners: list[Callable[[Case], None]] = []


@transaction.atomic
def case_submit(*, actor: Actor, case: Case, expected_version: int | None = None) -> Case:
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
    if not submit_listeners:
        raise ImproperlyConfigured("no submission listener registered (tongban.decisions registers one)")
    for listener in submit_listeners:
        listener(case)
    _after_commit(event)
    return case


@transaction.atomic
def case_pre_review(*, actor: Actor, case: Case, expected_version: int | None = None) -> Case:
    case = _lock(case, expected_version)
    if not policies.can_receive(actor, case):
        raise _deny()
    _move(case, "pre_review", actor=actor)
    return case


# --- materials --------------------------------------------------------------------------------

@transaction.atomic
def case_material_promise(*, actor: Actor, case: Case, material: Material, promise: str,
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
        uploaded_by=account_of(actor))
    _event(case, actor=actor, action="promise_material", from_status=case.status,
           reason=promise.strip(), data={"material": material.pk,
                                         "promised_by": promised_by.isoformat()})
    return record
