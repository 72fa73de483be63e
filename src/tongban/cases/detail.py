"""The API's case detail, rendered once per state of the case and kept in the process.

``GET /api/v1/cases/{id}`` is read far more often than a case changes, and building it — ten
related sets through the ORM, then the schema — costs many times the request around it. So the
answer is rendered once per *state* of the case and kept, split where it depends on the moment
or on the reader:

- kept: everything but the three parts below, per (case id, state, masking class, language,
  reference generation);
- per request: the deadline state (``green``/``yellow``/``red``, on the working-day clock
  *now*), the steps (read again: an assignment or a recomputed due instant changes a step
  without changing the case) with their deadline states, and the actions the reader may take.

**The state** is what the request reads anyway — the case row's ``version`` (every transition
and every edit of the form), ``event_count`` (every history event: notices, extensions, clock
stops and visits come with one), ``due_at``/``due_provisional`` (a recomputed calendar changes
them without an event), ``visits`` — and the highest id of its materials (an upload adds a row
without an event; a replaced file is marked superseded in the same transaction). A kept entry
is only stored when the full read it was rendered from agrees with that state (same version,
same event count, same last material), so an entry never holds another state than its key.

**The reader** only chooses between two renderings: identifiers in full or masked
(``policies.can_see_identifiers``); which cases they may open (``policies.can_view``) is
checked on every request before anything kept is looked at, and their staff read is audited on
every request too (``services.case_data_access_record``). Nothing else in the kept part depends
on who reads it.

**Kept in this process only**, not in Django's cache: a rendering holds the applicant's personal
data (in full for the handling staff, and the application form), which the platform keeps
SM4-encrypted at rest (docs/privacy.md); a shared cache (Redis) would hold it in clear, and
sealing each entry costs about 0.4 ms a request (docs/adr/0009). The key comes from the
database's own state, so a process needs no message from another to stay exact.

**What the state does not cover**: names of departments, halls and windows (and the item's
code), covered by ``catalog.guide_cache``'s generation, bumped when one of those rows is saved;
and account names (an applicant's or agent's username, who requested an extension), which only
the time limit covers. Entries expire after :data:`TIMEOUT`: another process shows such a
rename at the latest then (with a shared cache for the generation, department and hall names
at once).
"""

from __future__ import annotations

import contextlib
import secrets
import time
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from ninja.renderers import JSONRenderer

from tongban.catalog import guide_cache
from tongban.clock import selectors as clock

from . import policies, selectors
from .actions import Action, available_actions
from .forms import case_form_fields
from .models import Case, Extension
from .schemas import CaseActionOut, TaskOut, case_out

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

TIMEOUT = 300  # seconds: bounds how stale an account's or a department's name may be elsewhere
LIMIT = 2000  # entries kept per process (a few KB each); then all are dropped and kept anew
_renderer = JSONRenderer()
_CONTENT_TYPE = f"{_renderer.media_type}; charset={_renderer.charset}"
# Stand for the per-request parts while the kept part is rendered; random per process, so no
# text in a case can be mistaken for one (a rendering in which one does not occur exactly once
# is not kept).
_NONCE = secrets.token_hex(8)
_PARTS = ("deadline_state", "tasks", "available_actions")
_MARKS = {name: f"tongban-detail-{_NONCE}-{name}" for name in _PARTS}


