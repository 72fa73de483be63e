"""Reads for the department workbench: the inbox sorted by urgency, one case as staff see it,
the department head's overview and the proxy agents' 代办服务 cases.

Visibility is never decided here: the inbox starts from ``workflows.selectors.inbox`` and a case
from ``cases.selectors.case_find`` (``policies.can_view``); this module only arranges what those
return for the pages, and masks identifiers where ``policies.can_see_identifiers`` says so.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import BooleanField, Count, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _

from tongban.accounts.masking import mask_id_number, mask_phone
from tongban.accounts.models import PUBLIC_ROLES, Role, User
from tongban.accounts.permissions import Actor  # not under TYPE_CHECKING: the 600-line cap
from tongban.cases.workflows import selectors as workflow_selectors
from tongban.cases.workflows.definition import Definition, Step
from tongban.cases.workflows.models import StepTask, TaskStatus
from tongban.cases.workflows.services import can_work_on, definition_of
from tongban.catalog.models import Commitment, Item, VersionStatus
from tongban.clock import selectors as clock
from tongban.core.keyset import Cursor, Page, capped_count, keyset_page
from tongban.organizations.models import Hall

from . import policies, selectors
from . import workbench_statements as statements
from .actions import Actions, available_actions, step_operations
from .forms import FORM_KEY, case_form_fields
from .models import OPEN_CASE_STATUSES, Case, DeadlineState, Extension, Status

TABS = ("mine", "unclaimed", "all")
URGENCY: dict[str, int] = {DeadlineState.RED: 0, DeadlineState.YELLOW: 1,
                           DeadlineState.GREEN: 2}
# Cases whose clock has started and which are not decided (what a head watches), as the partial
# index ``case_open_department_due`` writes the condition: a literal, since
# SQLite uses a partial index only for a query whose condition it can see implies the index's,
# which it cannot for an IN list of bound parameters.
OPEN_CASE = RawSQL('"cases_case"."status" IN ({})'.format(
    ", ".join(f"'{status}'" for status in OPEN_CASE_STATUSES)), [], output_field=BooleanField())
FAR_FUTURE = dt.datetime.max.replace(tzinfo=dt.UTC)


def _urgency(state: str, due: dt.datetime | None, pk: int) -> tuple[int, dt.datetime, int]:
    return URGENCY.get(state, 2), due or FAR_FUTURE, pk


# --- the inbox ---------------------------------------------------------------------------------

@dataclass
class InboxRow:
    task: StepTask
    case: Case
    state: str
    applicant_id: str
    can_claim: bool
    can_assign: bool
    colleagues: list[Any] = field(default_factory=list)


@dataclass
class Inbox:
    tab: str
    rows: list[InboxRow]
    items: list[tuple[str, str]]
    steps: list[tuple[str, str]]
    counts: dict[str, str]  # per tab, "1000+" above COUNT_CAP
    next: str | None = None  # keyset tokens of the pages after and before this one
    previous: str | None = None

    @property
    def has_other_pages(self) -> bool:
        return self.next is not None or self.previous is not None


# A page of the inbox; tabs are counted up to COUNT_CAP; the choices of the item and step
# filters come from at most CHOICES_CAP distinct values; a page filtered by deadline state reads
# at most SCAN_CAP tasks (then offers 下一页 from where it stopped).
INBOX_PAGE = 25
COUNT_CAP = 99
CHOICES_CAP = 200
SCAN_CAP = 2000


def _tab_tasks(user: Actor, tab: str) -> QuerySet[StepTask]:
    if tab == "all" and getattr(user, "role", None) == Role.HEAD:
        return workflow_selectors.inbox(user, scope="department")
    tasks = workflow_selectors.inbox(user, scope="mine")
    if tab == "mine":
        return tasks.filter(assignee_id=user.pk)
    if tab == "unclaimed":
        return tasks.filter(assignee=None)
    return tasks


def can_assign(user: Actor, task: StepTask) -> bool:
    """Whether the page offers 分派/转办 (the service decides): the head of the task's
    department, or its current holder."""
    return (user.is_authenticated and user.role == Role.HEAD and user.department_id == task.department_id) \
        or (task.assignee_id is not None and task.assignee_id == user.pk)


def _count_label(tasks: QuerySet[Any]) -> str:
    n, exact = capped_count(tasks, COUNT_CAP)
    return str(n) if exact else f"{n}+"


def inbox(user: Actor, *, tab: str = "mine", item: str = "", step: str = "", state: str = "",
          q: str = "", now: dt.datetime, cursor: Cursor | None = None, size: int = INBOX_PAGE) -> Inbox:
    """One page of the open step tasks of one tab, soonest due first (so the overdue — red —
    first), ``cursor`` a keyset position (``core.keyset``). ``q`` matches the case number or the
    applicant's name. A list needs only to recognise the person: ID numbers are always masked
    here (the case page shows them in full to the staff who handle it). A fixed number of
    queries whatever the page's length: the colleagues a task may be handed to are read once
    per department and role."""
    if tab not in TABS:
        tab = "mine"
    who = _who(user)
    if who is not None:  # the statements compiled once for this person (``workbench_statements``)
        found_counts = statements.capped_counts(
            who, lambda: [_tab_tasks(user, name) for name in TABS], COUNT_CAP)
        counts = {name: (str(n) if n <= COUNT_CAP else f"{COUNT_CAP}+")
                  for name, n in zip(TABS, found_counts, strict=True)}
        items, steps = statements.distinct_pairs(
            (*who, tab), lambda: list(_choice_lists(_tab_tasks(user, tab))), 2)
    else:
        counts = {name: _count_label(_tab_tasks(user, name)) for name in TABS}
        items, steps = (list(qs) for qs in _choice_lists(_tab_tasks(user, tab)))
    items = sorted(set(items), key=lambda pair: pair[1])
    steps = sorted(set(steps), key=lambda pair: pair[1])
    if who is not None and not (item or step or q.strip() or state or cursor is not None):
        page = statements.first_page((*who, tab), lambda: _page_tasks(_tab_tasks(user, tab)),
                                     size)
        return _inbox(user, tab, now, page, counts=counts, items=items, steps=steps)
    tasks = _page_tasks(_tab_tasks(user, tab))
    if item:
        tasks = tasks.filter(case__item__implementation_code=item)
    if step:
        tasks = tasks.filter(step_key=step)
    q = q.strip()
    if q:
        tasks = tasks.filter(Q(case__number__icontains=q) | Q(case__applicant_name__icontains=q))
    if state == DeadlineState.RED:
        tasks = tasks.filter(due_at__lt=now)  # red is past due: the rest is decided below
    elif state:
        tasks = tasks.filter(Q(due_at__gte=now) | Q(due_at__isnull=True))
    hours = clock.office_hours_memo()
    found: list[tuple[StepTask, str]] = []
    page = keyset_page([tasks], key="due_at", nullable=True, descending=False, size=size,
                       cursor=cursor)
    scanned = 0
    while True:
        with clock.calendar_scope():  # the calendar checked once a batch, not once a row
            for task in page.rows:
                task_state = clock.deadline_state(task.due_at, now=now, opened_at=task.opened_at,
                                                  hours=hours(task.case.hall_id))
                if not state or task_state == state:
                    found.append((task, task_state))
        scanned += len(page.rows)
        # A state filter (yellow or green) may drop rows: read on until the page is full.
        if not state or len(found) >= size or page.next is None or scanned >= SCAN_CAP \
                or (cursor is not None and not cursor.forward):
            break
        page = keyset_page([tasks], key="due_at", nullable=True, descending=False,
                           size=size, cursor=Cursor.decode(page.next))
    following = page.next
    if len(found) > size:
        found = found[:size]
        last = found[-1][0]
        following = Cursor(forward=True, value=last.due_at, pk=last.pk).encode()
    first = found[0][0] if found else None
    previous = (Cursor(forward=False, value=first.due_at, pk=first.pk).encode()
                if first is not None and cursor is not None else None)
    if not state:
        following, previous = page.next, page.previous
    return _inbox(user, tab, now, Page(rows=[t for t, _s in found], next=following,
                                       previous=previous),
                  counts=counts, items=items, steps=steps, states=dict(
                      (t.pk, s) for t, s in found))


def _who(user: Actor) -> tuple[Any, ...] | None:
    """What the SQL of a tab's unfiltered statements depends on (the person, their role and
    departments), or None when the inbox is empty for them (no statement to keep)."""
    role = workflow_selectors._active_role(user)
    if role is None or role in PUBLIC_ROLES:
        return None
    return (user.pk, role, tuple(workflow_selectors._units(user)), getattr(user, "department_id", None))


def _choice_lists(base: QuerySet[StepTask]) -> tuple[QuerySet[Any], QuerySet[Any]]:
    """The item filter's (implementation code, name) and the step filter's (key, name) pairs
    of a tab, at most ``CHOICES_CAP`` each."""
    return (base.order_by().values_list("case__item__implementation_code",
                                        "case__item_version__name").distinct()[:CHOICES_CAP],
            base.order_by().values_list("step_key", "name").distinct()[:CHOICES_CAP])


def _page_tasks(base: QuerySet[StepTask]) -> QuerySet[StepTask]:
    # The page's rows leave unread what no list shows (and the workflow's definition).
    return base.select_related("case__item_version").defer(
        *selectors.list_deferred("case__", keep=("applicant_id_number",)),
        "case__workflow__definition")


def _inbox(user: Actor, tab: str, now: dt.datetime, page: Page[StepTask], *,
           counts: dict[str, str], items: list[tuple[str, str]], steps: list[tuple[str, str]],
           states: dict[int, str] | None = None) -> Inbox:
    """The inbox of ``page``'s tasks: each with its deadline state (``states``, or computed
    here) and what the page offers on it."""
    if states is None:
        hours = clock.office_hours_memo()
        with clock.calendar_scope():  # the calendar checked once for the page, not once a row
            states = {task.pk: clock.deadline_state(task.due_at, now=now,
                                                    opened_at=task.opened_at,
                                                    hours=hours(task.case.hall_id))
                      for task in page.rows}
    found = [(task, states[task.pk]) for task in page.rows]
    following, previous = page.next, page.previous
    team: dict[tuple[int, str], list[Any]] = {}
    rows: list[InboxRow] = []
    for task, task_state in found:
        assignable = can_assign(user, task)
        people: list[Any] = []
        if assignable:
            key = (task.department_id, task.role)
            if key not in team:
                team[key] = colleagues(task)
            people = [p for p in team[key] if p.pk != task.assignee_id]
        rows.append(InboxRow(task=task, case=task.case, state=task_state,
                             applicant_id=mask_id_number(task.case.applicant_id_number),
                             can_claim=task.assignee_id is None and can_work_on(user, task),
                             can_assign=assignable, colleagues=people))
    return Inbox(tab=tab, rows=rows, items=items, steps=steps, counts=counts, next=following,
                 previous=previous)


def task_for(user: Actor, task_id: int) -> StepTask | None:
    """The task if ``user`` may see it (``workflows.selectors.task_find``), else None."""
    return workflow_selectors.task_find(user, task_id)


# --- one case ----------------------------------------------------------------------------------

@dataclass
class OpenStep:
    task: StepTask
    step: Step | None
    state: str
    mine: bool  # the user may act on it (``can_work_on``)
    actions: tuple[str, ...]  # the step's operations the case's status allows now
    return_to: list[tuple[str, str]]


@dataclass
class StaffCase:
    case: Case
    full: bool
    applicant_id: str
    applicant_phone: str
    agent_id: str
    form_rows: list[tuple[str, Any]]
    materials: list[Any]
    events: list[Any]
    notices: list[Any]
    clock_stops: list[Any]
    extensions: list[Any]
    tasks: list[tuple[StepTask, str]]
    open_steps: list[OpenStep]
    state: str
    pending_extension: Extension | None
    # What the user may do now (``actions.available_actions``); the page's buttons follow it.
    may: Actions
    supplement_materials: list[Any]

    @property
    def can_resume(self) -> bool:
        return "resume" in self.may

    @property
    def can_halt(self) -> bool:
        return "halt" in self.may

    @property
    def can_deliver(self) -> bool:
        return "deliver" in self.may

    @property
    def can_decide_extension(self) -> bool:
        return self.pending_extension is not None and "extend" in self.may

    @property
    def can_receive(self) -> bool:
        """Intake (受理环节) of an application that came in online: pre-review, the one-time
        supplement notice, accept, refuse."""
        return "accept" in self.may


def _step(definition: Definition | None, key: str) -> Step | None:
    if definition is None:
        return None
    try:
        return definition.step(key)
    except KeyError:
        return None


def _step_name(definition: Definition | None, key: str) -> str:
    step = _step(definition, key)
    return step.name if step is not None else key


def staff_case(user: Actor, number: str, *, now: dt.datetime) -> StaffCase | None:
    """The case as ``user`` sees it on the workbench, or None when it is not theirs to see."""
    found = selectors.case_find(user, number)
    if found is None:
        return None
    case = selectors.case_detail(found.pk)
    full = policies.can_see_identifiers(user, case)
    specs = case_form_fields(case.form_data)
    data = case.form_data if full else selectors.mask_form_data(case.form_data, specs)
    labels = {s["name"]: s.get("label", s["name"]) for s in specs}
    form_rows = [(labels.get(name, name), value) for name, value in data.items()
                 if name != FORM_KEY]
    definition = definition_of(case) if case.workflow_id else None
    tasks, open_steps = [], []
    may = available_actions(user, case)
    hours = clock.office_hours(case.hall_id)
    for task in case.tasks.all():
        state = selectors.task_deadline_state(task, now=now, hall_id=case.hall_id, hours=hours)
        tasks.append((task, state))
        if task.status != TaskStatus.OPEN:
            continue
        step = _step(definition, task.step_key)
        mine = can_work_on(user, task)
        actions = step_operations(may, task.pk, step.actions) if (step is not None and mine) \
            else ()
        targets = [(key, _step_name(definition, key)) for key in (step.return_to if step else ())]
        open_steps.append(OpenStep(task=task, step=step, state=state, mine=mine,
                                   actions=tuple(actions), return_to=targets))
    extensions = list(case.extensions.all())
    pending = next((e for e in extensions if e.state == Extension.State.REQUESTED), None)
    return StaffCase(
        case=case, full=full,
        applicant_id=case.applicant_id_number if full else mask_id_number(case.applicant_id_number),
        applicant_phone=case.applicant_phone if full else mask_phone(case.applicant_phone),
        agent_id=case.agent_id_number if full else mask_id_number(case.agent_id_number),
        form_rows=form_rows,
        materials=[m for m in case.materials.all()],
        events=list(case.events.all()), notices=sorted(case.notices.all(), key=lambda n: n.issued_at),
        clock_stops=list(case.clock_stops.all()), extensions=extensions,
        tasks=tasks, open_steps=open_steps,
        state=selectors.case_deadline_state(case, now=now),
        pending_extension=pending,
        may=may,
        supplement_materials=list(case.item_version.materials.all()),
    )


INTAKE_STATUSES = (Status.SUBMITTED, Status.PRE_REVIEW)


@dataclass
class IntakeRow:
    case: Case
    applicant_id: str
    waiting: bool  # 待补正: the applicant owes materials
    status_label: str = ""


INTAKE_SHOWN = 10


@dataclass
class Intake:
    rows: list[IntakeRow]
    total: int  # all waiting, counted up to COUNT_CAP
    exact: bool = True

    @property
    def more(self) -> bool:
        return self.total > len(self.rows)


def intake(user: Actor) -> Intake:
    """Applications of the officer's department submitted online and not yet accepted: waiting
    for pre-review, acceptance or refusal, or for the applicant's supplement — the oldest
    ``INTAKE_SHOWN`` of them, and how many wait in all (capped)."""
    department = getattr(user, "department_id", None)
    if getattr(user, "role", None) not in policies.DEPARTMENT_STAFF or department is None:
        return Intake(rows=[], total=0)

    def cases() -> QuerySet[Case]:
        return (Case.objects.filter(department_id=department, accepted_at__isnull=True,
                                    status__in=(*INTAKE_STATUSES, Status.SUPPLEMENT))
                .select_related("item_version").order_by("submitted_at", "pk"))

    # Statements compiled once per department (``workbench_statements``).
    key = ("intake", department)
    labels = dict(Status.choices)
    rows = [IntakeRow(case=c, applicant_id=mask_id_number(c.applicant_id_number),
                      waiting=c.status == Status.SUPPLEMENT,
                      status_label=str(labels.get(c.status, c.status)))
            for c in statements.rows(key, lambda: cases().defer(
                *selectors.list_deferred(keep=("applicant_id_number",))), INTAKE_SHOWN)]
    if len(rows) < INTAKE_SHOWN:
        return Intake(rows=rows, total=len(rows))
    total = statements.capped_counts(key, lambda: [cases()], COUNT_CAP)[0]
    return Intake(rows=rows, total=min(total, COUNT_CAP), exact=total <= COUNT_CAP)


def colleagues(task: StepTask) -> list[Any]:
    """Who a task may be handed to: active people of its department (or of a hall that
    department manages) holding its role. ``task_assign`` checks the same again."""
    # Two indexed reads (department, then halls) rather than one OR a planner scans users for.
    users = get_user_model().objects.filter(is_active=True, role=task.role)
    halls = list(Hall.objects.filter(department_id=task.department_id).values_list("pk", flat=True))
    found = {u.pk: u for u in users.filter(department_id=task.department_id)}
    if halls:
        found.update((u.pk, u) for u in users.filter(hall_id__in=halls))
    return sorted(found.values(), key=lambda u: (u.real_name, u.username))


# --- the department head -----------------------------------------------------------------------

@dataclass
class OfficerLoad:
    user: User | None
    open: int = 0
    overdue: int = 0


@dataclass
class HeadOverview:
    counts: dict[str, int]  # open cases per deadline state
    rows: list[tuple[Case, str, str]]  # one page: case, masked ID number, deadline state
    page: Page[Case]
    extensions: list[Extension]  # the oldest EXTENSIONS_SHOWN
    load: list[OfficerLoad]
    unassigned: int
    unassigned_overdue: int
    extensions_total: int = 0


HEAD_PAGE = 25
EXTENSIONS_SHOWN = 25


def head_overview(user: Actor, *, now: dt.datetime, state: str = "",
                  cursor: Cursor | None = None) -> HeadOverview:
    """The head's department: how many of its open cases are green/yellow/red, one page of
    them (soonest due first, only ``state`` if given), extensions waiting for the head, and
    open tasks per person (with the overdue ones among them) — counted in SQL, a fixed number
    of queries whatever the department's size."""
    department = getattr(user, "department_id", None) or 0  # no department: none of its cases
    open_cases = Case.objects.filter(OPEN_CASE, department_id=department)
    total = open_cases.count()
    red = selectors._deadline_filter(open_cases, DeadlineState.RED, now).count()
    yellow_ids = selectors._yellow_ids(open_cases, now)
    n_yellow = selectors._deadline_filter(open_cases, DeadlineState.YELLOW, now,
                                          yellow_ids=yellow_ids).count()
    counts: dict[str, int] = {DeadlineState.RED: red, DeadlineState.YELLOW: n_yellow,
                              DeadlineState.GREEN: total - red - n_yellow}
    shown = (selectors._deadline_filter(open_cases, state, now, yellow_ids=yellow_ids)
             if state in URGENCY else open_cases)
    page = keyset_page([shown.select_related("item_version")], key="due_at", nullable=True,
                       descending=False, size=HEAD_PAGE, cursor=cursor)
    states = selectors.case_deadline_states(page.rows, now=now)
    rows = [(case, mask_id_number(case.applicant_id_number), states[case.pk])
            for case in page.rows]
    # The department's requested extensions, oldest first: the first EXTENSIONS_SHOWN of them
    # (each decided on its case's page) and how many wait in all. Found from the (few) requested
    # extensions to their cases, ids only — a condition on the case's department would let a
    # planner walk the department's cases instead — then the shown ones loaded.
    waiting = [pk for pk, case_department in
               Extension.objects.filter(state=Extension.State.REQUESTED)
               .order_by("requested_at", "pk").values_list("pk", "case__department_id")
               if case_department == department]
    extensions = (list(Extension.objects.filter(pk__in=waiting[:EXTENSIONS_SHOWN])
                       .select_related("case", "case__item_version", "requested_by")
                       .order_by("requested_at", "pk")) if waiting else [])
    extensions_total = len(waiting)
    staff = get_user_model().objects.filter(
        is_active=True, department_id=department, role__in=policies.DEPARTMENT_STAFF)
    load = {person.pk: OfficerLoad(user=person) for person in staff.order_by("role", "real_name")}
    unassigned = unassigned_overdue = 0
    # Every role named, so that the (department, role, status) index finds the open steps
    # without reading the department's finished ones.
    per_person = (StepTask.objects.filter(status=TaskStatus.OPEN, department_id=department,
                                          role__in=Role.values)
                  .order_by().values("assignee_id")
                  .annotate(open=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now))))
    others: list[int] = []
    for entry in per_person:
        if entry["assignee_id"] is None:
            unassigned, unassigned_overdue = entry["open"], entry["overdue"]
            continue
        if entry["assignee_id"] not in load:
            others.append(entry["assignee_id"])
            load[entry["assignee_id"]] = OfficerLoad(user=None)
        load[entry["assignee_id"]].open = entry["open"]
        load[entry["assignee_id"]].overdue = entry["overdue"]
    for person in get_user_model().objects.filter(pk__in=others) if others else ():
        load[person.pk].user = person  # someone who left the department still holds steps
    return HeadOverview(counts=counts, rows=rows, page=page, extensions=extensions,
                        load=list(load.values()), unassigned=unassigned,
                        unassigned_overdue=unassigned_overdue, extensions_total=extensions_total)


