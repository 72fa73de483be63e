"""Reads of cases: which cases a user may see, lists with filters, one case with everything
shown on its detail, and the live deadline state.

Visibility follows :func:`tongban.cases.policies.can_view` exactly: :func:`visible_cases` is the
same rule as a query, so a list never shows a case whose detail would be refused.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, TextField
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
from tongban.core.errors import Problem, RuleViolation
from tongban.core.keyset import Cursor, Page, display_sorted, keyset_page
from tongban.organizations.models import Department, Hall

from . import policies
from .models import Case, CaseEvent, CaseMaterial, Channel, DeadlineState, Status

# --- who sees which cases ---------------------------------------------------------------------


def visible_cases(user: Any) -> QuerySet[Case]:
    """Every case ``user`` may open: the query form of ``policies.can_view``."""
    role = policies._role(user)
    if role is None:
        return Case.objects.none()
    if role in policies.STAFF_ALL_CASES or permissions.is_bureau_admin(user):
        return Case.objects.all()
    # The applicant's side: as applicant or as agent (代理人).
    own = Q(applicant=user) | Q(agent=user)
    scope = Q(pk__in=[])
    if role in policies.DEPARTMENT_STAFF and user.department_id is not None:
        scope |= Q(department_id=user.department_id)
        # A parallel step handled by another department lets that department see the case.
        scope |= Q(pk__in=StepTask.objects.filter(department_id=user.department_id)
                   .values("case_id"))
    if role == Role.PROXY_AGENT:
        unit = policies._hall_department(user)
        if unit is not None:
            scope |= Q(receiving_unit_id=unit)
    if role == Role.CLERK and user.hall_id is not None:
        scope |= Q(hall_id=user.hall_id)
    # Staff never see an applicant's unsubmitted draft, except a walk-in's at their own hall.
    staff = scope & ~Q(status=Status.DRAFT)
    if getattr(user, "hall_id", None) is not None:
        staff |= Q(status=Status.DRAFT, hall_id=user.hall_id)
    return Case.objects.filter(own | staff)


def case_find(user: Any, number_or_id: str) -> Case | None:
    """The case with this number (20 digits) or database id, if ``user`` may see it.

    A case the user may not see is reported as absent, so that its existence is not revealed.
    """
    ref = (number_or_id or "").strip()
    if not ref:
        return None
    lookup = Q(number=ref)
    if ref.isdecimal() and len(ref) < 20:
        lookup |= Q(pk=int(ref))
    case = (Case.objects.select_related("item_version", "department", "hall", "receiving_unit")
            .filter(lookup).first())
    if case is None or not policies.can_view(user, case):
        return None
    return case


def sees_identifiers(user: Any, case: Case) -> bool:
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


def case_list(user: Any, filters: CaseFilter, *, now: dt.datetime | None = None) -> QuerySet[Case]:
    """The cases ``user`` may see matching ``filters``, newest first."""
    now = now or timezone.now()
    return (_filtered(visible_cases(user), filters, now)
            .select_related("item", "item_version", "department")
            .order_by("-created_at", "-pk"))


def _foreign_step_branches(department_id: int) -> list[QuerySet[Case]]:
    """The cases of *other* departments with a step of this one, as indexed branches. A step's
    department is the case's own (``@item``: the department branch has them), its receiving
    unit (``@receiving_unit``) or a department its workflow names by USCC; so these are the
    cases received by this department, and those running a workflow that names it — each
    with a step of this department indeed (the rule of ``visible_cases``)."""
    has_step = Exists(StepTask.objects.filter(case_id=OuterRef("pk"), department_id=department_id))
    branches = [Case.objects.filter(has_step, receiving_unit_id=department_id)]
    uscc = Department.objects.filter(pk=department_id).values_list("uscc", flat=True).first()
    if uscc:
        named = [pk for pk, definition in WorkflowDefinition.objects.annotate(
                     text=Cast("definition", TextField())).filter(text__contains=uscc)
                 .values_list("pk", "definition")
                 if any(step.department == uscc
                        for step in Definition.from_dict(definition).steps)]
        if named:
            branches.append(Case.objects.filter(has_step, workflow_id__in=named))
    return branches


def visible_branches(user: Any) -> list[QuerySet[Case]]:
    """:func:`visible_cases` as a union of querysets, one per ``OR`` of the rule, each served
    in ``created_at`` order by its own index (``case_applicant_created``,
    ``case_agent_created``, ``case_department_created`` …): what a keyset page reads
    (``case_page``). Together they are exactly ``visible_cases(user)``."""
    role = policies._role(user)
    if role is None:
        return []
    if role in policies.STAFF_ALL_CASES or permissions.is_bureau_admin(user):
        return [Case.objects.all()]
    branches = [Case.objects.filter(applicant=user), Case.objects.filter(agent=user)]
    staff: list[QuerySet[Case]] = []
    if role in policies.DEPARTMENT_STAFF and user.department_id is not None:
        staff.append(Case.objects.filter(department_id=user.department_id))
        staff += _foreign_step_branches(user.department_id)
    if role == Role.PROXY_AGENT:
        unit = policies._hall_department(user)
        if unit is not None:
            staff.append(Case.objects.filter(receiving_unit_id=unit))
    if role == Role.CLERK and user.hall_id is not None:
        staff.append(Case.objects.filter(hall_id=user.hall_id))
    branches += [qs.exclude(status=Status.DRAFT) for qs in staff]
    if getattr(user, "hall_id", None) is not None:
        branches.append(Case.objects.filter(status=Status.DRAFT, hall_id=user.hall_id))
    return branches


def case_count(user: Any, filters: CaseFilter, *, cap: int, now: dt.datetime | None = None,
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


def case_page(user: Any, filters: CaseFilter, *, cursor: Cursor | None = None,
              size: int = PAGE_SIZE, now: dt.datetime | None = None,
              branches: list[QuerySet[Case]] | None = None) -> Page[Case]:
    """One keyset page of :func:`case_list` (newest first): no OFFSET and no count, a few
    indexed queries whatever the list's length."""
    now = now or timezone.now()
    found = [_filtered(qs, filters, now).select_related("item", "item_version", "department")
             for qs in (visible_branches(user) if branches is None else branches)]
    return keyset_page(found, key="created_at", descending=True, size=size, cursor=cursor)