class _Kept:
    """Renderings by key, each until its time limit, at most :data:`LIMIT` of them."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Any]] = {}

    def get(self, key: str) -> Any:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key: str, value: Any) -> None:
        if len(self._entries) >= LIMIT:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + TIMEOUT, value)

    def clear(self) -> None:
        self._entries.clear()


kept_details = _Kept()


def state_of(case: Case, last_material: int) -> tuple[Any, ...]:
    due = case.due_at.isoformat() if case.due_at is not None else ""
    return (case.version, case.event_count, last_material, due, case.due_provisional, case.visits)


def _key(case: Case, state: tuple[Any, ...], full: bool) -> str:
    parts = ":".join(str(x) for x in state)
    return (f"cases:detail:{case.pk}:{parts}:{'full' if full else 'masked'}:"
            f"{translation.get_language() or ''}:{guide_cache.generation()}")


def _render(value: Any) -> bytes:
    return _renderer.render(None, value, response_status=200).encode()  # type: ignore[arg-type]


def rendered_response(value: Any, *, status: int = 200) -> HttpResponse:
    """``value`` (a schema's ``model_dump()``) as Ninja answers it."""
    return HttpResponse(_render(value), status=status, content_type=_CONTENT_TYPE)


def _kept(request: HttpRequest, case: Case, state: tuple[Any, ...], full: bool
          ) -> tuple[list[bytes], list[tuple[int, str]]] | None:
    """(the kept part split around the per-request parts, the extensions' ids and states),
    rendered from a full read of the case; None when that read is of another state than
    ``state`` (the case changed in between: answered, not kept)."""
    found = selectors.case_detail(case.pk)
    materials = [m.pk for m in found.materials.all()]
    events = list(found.events.all())
    if state_of(found, max(materials, default=0)) != state or len(events) != found.event_count:
        return None
    form_data = found.form_data if full else selectors.mask_form_data(
        found.form_data, case_form_fields(found.form_data))
    data = case_out(found, full_identifiers=full, form_data=form_data, task_states={},
                    deadline_state=_MARKS["deadline_state"]).model_dump()
    data["tasks"] = _MARKS["tasks"]
    data["available_actions"] = _MARKS["available_actions"]
    content = _render(data)
    pieces: list[bytes] = []
    for name in _PARTS:
        mark = _render(_MARKS[name])
        if content.count(mark) != 1:
            return None
        before, content = content.split(mark)
        pieces.append(before)
    pieces.append(content)
    extensions = [(x.pk, x.state) for x in found.extensions.all()]
    return pieces, extensions


# The few lists of actions there are, rendered once each (an action carries its label, in the
# language of the request that computed it).
_rendered_actions: dict[tuple[Action, ...], bytes] = {}


def _actions(actions: tuple[Action, ...]) -> bytes:
    content = _rendered_actions.get(actions)
    if content is None:
        if len(_rendered_actions) >= LIMIT:
            _rendered_actions.clear()
        content = _rendered_actions[actions] = _render(
            [CaseActionOut(code=a.code, label=a.label, task_id=a.task_id, ops=list(a.ops))
             .model_dump() for a in actions])
    return content


def case_detail_response(request: HttpRequest, user: Actor, case: Case) -> HttpResponse | None:
    """The detail of ``case`` (read by ``selectors.case_head``, visible to ``user``) as
    ``GET /api/v1/cases/{id}`` answers it: the same bytes Ninja renders from
    ``schemas.case_out``. None when the case changed while its detail was being rendered (the
    caller answers from a fresh full read)."""
    full = policies.can_see_identifiers(user, case)
    state = state_of(case, selectors.last_material_id(case))
    key = _key(case, state, full)
    kept = kept_details.get(key)
    if kept is None:
        kept = _kept(request, case, state, full)
        if kept is None:
            return None
        kept_details.put(key, kept)
    pieces, extensions = kept
    now = timezone.now()
    tasks = selectors.case_tasks(case)
    # What ``available_actions`` reads of the case's steps and extensions, without a query.
    case._prefetched_objects_cache = {  # type: ignore[attr-defined]
        "tasks": tasks,
        "extensions": [Extension(pk=pk, case_id=case.pk, state=s) for pk, s in extensions]}
    definition = None
    if tasks:
        from tongban.cases.workflows.services import definition_of

        definition = definition_of(case)
    # The calendar's version checked once for the case and its steps, and only when a clock runs.
    running = bool(tasks) or case.due_at is not None
    with clock.calendar_scope() if running else contextlib.nullcontext():
        deadline = selectors.case_deadline_state(case, now=now)
        steps = [TaskOut.build(t, case, definition=definition,
                               deadline_state=selectors.task_deadline_state(t, now=now,
                                                                            hall_id=case.hall_id))
                 .model_dump() for t in tasks]
    body = b"".join((pieces[0], _render(deadline), pieces[1], _render(steps), pieces[2],
                     _actions(available_actions(user, case).items), pieces[3]))
    return HttpResponse(body, content_type=_CONTENT_TYPE)

