"""Case services: every write to a case, with its permission check, history event, audit record
and deadline, in one transaction. Pages, the API, commands and tasks all call these.

``from tongban.cases import services`` and ``services.case_xxx(...)`` reach every public use
case; they live by use case:

- ``transitions``: the state machine (``TRANSITIONS``, ``FINAL``, ``ACTION_LABELS``), the lock
  and version check (``CaseConflict``), history events, notices and the due instant
  (``refresh_due``) that every use case shares.
- ``intake``: ``case_data_access_record``, ``case_create`` (``ApplicantData``, ``AgentData``),
  ``case_submit``, ``case_pre_review``, ``case_material_promise``, ``missing_materials``.
- ``supplement``: the one-time notice ``case_request_supplement`` (``SupplementItem``) and
  ``case_supply``.
- ``acceptance``: ``case_accept``, ``case_refuse`` and acceptance by law
  (``case_accept_by_law``, ``cases_accept_by_law``, ``received_at``, ``answer_due``).
- ``window``: what a clerk does at a window and a proxy agent at the desk, each in one
  transaction with its visit: ``case_window_accept``, ``case_window_supplement``,
  ``case_window_refuse``, ``case_proxy_receive``; ``at_window`` says when an answer at intake
  is given at a window (the pages and the API pick these use cases by it).
- ``handling``: ``case_step`` on the workflow's open steps, and the decision; ``case_reopen``
  (人工复核 of an automatic decision).
- ``procedures``: ``case_suspend`` (特别程序), ``case_halt`` (中止), ``case_resume``,
  ``case_request_extension``, ``case_decide_extension``.
- ``closing``: ``case_deliver``, ``case_withdraw``, ``case_terminate``.
- ``visits``: ``case_record_visit``, ``allowed_visits``.
- ``deadlines``: the periodic sweep (``cases_sweep``, ``deadlines_sweep``) and the recompute
  after a calendar change (``deadlines_recompute``), which ``cases.tasks`` merely call.
"""

from .acceptance import (
    ACCEPT_BY_LAW_WORKING_DAYS,
    answer_due,
    case_accept,
    case_accept_by_law,
    case_refuse,
    cases_accept_by_law,
    received_at,
)
from .closing import case_deliver, case_terminate, case_withdraw
from .deadlines import cases_sweep, deadlines_recompute, deadlines_sweep
from .handling import case_reopen, case_step
from .intake import (
    AgentData,
    ApplicantData,
    case_create,
    case_data_access_record,
    case_material_promise,
    case_pre_review,
    case_submit,
    missing_materials,
)
from .procedures import (
    MAX_PROCEDURE_WORKING_DAYS,
    case_decide_extension,
    case_halt,
    case_request_extension,
    case_resume,
    case_suspend,
)
from .supplement import SupplementItem, case_request_supplement, case_supply
from .transitions import ACTION_LABELS, FINAL, TRANSITIONS, CaseConflict, refresh_due
from .visits import allowed_visits, case_record_visit
from .window import (
    at_window,
    case_proxy_receive,
    case_window_accept,
    case_window_refuse,
    case_window_supplement,
)

__all__ = [
    "ACCEPT_BY_LAW_WORKING_DAYS",
    "ACTION_LABELS",
    "FINAL",
    "MAX_PROCEDURE_WORKING_DAYS",
    "TRANSITIONS",
    "AgentData",
    "ApplicantData",
    "CaseConflict",
    "SupplementItem",
    "allowed_visits",
    "answer_due",
    "at_window",
    "case_accept",
    "case_accept_by_law",
    "case_create",
    "case_data_access_record",
    "case_decide_extension",
    "case_deliver",
    "case_halt",
    "case_material_promise",
    "case_pre_review",
    "case_proxy_receive",
    "case_record_visit",
    "case_refuse",
    "case_reopen",
    "case_request_extension",
    "case_request_supplement",
    "case_resume",
    "case_step",
    "case_submit",
    "case_supply",
    "case_suspend",
    "case_terminate",
    "case_window_accept",
    "case_window_refuse",
    "case_window_supplement",
    "case_withdraw",
    "cases_accept_by_law",
    "cases_sweep",
    "deadlines_recompute",
    "deadlines_sweep",
    "missing_materials",
    "received_at",
    "refresh_due",
]
