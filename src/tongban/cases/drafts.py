"""Drafts (草稿) of online applications: what the applicant's side may do before submitting that
the case services do not cover — editing the form data — and whether an item can be applied for
online at all.

A draft is created by ``services.case_create`` (channel ``online``); its materials are added with
``materials.case_material_add``; it is submitted with ``services.case_submit``. Editing a draft is
not a transition: no history event, but the version is bumped (so a stale review page is refused)
and the change is audited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from tongban.accounts.models import Role
from tongban.audit.services import audit_record
from tongban.catalog.models import Item, ItemVersion, VersionStatus
from tongban.core.errors import AccessDenied, Problem, RuleViolation

from . import policies
from .forms import FORM_KEY, form_validate
from .models import Case, Status

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

PUBLIC_ROLES = (Role.CITIZEN, Role.ENTERPRISE)


def online_version(item: Item) -> ItemVersion | None:
    """The item's current version if it can be applied for online, else None.

    Online application needs a published version that names online handling (网上办理) and an
    online depth of at least Ⅲ (网上受理): with Ⅰ (information) or Ⅱ (booking, pre-review) the
    applicant has to go to the window.
    """
    from tongban.catalog.selectors import applies_online  # the guide uses the same rule

    version = item.current
    if version is None or version.status != VersionStatus.PUBLISHED:
        return None
    return version if applies_online(version) else None


@transaction.atomic
def case_draft_update(*, actor: Actor, case: Case, form_data: dict[str, Any],
                      expected_version: int | None = None) -> Case:
    """Replace the form data of a draft with ``form_data``, checked exactly as ``case_create``
    checks it (``forms.form_validate``). Only the applicant's side, only while a draft.

    Nothing is saved when a field is wrong (:class:`RuleViolation`, each problem naming
    ``form.<field>``); a stale ``expected_version`` is a ``CaseConflict``. Saving the same data
    again changes and records nothing.
    """
    from .services.transitions import _lock  # the lock and version check every case service uses

    case = _lock(case, expected_version)
    if not policies.is_applicant_side(actor, case):
        raise AccessDenied(_("只有申请人（或其代理人）可以修改申请表"))
    if case.status != Status.DRAFT:
        raise RuleViolation([Problem("case", _("办件已提交，不能再修改申请表（当前状态：%(status)s）") % {
            "status": Status(case.status).label})])
    clean, problems = form_validate(version=case.item_version, data=form_data)
    if problems:
        raise RuleViolation(problems)
    if clean == case.form_data:
        return case
    changed = sorted(name for name in set(clean) | set(case.form_data)
                     if name != FORM_KEY and clean.get(name) != case.form_data.get(name))
    case.form_data = clean
    case.version += 1
    case.save(update_fields=["form_data", "version"])
    audit_record(actor=actor, action="case.draft_updated", object_type="case", object_id=case.pk,
                 detail={"fields": changed, "version": case.version})
    return case
