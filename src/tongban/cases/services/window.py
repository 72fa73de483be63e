"""Use cases of the applicant standing before staff: a clerk at a hall's window (综合窗口) takes
the walk-in's application through intake — accept, one-time notice or refusal — and a proxy
agent at a street/town centre's desk receives one (代办受理).

Each is one transaction whichever door calls it (the window page, the workbench, the API), and
each in-person answer is a visit (跑动) recorded with it: a refusal at the window counts as a
visit through the API exactly as on the page.

Records of a refused attempt (``RuleViolation.on_rollback``, e.g. a second one-time notice
naming something new) are written after the rollback here, unless a caller's own transaction
is still open: then the caller runs them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from tongban.accounts.models import Role
from tongban.catalog.models import Item, Material
from tongban.core.errors import AccessDenied, Problem, RuleViolation, inside_callers_transaction

from .. import policies
from ..materials import case_material_add
from ..models import Case, Channel, Notice, Status
from .acceptance import case_accept, case_refuse
from .intake import ApplicantData, case_create, case_submit
from .supplement import SupplementItem, case_request_supplement, case_supply
from .transitions import _lock
from .visits import case_record_visit

T = TypeVar("T")

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor


def at_window(actor: Actor, window: Any = None) -> bool:
    """Whether an answer at intake is given in person at a window, whatever the door: the actor
    is a hall's window clerk (窗口工作人员; the applicant stands before them), or the request
    names the window. Then accepting, the one-time notice and refusing are the window's use
    cases below, with their visit."""
    return window is not None or (
        getattr(actor, "role", None) == Role.CLERK and getattr(actor, "hall_id", None) is not None)


def _in_one_transaction(work: Callable[[], T]) -> T:
    try:
        with transaction.atomic():
            return work()
    except RuleViolation as exc:
        if not inside_callers_transaction():
            exc.run_on_rollback()
        raise


def _check_window(actor: Actor, window: Any) -> None:
    """Staff of a hall act only at their own hall's windows."""
    own_hall = getattr(actor, "hall_id", None)
    if window is not None and own_hall is not None and window.hall_id != own_hall:
        raise RuleViolation([Problem("window", _("该窗口不属于您所在的大厅"))])


def _into_intake(actor: Actor, case: Case, expected_version: int | None) -> Case:
    """A walk-in's draft is submitted, a supplied supplement returns it; then intake decides.

    The version the clerk saw guards the whole use case: the case row stays locked from here to
    the commit, so a clerk never acts on a case someone else moved."""
    current = _lock(case, expected_version)
    if current.status == Status.DRAFT:
        return case_submit(actor=actor, case=current)
    if current.status == Status.SUPPLEMENT:
        return case_supply(actor=actor, case=current)
    return current


def case_window_accept(*, actor: Actor, case: Case, window: Any = None,
                       expected_version: int | None = None) -> Case:
    """受理 at the window: the walk-in's draft is submitted (or a supplied supplement returned)
    and accepted at the clerk's hall and ``window``, all or nothing; the acceptance is the
    applicant's visit (即收即办 items are completed on the spot)."""
    def work() -> Case:
        _check_window(actor, window)
        current = _into_intake(actor, case, expected_version)
        hall = window.hall if window is not None else getattr(actor, "hall", None)
        return case_accept(actor=actor, case=current, hall=hall, window=window)

    return _in_one_transaction(work)


def case_window_supplement(*, actor: Actor, case: Case, items: Sequence[SupplementItem],
                           note: str = "", window: Any = None,
                           expected_version: int | None = None) -> Notice:
    """一次性告知 at the window: the notice handed over, and the visit it took, together."""
    def work() -> Notice:
        _check_window(actor, window)
        current = _into_intake(actor, case, expected_version)
        notice = case_request_supplement(actor=actor, case=current, items=items, note=note)
        case_record_visit(actor=actor, case=current, purpose=str(_("窗口一次性告知")),
                          window=window)
        return notice

    return _in_one_transaction(work)


def case_window_refuse(*, actor: Actor, case: Case, reason: str, window: Any = None,
                       expected_version: int | None = None) -> Notice:
    """不予受理 at the window: the refusal notice handed over, and the visit it took, together."""
    def work() -> Notice:
        _check_window(actor, window)
        current = _into_intake(actor, case, expected_version)
        notice = case_refuse(actor=actor, case=current, reason=reason)
        case_record_visit(actor=actor, case=current, purpose=str(_("窗口不予受理")),
                          window=window)
        return notice

    return _in_one_transaction(work)


def case_proxy_receive(*, actor: Actor, item: Item, applicant: ApplicantData,
                       form_data: dict[str, Any], uploads: Sequence[tuple[Material, Any]] = (),
                       idempotency_key: str = "") -> Case:
    """代办受理 at a street/town centre: a walk-in resident's application is created at the
    centre, its materials attached (``uploads``: material and file), submitted and accepted —
    all or nothing — so that the proxy agent can forward it. The acceptance is the resident's
    visit. A problem with a file names its field ``material.<id>``. Repeating the request with
    the same ``idempotency_key`` answers the case the first one created. Only a centre's proxy
    agent receives here (``policies.is_proxy_desk``)."""
    if not policies.is_proxy_desk(actor):
        raise AccessDenied(_("只有街道（乡镇）便民服务中心的代办员可以代办受理"))

    def work() -> Case:
        case = case_create(actor=actor, item=item, channel=Channel.WINDOW, form_data=form_data,
                           applicant=applicant, idempotency_key=idempotency_key)
        if case.status != Status.DRAFT:
            return case  # the same request again
        for material, upload in uploads:
            try:
                case_material_add(actor=actor, case=case, material=material, name=material.name,
                                  upload=upload, original_name=getattr(upload, "name", "") or "")
            except RuleViolation as exc:
                raise RuleViolation([Problem(f"material.{material.pk}", p.message)
                                     for p in exc.problems]) from exc
        case_submit(actor=actor, case=case)
        return case_accept(actor=actor, case=case, in_person=True)

    return _in_one_transaction(work)
