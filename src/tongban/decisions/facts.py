"""What a rule set reads about a case, gathered before evaluation: the input document of the
engine (docs/decisions.md) and the problems met while gathering it.

- ``form``: the case's form data (fields as filled, by field name);
- ``applicant``: kind, and for a person the age and sex read from the ID number and the
  division code of its first six digits;
- ``exchange``: per need of the rule set (``{"name", "resource", "items", "subject"}``),
  ``{"found": bool, <item>: value, …}`` read through the exchange for the case's department
  (``exchange.services.platform_reads``: recorded as a data use the applicant sees);
- ``licences``: per need (``{"name", "type", "subject"}``), the facts a registered licence
  provider gives — the extension point for the e-licence library (``licence_providers``);
- ``today``: the date in Beijing time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.cases.forms import FORM_KEY
from tongban.cases.models import ApplicantKind, Case
from tongban.exchange.services.platform_reads import platform_read

from .models import RuleSet

# The extension point for licence facts (电子证照): an e-licence app registers a callable in its
# ``AppConfig.ready``; given the case, the need ({"name", "type", "subject"}) and the subject's
# identifier, it returns the licence's facts (``{"found": True, "valid_until": …, …}``) or None.
# With none registered, every licence need reads as ``{"found": False, "available": False}``
# and is named as a finding, so the case goes to a human.
LicenceProvider = Callable[[Case, dict[str, Any], str], dict[str, Any] | None]
licence_providers: list[LicenceProvider] = []


def _applicant(case: Case, today: dt.date) -> dict[str, Any]:
    facts: dict[str, Any] = {"kind": case.applicant_kind, "id_number": case.applicant_id_number,
                             "name": case.applicant_name}
    number = case.applicant_id_number or ""
    if case.applicant_kind == ApplicantKind.NATURAL and len(number) == 18:
        try:
            born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        except ValueError:
            return facts
        facts["birth_date"] = born.isoformat()
        facts["age"] = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        facts["sex"] = "male" if int(number[16]) % 2 else "female"
        facts["division"] = number[:6]
    return facts


def _subject(path: str, form: dict[str, Any], applicant: dict[str, Any]) -> str:
    source, _dot, key = path.partition(".")
    value = (form if source == "form" else applicant).get(key)
    return str(value) if value not in (None, "") else ""


def gather(case: Case, rule_set: RuleSet, *, actor: Any) -> tuple[dict[str, Any], list[str]]:
    """The input document for ``rule_set`` on ``case``, and the problems met gathering it."""
    today = timezone.localdate()
    form = {k: v for k, v in (case.form_data or {}).items() if k != FORM_KEY}
    applicant = _applicant(case, today)
    problems: list[str] = []
    exchange: dict[str, Any] = {}
    for need in rule_set.exchange:
        subject = _subject(need["subject"], form, applicant)
        if not subject:
            exchange[need["name"]] = {"found": False}
            problems.append(_("查询%(r)s所需的主体标识（%(s)s）为空") % {
                "r": need["resource"], "s": need["subject"]})
            continue
        read = platform_read(actor=actor, department_id=case.department_id,
                             resource_code=need["resource"], subject=subject,
                             items=need.get("items") or [], case_number=case.number or "")
        exchange[need["name"]] = {"found": read.found, **read.values}
        if read.problem:
            problems.append(read.problem)
        elif not read.found:
            problems.append(_("%(source)s未查得%(r)s的记录") % {"source": read.source,
                                                            "r": need["resource"]})
    licences: dict[str, Any] = {}
    for need in rule_set.licences:
        subject = _subject(need["subject"], form, applicant)
        facts = None
        for provider in licence_providers:
            facts = provider(case, need, subject)
            if facts is not None:
                break
        if facts is None:
            licences[need["name"]] = {"found": False, "available": bool(licence_providers)}
            problems.append(_("未能从电子证照库取得%(t)s") % {"t": need["type"]})
        else:
            licences[need["name"]] = {"found": True, **facts}
    document = {"form": form, "applicant": applicant, "exchange": exchange,
                "licences": licences, "today": today.isoformat()}
    return document, problems