def case_offset_page(user: Any, filters: CaseFilter, *, offset: int, size: int,
                     now: dt.datetime | None = None,
                     branches: list[QuerySet[Case]] | None = None) -> list[Case]:
    """Rows ``offset`` … ``offset + size`` of :func:`case_list`: each branch read to that
    depth in index order and merged (the API's page numbers, capped by the caller)."""
    now = now or timezone.now()
    found: dict[int, Case] = {}
    for qs in visible_branches(user) if branches is None else branches:
        rows = (_filtered(qs, filters, now).select_related("item", "item_version", "department")
                .order_by("-created_at", "-pk")[:offset + size])
        for case in rows:
            found.setdefault(case.pk, case)
    ordered = display_sorted(list(found.values()), key="created_at", descending=True)
    return ordered[offset:offset + size]


# --- one case ---------------------------------------------------------------------------------

def case_detail(pk: int) -> Case:
    """The case with everything its detail shows, in a fixed number of queries."""
    return (Case.objects
            .select_related("item", "item_version", "department", "receiving_unit", "hall",
                            "workflow", "applicant", "agent")
            .prefetch_related(
                Prefetch("materials", queryset=CaseMaterial.objects.order_by("pk")),
                "item_version__materials",
                Prefetch("events", queryset=CaseEvent.objects.select_related("actor")
                         .order_by("seq")),
                "notices",
                Prefetch("tasks", queryset=StepTask.objects.select_related("department", "assignee")
                         .order_by("opened_at", "pk")),
                "extensions__requested_by", "extensions__decided_by",
                "visit_records__hall", "visit_records__window", "clock_stops")
            .get(pk=pk))


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


def window_cases_today(user: Any) -> list[Case]:
    """Window cases created today (Beijing time) at the clerk's hall, newest first."""
    if user.hall_id is None:
        return []
    today = timezone.now().astimezone(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
    return list(visible_cases(user).filter(
        hall_id=user.hall_id, channel=Channel.WINDOW, created_at__gte=today)
        .select_related("item_version").order_by("-created_at")[:100])
