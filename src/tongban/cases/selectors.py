"""Reads of cases: which cases a user may see, lists with filters, one case with everything
shown on its detail, and the live deadline state.

Visibility follows :func:`tongban.cases.policies.can_view`: :func:`visible_cases` is the same
rule as a query (see :func:`_visible_rule` for its one narrowing), so a list never shows a case
whose detail would be refused; the keyset pages' :func:`visible_branches` are the same
conditions one by one.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import reduce
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.accounts import permissions
from tongban.accounts.masking import mask_id_number, mask_phone
from tongban.accounts.models import Role
from tongban.cases.workflows.definition import Definition
from tongban.cases.workflows.models import StepTask, TaskStatus, WorkflowDefinition
from tongban.catalog import selectors as catalog_selectors
from tongban.clock import selectors as clock
from tongban.clock.calendar import OfficeHours
from tongban.clock.deadline import SHANGHAI, business_add
from tongban.core import prepared
from tongban.core.errors import Problem, RuleViolation
from tongban.core.keyset import Cursor, Page, display_sorted, keyset_page
from tongban.organizations.models import Department, Hall

from . import detail_reads, policies
from .models import Case, CaseMaterial, Channel, DeadlineState, Status

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

# --- who sees which cases ---------------------------------------------------------------------


def _visible_rule(user: Actor) -> list[Q] | None:
    """Who sees which cases, as the ``OR`` of these conditions (None: every case; empty: none).
    The one definition behind :func:`visible_cases` (their ``OR``) and :func:`visible_branches`
    (one queryset each), so the two cannot disagree.

    It follows :func:`tongban.cases.policies.can_view`. One difference: a step of the user's
    department on another department's case is found through the case's receiving unit or a
    workflow naming the department by its current USCC (:func:`_foreign_step_rule`, indexed),
    not by probing every case; a step made under a USCC since changed opens on the case's detail
    and in the inbox, but is not listed here."""
    role = policies._role(user)
    if role is None or not user.is_authenticated:
        return []
    if role in policies.STAFF_ALL_CASES or permissions.is_bureau_admin(user):
        return None
    # The applicant's side: as applicant or as agent (代理人).
    rule = [Q(applicant=user), Q(agent=user)]
    staff: list[Q] = []
    if role in policies.DEPARTMENT_STAFF and user.department_id is not None:
        staff.append(Q(department_id=user.department_id))
        # A parallel step handled by another department lets that department see the case.
        staff += _foreign_step_rule(user.department_id)
    if role == Role.PROXY_AGENT:
        unit = policies._hall_department(user)
        if unit is not None:
            staff.append(Q(receiving_unit_id=unit))
    if role == Role.CLERK and user.hall_id is not None:
        staff.append(Q(hall_id=user.hall_id))
    # Staff never see an applicant's unsubmitted draft, except a walk-in's at their own hall.
    rule += [condition & ~Q(status=Status.DRAFT) for condition in staff]
    if getattr(user, "hall_id", None) is not None:
        rule.append(Q(status=Status.DRAFT, hall_id=user.hall_id))
    return rule


def visible_cases(user: Actor) -> QuerySet[Case]:
    """Every case ``user`` may open, as one query: the ``OR`` of :func:`_visible_rule`."""
    rule = _visible_rule(user)
    if rule is None:
        return Case.objects.all()
    if not rule:
        return Case.objects.none()
    return Case.objects.filter(reduce(operator.or_, rule))


def case_find(user: Actor, number_or_id: str) -> Case | None:
    """The case with this number (20 digits) or database id, if ``user`` may see it.

    A case the user may not see is reported as absent, so that its existence is not revealed.
    """
    ref = (number_or_id or "").strip()
    if not ref:
        return None
    # Both reads are compiled once (every case request starts here).
    pk = _as_id(ref) if ref.isdecimal() and len(ref) < 20 else _CASE_ID_BY_NUMBER.first(ref)
    if pk is None or pk > _LARGEST_ID:
        return None
    try:
        case = _CASE_FOUND.get(pk)
    except Case.DoesNotExist:
        return None
    if not policies.can_view(user, case):
        return None
    return case


_LARGEST_ID = 2**63 - 1  # a BigAutoField's


def _as_id(ref: str) -> int | None:
    """A reference of fewer than 20 digits as a case id (a case number has 20,
    ``_next_number``); None beyond the key's range, which no row can have (and which the
    database driver refuses to bind)."""
    pk = int(ref)
    return pk if pk <= _LARGEST_ID else None
_CASE_FOUND = prepared.Lookup(lambda pk: Case.objects.select_related(
    "item_version", "department", "hall", "receiving_unit").filter(pk=pk))
_CASE_ID_BY_NUMBER = prepared.Values(lambda number: Case.objects.filter(number=number)
                                     .values_list("pk", flat=True)[:1])


def sees_identifiers(user: Actor, case: Case) -> bool:
    """Whether ``user`` sees ID numbers, phones and addresses of this case in full."""
    return policies.can_see_identifiers(user, case)


# --- the deadline state, live -----------------------------------------------------------------

def case_deadline_state(case: Case, *, now: dt.datetime,
                        hours: Callable[[int | None], OfficeHours] = clock.office_hours) -> str:
    """green / yellow / red for the case as of ``now``.

    While the clock runs (accepted) it is computed from the due instant; once decided, red if the
    decision came after the due instant; while the clock is stopped (supplement after
    acceptance, special procedure) or the case closed without a decision, the state last
    recorded on the case. ``hours`` looks up a hall's office hours (a memo in a list).
    """
    if case.due_at is None:
        return DeadlineState.GREEN
    if case.decided_at is not None:
        return DeadlineState.RED if case.decided_at > case.due_at else DeadlineState.GREEN
    if case.status == Status.ACCEPTED:
        return running_case_state(case, now=now, hours=hours(case.hall_id))
    return case.deadline_state


def case_deadline_states(cases: Iterable[Case], *, now: dt.datetime) -> dict[int, str]:
    """:func:`case_deadline_state` of each case of a list, by pk: the calendar is checked once
    and each hall's office hours read once, not once per row."""
    hours = clock.office_hours_memo()
    with clock.calendar_scope():
        return {case.pk: case_deadline_state(case, now=now, hours=hours) for case in cases}


