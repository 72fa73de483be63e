"""A case whose result is a licence issues its e-licence when the result is delivered.

An item says its result is a licence with its guide's 审批结果类型 = 证照 and names it with
审批结果名称; the licence type of that name (or alias) in the e-licence library is issued
(``licences.services.licence_type_for_result``). A licence result no type names — one the
library does not hold yet — issues nothing. The licence is issued by the case's department, to
the holder the type asks for, with its surface values taken from the application form, inside
the delivery's transaction: a fault refuses the delivery and nothing is written.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from tongban.catalog.models import ResultType
from tongban.licences import services as licences
from tongban.licences.models import HolderKind, Licence, LicenceType

from ..models import ApplicantKind, Case

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

# Form fields that name the organisation a legal-person licence is issued to.
ORGANISATION_NAME_KEYS = ("business_name", "company_name", "organisation_name")


def _holder(case: Case, licence_type: LicenceType, form: dict[str, Any]) -> licences.Holder:
    applicant = licences.Holder(
        HolderKind.NATURAL_PERSON if case.applicant_kind == ApplicantKind.NATURAL
        else HolderKind.LEGAL_PERSON, case.applicant_name, case.applicant_id_number)
    if licence_type.holder_kind == HolderKind.LEGAL_PERSON and form.get("uscc"):
        name = next((str(form[k]) for k in ORGANISATION_NAME_KEYS if form.get(k)),
                    case.applicant_name)
        return licences.Holder(HolderKind.LEGAL_PERSON, name, str(form["uscc"]))
    if licence_type.holder_kind == HolderKind.LEGAL_PERSON and applicant.kind != licence_type.holder_kind:
        # A company not registered yet (企业设立登记) has no USCC to hold it under: the
        # applicant holds it (the library records the holder's kind with the licence).
        return licences.Holder(HolderKind.NATURAL_PERSON, applicant.name, applicant.id)
    return applicant


def issue_result_licence(case: Case, *, actor: Actor, at: dt.datetime) -> Licence | None:
    """Issue the licence an approved case's result names (inside the delivery's transaction)."""
    version = case.item_version
    if version.result_type != ResultType.LICENCE:
        return None
    licence_type = licences.licence_type_for_result(case.result_name or version.result_name)
    if licence_type is None:
        return None
    form = dict(case.form_data or {})
    holder = _holder(case, licence_type, form)
    # An organisation's name fields default to the holder's name (forms name it differently).
    surface = {**{key: holder.name for key in ORGANISATION_NAME_KEYS}, **form,
               "holder_name": holder.name, "holder_id": holder.id,
               "issuer_name": case.department.name, "case_number": case.number or "",
               "item_name": version.name}
    return licences.licence_issue(actor=actor, licence_type=licence_type, issuer=case.department,
                                  holder=holder, surface=surface, case_id=case.pk,
                                  case_number=case.number or "", at=at)

