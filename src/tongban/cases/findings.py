"""Findings for electronic supervision (电子监察) made while handling a case.

Case handling notices some breaches itself — an application left unanswered until accepted by
law, a second notice naming materials the first did not, a bad review saying more materials
were asked than the guide lists. Supervision sits on a floor above cases and ratings
(docs/architecture.md, "Floors"), so they do not import it: they :func:`report` the finding,
and the supervision app, when it starts, registers the recorder that opens the record
(``SupervisionConfig.ready``). The report runs inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor


class Finding(StrEnum):
    """The findings lower floors report (their values are supervision's record kinds)."""

    ACCEPTED_BY_LAW = "accepted_by_law"
    SUPPLEMENT_NOT_ONE_TIME = "supplement_not_one_time"
    MATERIALS_BEYOND_GUIDE = "materials_beyond_guide"


_recorder: Callable[..., Any] | None = None


def register_recorder(recorder: Callable[..., Any]) -> None:
    """Called once by the supervision app with ``supervision_record_open``."""
    global _recorder
    _recorder = recorder


def report(finding: Finding, *, case: Any, department: Any, person: Any,
           detail: str | dict[str, Any], actor: Actor) -> Any:
    """Open (or find already open) the supervision record of ``finding`` about ``case``."""
    if _recorder is None:
        raise ImproperlyConfigured("tongban.supervision is not installed: findings have no home")
    return _recorder(kind=str(finding), case=case, department=department, person=person,
                     detail=detail, actor=actor)