def running_case_state(case: Case, *, now: dt.datetime, hours: OfficeHours) -> str:
    """``clock.selectors.deadline_state`` of a case whose clock runs, against its committed
    limit (the item version's, plus any extension)."""
    if case.due_at is None:
        return DeadlineState.GREEN
    version = case.item_version
    limit = clock.case_limit_seconds(
        category=version.commitment, limit=version.committed_limit,
        unit=version.committed_limit_unit, extension_working_days=case.extension_working_days,
        due=case.due_at, hours=hours)
    return clock.deadline_state(case.due_at, now=now, limit_seconds=limit, hours=hours)


def task_deadline_state(task: StepTask, *, now: dt.datetime, hall_id: int | None,
                        hours: OfficeHours | None = None) -> str:
    """green / yellow / red of a step: an open one against its own budget (from its opening to
    its due instant), a finished one red if it was late."""
    if task.status != TaskStatus.OPEN:
        return DeadlineState.RED if task.late else DeadlineState.GREEN
    return clock.deadline_state(task.due_at, now=now, opened_at=task.opened_at, hall_id=hall_id,
                                hours=hours)


def task_deadline_states(tasks: Iterable[StepTask], *, now: dt.datetime) -> dict[int, str]:
    """:func:`task_deadline_state` of each step of a list (``case`` selected with it), by pk:
    the calendar is checked once and each hall's office hours read once."""
    hours = clock.office_hours_memo()
    with clock.calendar_scope():
        return {task.pk: task_deadline_state(task, now=now, hall_id=task.case.hall_id,
                                             hours=hours(task.case.hall_id)) for task in tasks}