def extension_for(user: Actor, extension_id: int) -> Extension | None:
    """The extension if ``user`` may see its case, else None."""
    extension = Extension.objects.select_related("case").filter(pk=extension_id).first()
    if extension is None or not policies.can_view(user, extension.case):
        return None
    return extension


# --- proxy agents ------------------------------------------------------------------------------

def agent_unit(user: Actor) -> int | None:
    """The department of the proxy agent's street/town centre (its receiving unit)."""
    hall = getattr(user, "hall", None) if getattr(user, "hall_id", None) else None
    return hall.department_id if hall is not None else None


@dataclass
class ProxyRow:
    case: Case
    applicant_id: str
    forward: StepTask | None
    state: str
    late: bool
    can_forward: bool


def proxy_cases(user: Actor, *, now: dt.datetime) -> list[ProxyRow]:
    """The 代办服务 cases the agent's centre receives, newest first, with their forwarding
    step: open (and how urgent), or done (and whether it was late)."""
    unit = agent_unit(user)
    if unit is None:
        return []
    found = (selectors.visible_cases(user)
             .filter(receiving_unit_id=unit, item_version__commitment=Commitment.PROXY)
             .exclude(status=Status.DRAFT)
             .select_related("item_version", "department").order_by("-created_at", "-pk")[:200])
    cases = list(found)
    forwards: dict[int, StepTask] = {}
    for forward in (StepTask.objects.filter(case__in=cases, department_id=unit,
                                                 role=Role.PROXY_AGENT)
                    .exclude(status=TaskStatus.CANCELLED).order_by("opened_at", "pk")):
        forwards[forward.case_id] = forward  # the latest one (a returned case opens a new one)
    hours = clock.office_hours_memo()
    rows = []
    with clock.calendar_scope():  # the calendar checked once for the list, not once a row
        states = {case.pk: clock.deadline_state(forwards[case.pk].due_at, now=now,
                                                opened_at=forwards[case.pk].opened_at,
                                                hours=hours(case.hall_id))
                  for case in cases if case.pk in forwards
                  and forwards[case.pk].status == TaskStatus.OPEN}
    for case in cases:
        task: StepTask | None = forwards.get(case.pk)
        if case.pk in states:
            state = states[case.pk]
            late = state == DeadlineState.RED
        else:
            late = bool(task and task.late)
            state = DeadlineState.RED if late else DeadlineState.GREEN
        rows.append(ProxyRow(case=case, applicant_id=mask_id_number(case.applicant_id_number),
                             forward=task, state=state, late=late,
                             can_forward=task is not None and can_work_on(user, task)))
    return rows


def proxy_items(user: Actor) -> QuerySet[Item]:
    """The published 代办服务 items the agent's centre receives."""
    unit = agent_unit(user)
    if unit is None:
        return Item.objects.none()
    return (Item.objects.filter(current__commitment=Commitment.PROXY,
                                current__receiving_unit_id=unit,
                                current__status=VersionStatus.PUBLISHED)
            .select_related("current", "department").order_by("current__name"))


def grouped_counts(rows: list[InboxRow]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[row.state] += 1
    return dict(counts)


DEADLINE_LABELS: dict[str, Any] = {DeadlineState.GREEN: _("绿·正常"), DeadlineState.YELLOW: _("黄·预警"),
                   DeadlineState.RED: _("红·超期")}
