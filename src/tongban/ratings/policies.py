"""Who may do what with ratings and rectification tickets. Services call these."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tongban.accounts.models import Role
from tongban.cases.models import Case

from .models import Rating, RectificationTicket

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

PUBLIC_ROLES = frozenset({Role.CITIZEN, Role.ENTERPRISE})
DEPARTMENT_ROLES = frozenset({Role.OFFICER, Role.HEAD})


def _role(user: Actor | None) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return getattr(user, "role", None)


def is_staff(user: Actor | None) -> bool:
    """Any logged-in account that is not a citizen's or an enterprise's (or the system)."""
    role = _role(user)
    return role is not None and role not in PUBLIC_ROLES


def is_supervisor(user: Actor) -> bool:
    return _role(user) == Role.SUPERVISOR


def is_served_online(user: Actor | None, case: Case) -> bool:
    """The case's applicant or agent (一事一评 is theirs)."""
    return (_role(user) in PUBLIC_ROLES and user is not None and user.pk is not None
            and user.pk in (case.applicant_id, case.agent_id))


def acts_on_ticket(user: Actor, ticket: RectificationTicket) -> bool:
    """谁办理谁负责: officers and heads of the responsible department, and the handler."""
    role = _role(user)
    if role is None or not user.is_authenticated:
        return False
    if ticket.handler_id is not None and user.pk == ticket.handler_id:
        return True
    return role in DEPARTMENT_ROLES and user.department_id == ticket.department_id


def can_view_ticket(user: Actor, ticket: RectificationTicket) -> bool:
    return acts_on_ticket(user, ticket) or is_supervisor(user)


def can_record_callback(user: Actor, ticket: RectificationTicket) -> bool:
    return acts_on_ticket(user, ticket) or is_supervisor(user)


def can_decide_appeal(user: Actor) -> bool:
    return is_supervisor(user)


def is_rater(user: Actor, rating: Rating) -> bool:
    return (_role(user) is not None and rating.rater_id is not None
            and user.pk == rating.rater_id)


def sees_rater(user: Actor, rating: Rating) -> bool:
    """Who may see the rater's name and phone in full — to call them back — on the ticket itself:
    supervisors, the people who must act on the rating's ticket (bad reviews only), and the
    rater. Masked for everyone else. The rater's ID number is shown in full to the rater only:
    no staff role needs it to put a review right."""
    if is_supervisor(user):
        return True
    role = _role(user)
    if role is not None and rating.rater_id is not None and user.pk == rating.rater_id:
        return True
    ticket = getattr(rating, "ticket", None) if rating.is_bad else None
    return ticket is not None and acts_on_ticket(user, ticket)


def reveals_rater(user: Actor, rating: Rating) -> bool:
    """Whether one ticket's page or API answer shows a member of staff the rater's name and
    phone in full (``selectors.rater_for`` with ``reveal``) — a read of personal data that is
    audited (``services.rater_data_access_record``)."""
    return not is_rater(user, rating) and is_staff(user) and sees_rater(user, rating)