def _yellow_horizon(now: dt.datetime,
                    hours: Callable[[int | None], OfficeHours] | None = None) -> dt.datetime:
    """The latest due instant at which a running case can be yellow at ``now``.

    ``clock.selectors.deadline_state`` calls a case green whenever the business time left
    exceeds the cap, ``CLOCK_WARNING_WORKING_DAYS`` times the length of the due day's office
    periods. So, for each hall's hours (and the default), one second more than the cap in its
    longest working day, added on the working-day clock, is an instant past which no case of
    that hall is yellow; the latest of them bounds every hall. A day or two of calendar time
    with the default cap, instead of weeks: only those cases are computed in Python."""
    cap = settings.CLOCK_WARNING_WORKING_DAYS
    hours = hours or clock.office_hours_memo()
    halls: list[int | None] = [None, *Hall.objects.order_by().values_list("pk", flat=True)]
    bound = now
    try:
        with clock.calendar_scope() as calendar:
            for hall in halls:
                office = hours(hall)
                longest = max(_periods_seconds(p)
                              for p in (office.periods, *(s.periods for s in office.seasonal)))
                due = business_add(now, cap * longest + 1, calendar=calendar, hours=office).due
                bound = max(bound, due)
    except ValueError:  # beyond the calendar's years: the coarse bound of calendar days
        days = 30 + 2 * math.ceil(cap)
        return now + dt.timedelta(days=days)
    return bound


def _periods_seconds(periods: Iterable[Any]) -> float:
    return sum((dt.datetime.combine(dt.date(2000, 1, 1), p.ends)
                - dt.datetime.combine(dt.date(2000, 1, 1), p.starts)).total_seconds()
               for p in periods)


def _yellow_ids(cases: QuerySet[Case], now: dt.datetime) -> list[int]:
    """The running cases among ``cases`` that are yellow now (computed on the working-day
    clock, for those due within the horizon only)."""
    running = Q(status=Status.ACCEPTED, due_at__isnull=False, decided_at__isnull=True)
    # One memo for the bound and the cases: the office-hours stamp is read once, whether or
    # not a case is found (the same statements however many cases there are).
    hours = clock.office_hours_memo()
    candidates = (cases.filter(running, due_at__gte=now, due_at__lte=_yellow_horizon(now, hours))
                  .select_related("item_version")
                  .only("pk", "due_at", "hall_id", "status", "decided_at", "extension_working_days",
                        "item_version__commitment", "item_version__committed_limit",
                        "item_version__committed_limit_unit"))
    with clock.calendar_scope():
        return [c.pk for c in candidates
                if running_case_state(c, now=now, hours=hours(c.hall_id)) == DeadlineState.YELLOW]


def _deadline_filter(cases: QuerySet[Case], state: str, now: dt.datetime,
                     yellow_ids: list[int] | None = None) -> QuerySet[Case]:
    """Cases in ``state`` as :func:`case_deadline_state` computes it (``yellow_ids``: those of
    :func:`_yellow_ids`, when the caller has them already)."""
    decided = Q(decided_at__isnull=False, due_at__isnull=False)
    running = Q(status=Status.ACCEPTED, due_at__isnull=False, decided_at__isnull=True)
    other = Q(due_at__isnull=False) & ~decided & ~running
    red = ((decided & Q(decided_at__gt=F("due_at"))) | (running & Q(due_at__lt=now))
           | (other & Q(deadline_state=DeadlineState.RED)))
    if state == DeadlineState.RED:
        return cases.filter(red)
    if yellow_ids is None:
        yellow_ids = _yellow_ids(cases, now)
    yellow = Q(pk__in=yellow_ids) | (other & Q(deadline_state=DeadlineState.YELLOW))
    if state == DeadlineState.YELLOW:
        return cases.filter(yellow)
    return cases.exclude(red).exclude(yellow)


