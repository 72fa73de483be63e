"""Fees and FAQ of a draft version: the rows of a service guide beside its item data.

Written only while the version is a draft (a published version is frozen), by whoever may edit
the item's department; every save and delete is audited in the same transaction. The admin's
inlines call these (``fee_check``/``faq_check`` for their forms, ``*_save``/``*_delete``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Field
from django.utils.translation import gettext_lazy as _

from tongban.accounts import permissions
from tongban.audit.services import audit_record
from tongban.core.errors import AccessDenied, Problem, RuleViolation

from .models import Faq, Fee, ItemVersion, VersionStatus

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

S = VersionStatus


def _require(allowed: bool) -> None:
    if not allowed:
        raise AccessDenied(_("您无权执行此操作"))

def _label(model: type[Fee | Faq], name: str) -> Any:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    return field.verbose_name


def fee_check(*, name: str, amount: Decimal | None, unit: str = "", basis: str = "") -> list[Problem]:
    """The rules of a fee line (收费项目): a name, an amount not below zero, the basis in law."""
    problems: list[Problem] = []
    for field, value in (("name", name), ("basis", basis)):
        if not (value or "").strip():
            problems.append(Problem(field=field, message=_("%(label)s不能为空") % {
                "label": _label(Fee, field)}))
    label = _label(Fee, "amount")
    if amount is None:
        problems.append(Problem(field="amount", message=_("%(label)s不能为空") % {"label": label}))
    elif amount < 0:
        problems.append(Problem(field="amount", message=_("“%(label)s”不能为负数") % {
            "label": label}))
    return problems


def faq_check(*, position: int | None, question: str, answer: str) -> list[Problem]:
    """The rules of a FAQ entry (常见问题): a question and its answer."""
    problems: list[Problem] = []
    if position is not None and position < 0:
        problems.append(Problem(field="position", message=_("“%(label)s”不能为负数") % {
            "label": _label(Faq, "position")}))
    for field, value in (("question", question), ("answer", answer)):
        if not (value or "").strip():
            problems.append(Problem(field=field, message=_("%(label)s不能为空") % {
                "label": _label(Faq, field)}))
    return problems


def _draft_for_edit(actor: Actor, version: ItemVersion) -> ItemVersion:
    """The version, locked, if ``actor`` may edit it and it is still a draft."""
    version = ItemVersion.objects.select_for_update().select_related("item__department").get(
        pk=version.pk)
    _require(permissions.can_edit_item(actor, version.item.department))
    if version.status != S.DRAFT:
        raise RuleViolation([Problem(field="status", message=_(
            "只有草稿的收费项目和常见问题可以修改"))])
    return version


def _save_row(*, actor: Actor, version: ItemVersion, row: Fee | Faq | None, model: type[Fee | Faq],
              values: dict[str, Any], problems: list[Problem], noun: str) -> Any:
    if problems:
        raise RuleViolation(problems)
    version = _draft_for_edit(actor, version)
    if row is None:
        row = model.objects.create(version=version, **values)
        changed = sorted(values)
        created = True
    else:
        row = model.objects.select_for_update().get(pk=row.pk, version=version)
        changed = sorted(k for k, v in values.items() if getattr(row, k) != v)
        if not changed:
            return row  # equal to what is stored: nothing written, nothing recorded
        for k in changed:
            setattr(row, k, values[k])
        row.save(update_fields=changed)
        created = False
    audit_record(actor=actor, action=f"catalog.{noun}_saved", object_type="item",
                 object_id=version.item.implementation_code,
                 detail={"version": version.number, noun: row.pk, "created": created,
                         "fields": changed, **{k: values[k] for k in changed}})
    return row


def _delete_row(*, actor: Actor, row: Fee | Faq, noun: str) -> None:
    version = _draft_for_edit(actor, row.version)
    row = type(row).objects.select_for_update().get(pk=row.pk, version=version)
    detail = {"version": version.number, noun: row.pk, "text": str(row)}
    row.delete()
    audit_record(actor=actor, action=f"catalog.{noun}_deleted", object_type="item",
                 object_id=version.item.implementation_code, detail=detail)


@transaction.atomic
def fee_save(*, actor: Actor, version: ItemVersion, fee: Fee | None = None, name: str,
             amount: Decimal | None, unit: str = "", basis: str = "") -> Fee:
    """Add a fee line to a draft (``fee=None``) or change one of its fee lines."""
    problems = fee_check(name=name, amount=amount, unit=unit, basis=basis)
    values = {"name": name, "amount": amount, "unit": unit, "basis": basis}
    return _save_row(actor=actor, version=version, row=fee, model=Fee, values=values,
                     problems=problems, noun="fee")


@transaction.atomic
def fee_delete(*, actor: Actor, fee: Fee) -> None:
    _delete_row(actor=actor, row=fee, noun="fee")


@transaction.atomic
def faq_save(*, actor: Actor, version: ItemVersion, faq: Faq | None = None, position: int | None = 0,
             question: str, answer: str) -> Faq:
    """Add a FAQ entry to a draft (``faq=None``) or change one of its entries."""
    problems = faq_check(position=position, question=question, answer=answer)
    values = {"position": position or 0, "question": question, "answer": answer}
    return _save_row(actor=actor, version=version, row=faq, model=Faq, values=values,
                     problems=problems, noun="faq")


@transaction.atomic
def faq_delete(*, actor: Actor, faq: Faq) -> None:
    _delete_row(actor=actor, row=faq, noun="faq")