# --- lists ------------------------------------------------------------------------------------

@dataclass
class CaseFilter:
    statuses: list[str] = field(default_factory=list)
    item: str = ""
    deadline_state: str = ""
    due_before: dt.datetime | None = None


def check_filter(*, statuses: Iterable[str] = (), item: str = "", deadline_state: str = "",
                 due_before: dt.datetime | None = None) -> CaseFilter:
    """A :class:`CaseFilter` from query parameters; unknown values are a 422 naming the field."""
    problems: list[Problem] = []
    wanted = [s.strip() for value in statuses for s in value.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in Status.values]
    if unknown:
        problems.append(Problem("status", _("未知的办件状态：%(s)s；可用：%(all)s") % {
            "s": "、".join(unknown), "all": "、".join(Status.values)}))
    if deadline_state and deadline_state not in DeadlineState.values:
        problems.append(Problem("deadline_state", _("时限状态须为green、yellow或red")))
    if due_before is not None and due_before.tzinfo is None:
        due_before = timezone.make_aware(due_before)  # read as Beijing time, the site's zone
    if problems:
        raise RuleViolation(problems)
    return CaseFilter(statuses=wanted, item=item.strip(), deadline_state=deadline_state,
                      due_before=due_before)


def _filtered(cases: QuerySet[Case], filters: CaseFilter, now: dt.datetime) -> QuerySet[Case]:
    if filters.statuses:
        cases = cases.filter(status__in=filters.statuses)
    if filters.item:
        cases = cases.filter(item__implementation_code=filters.item)
    if filters.due_before is not None:
        cases = cases.filter(due_at__lt=filters.due_before)
    if filters.deadline_state:
        cases = _deadline_filter(cases, filters.deadline_state, now)
    return cases


def case_list(user: Actor, filters: CaseFilter, *, now: dt.datetime | None = None) -> QuerySet[Case]:
    """The cases ``user`` may see matching ``filters``, newest first."""
    now = now or timezone.now()
    return (_filtered(visible_cases(user), filters, now)
            .select_related("item", "item_version", "department")
            .order_by("-created_at", "-pk"))


def _foreign_step_rule(department_id: int) -> list[Q]:
    """The cases of *other* departments with a step of this one, as indexed conditions. A step's
    department is the case's own (``@item``: the department's own condition has them), its
    receiving unit (``@receiving_unit``) or a department its workflow names by USCC; so these
    are the cases received by this department, and those running a workflow that names it —
    each with a step of this department indeed."""
    has_step = Exists(StepTask.objects.filter(case_id=OuterRef("pk"), department_id=department_id))
    rule = [Q(has_step, receiving_unit_id=department_id)]
    uscc = Department.objects.filter(pk=department_id).values_list("uscc", flat=True).first()
    if uscc:
        named = [pk for pk, definition in WorkflowDefinition.objects.annotate(
                     text=Cast("definition", TextField())).filter(text__contains=uscc)
                 .values_list("pk", "definition")
                 if any(step.department == uscc
                        for step in Definition.from_dict(definition).steps)]
        if named:
            rule.append(Q(has_step, workflow_id__in=named))
    return rule


def visible_branches(user: Actor) -> list[QuerySet[Case]]:
    """:func:`visible_cases` as a union of querysets, one per condition of
    :func:`_visible_rule`, each served in ``created_at`` order by its own index
    (``case_applicant_created``, ``case_agent_created``, ``case_department_created`` …): what a
    keyset page reads (``case_page``). Together they are exactly ``visible_cases(user)``."""
    rule = _visible_rule(user)
    if rule is None:
        return [Case.objects.all()]
    return [Case.objects.filter(condition) for condition in rule]


def case_count(user: Actor, filters: CaseFilter, *, cap: int, now: dt.datetime | None = None,
               branches: list[QuerySet[Case]] | None = None) -> tuple[int, bool]:
    """How many cases :func:`case_list` holds, counted up to ``cap``: the ids of each branch
    (index-only, at most ``cap + 1`` each) merged. The count and whether it is exact."""
    now = now or timezone.now()
    ids: set[int] = set()
    for qs in visible_branches(user) if branches is None else branches:
        ids.update(_filtered(qs, filters, now).order_by().values_list("pk", flat=True)[:cap + 1])
    return (len(ids), True) if len(ids) <= cap else (cap, False)


# A page of a case list; the API allows up to 100.
PAGE_SIZE = 20

# What no case list shows and leaves unread (the pages' rows, the API's summaries, their
# deadline marks): the personal data besides the applicant's name — each an encrypted column
# decrypted per row when read — the form, the texts of a decision, and the item version's guide.
LIST_DEFERRED = (
    "applicant_id_number", "applicant_phone", "agent_id_number", "authorization", "form_data",
    "decision_reason", "closed_reason", "idempotency_key",
    *(f"item_version__{name}" for name in (
        "visit_reason", "handling_forms", "fee_standard", "fee_basis", "conditions",
        "legal_basis", "service_objects", "topics", "location", "office_hours",
        "special_procedures", "process", "review_route", "change_note", "review_note")),
)


def list_deferred(prefix: str = "", *, keep: tuple[str, ...] = ()) -> list[str]:
    """:data:`LIST_DEFERRED` for a queryset that reaches the case through ``prefix``
    (``"case__"``), without the columns in ``keep`` (a list that masks the ID number reads it)."""
    return [prefix + name for name in LIST_DEFERRED if name not in keep]


def _list_rows(qs: QuerySet[Case]) -> QuerySet[Case]:
    return qs.select_related("item", "item_version", "department").defer(*LIST_DEFERRED)


def case_page(user: Actor, filters: CaseFilter, *, cursor: Cursor | None = None,
              size: int = PAGE_SIZE, now: dt.datetime | None = None,
              branches: list[QuerySet[Case]] | None = None) -> Page[Case]:
    """One keyset page of :func:`case_list` (newest first): no OFFSET and no count, a few
    indexed queries whatever the list's length."""
    now = now or timezone.now()
    found = [_list_rows(_filtered(qs, filters, now))
             for qs in (visible_branches(user) if branches is None else branches)]
    return keyset_page(found, key="created_at", descending=True, size=size, cursor=cursor)


def case_offset_page(user: Actor, filters: CaseFilter, *, offset: int, size: int,
                     now: dt.datetime | None = None,
                     branches: list[QuerySet[Case]] | None = None) -> list[Case]:
    """Rows ``offset`` … ``offset + size`` of :func:`case_list`: each branch read to that
    depth in index order and merged (the API's page numbers, capped by the caller)."""
    now = now or timezone.now()
    found: dict[int, Case] = {}
    for qs in visible_branches(user) if branches is None else branches:
        rows = _list_rows(_filtered(qs, filters, now)).order_by("-created_at", "-pk")[:offset + size]
        for case in rows:
            found.setdefault(case.pk, case)
    ordered = display_sorted(list(found.values()), key="created_at", descending=True)
    return ordered[offset:offset + size]


# --- one case ---------------------------------------------------------------------------------

def case_detail(pk: int) -> Case:
    """The case with everything its detail shows, each related set in the case's prefetched
    cache: the case row and the sets that have rows, by statements compiled once
    (``detail_reads``)."""
    return detail_reads.case_detail(pk)


# --- one case, as the API's detail reads it on every request ---------------------------------
#
# ``api.get_case`` answers from a detail rendered once per state of the case (``detail``); what
# each request still reads is the case's own row — for the permission check, the masking, the
# audit record and the key of the kept detail — without the encrypted columns, with the highest
# id of its materials; one statement, compiled once (``core.prepared``).

HEAD_FIELDS = ("id", "number", "item_id", "item_version_id", "workflow_id", "department_id",
               "receiving_unit_id", "hall_id", "channel", "status", "version", "event_count",
               "applicant_id", "agent_id", "due_at", "due_provisional", "decided_at",
               "deadline_state", "extension_working_days", "visits")


def _heads() -> QuerySet[Case]:
    last = CaseMaterial.objects.filter(case_id=OuterRef("pk")).order_by("-id").values("id")[:1]
    return Case.objects.only(*HEAD_FIELDS).annotate(last_material=Subquery(last)).order_by()


_HEAD_BY_ID = prepared.Lookup(lambda pk: _heads().filter(pk=pk))
_HEAD_BY_NUMBER = prepared.Lookup(lambda number: _heads().filter(number=number), text=True)
_HEAD_TASKS = prepared.Lookup(
    lambda pk: StepTask.objects.select_related("department", "assignee", "finished_by")
    .filter(case_id=pk)
    .order_by("opened_at", "pk"))


def case_head(user: Actor, number_or_id: str) -> Case | None:
    """The case with this number or id, if ``user`` may see it (``policies.can_view``, as
    :func:`case_find`), with only the columns of :data:`HEAD_FIELDS` loaded; its item version
    and workflow version (which never change) come from this process's copy."""
    ref = (number_or_id or "").strip()
    if not ref:
        return None
    case = None
    if ref.isdecimal() and len(ref) < 20:
        pk = _as_id(ref)
        if pk is None:
            return None
        case = next(iter(_HEAD_BY_ID.all(pk)), None)
    if case is None:
        case = next(iter(_HEAD_BY_NUMBER.all(ref)), None)
    if case is None or not policies.can_view(user, case):
        return None
    return detail_reads.attach_versions(case)


def last_material_id(case: Case) -> int:
    """The highest id of the case's materials (0: none), read with the row by
    :func:`case_head`. Every change to a case's materials adds a row (a replaced file or
    promise is kept, marked superseded, in the same transaction), so this changes whenever
    they do."""
    return int(getattr(case, "last_material", None) or 0)


def case_tasks(case: Case) -> list[StepTask]:
    """The steps of the case, as :func:`case_detail` orders them (none without a workflow)."""
    return _HEAD_TASKS.all(case.pk) if case.workflow_id is not None else []


def mask_form_data(form_data: dict[str, Any], fields: list[dict[str, Any]]) -> dict[str, Any]:
    """Form data with identifiers, phones and addresses masked (the field types say which)."""
    from tongban.accounts.masking import mask_address

    kinds = {f.get("name"): f.get("type") for f in fields}
    masked: dict[str, Any] = {}
    for name, value in form_data.items():
        kind = kinds.get(name)
        if isinstance(value, str) and kind in {"id_number", "uscc"}:
            masked[name] = mask_id_number(value)
        elif isinstance(value, str) and kind == "phone":
            masked[name] = mask_phone(value)
        elif isinstance(value, str) and kind == "address":
            masked[name] = mask_address(value)
        else:
            masked[name] = value
    return masked


# --- the comprehensive window -----------------------------------------------------------------

def window_find_items(q: str, *, limit: int) -> list[Any]:
    """For the comprehensive window: published items matching ``q`` — an implementation code
    exactly, else the catalog's Chinese search (best ``limit`` matches)."""
    q = q.strip()
    if not q:
        return []
    exact = list(catalog_selectors.published_versions().filter(item__implementation_code=q.upper()))
    if exact:
        return exact
    ranked = catalog_selectors.search_ranked(q)
    return [row.version for row in catalog_selectors.search_rows(ranked.item_ids[:limit],
                                                                  ranked.query)]


def window_cases_today(user: Actor) -> list[Case]:
    """Window cases created today (Beijing time) at the clerk's hall, newest first."""
    if not user.is_authenticated or user.hall_id is None:
        return []
    today = timezone.now().astimezone(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
    return list(visible_cases(user).filter(
        hall_id=user.hall_id, channel=Channel.WINDOW, created_at__gte=today)
        .select_related("item_version").order_by("-created_at")[:100])
