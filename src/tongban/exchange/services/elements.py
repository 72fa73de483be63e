"""Writes of the element dictionary (数据元): propose, edit, publish, retire.

Who does what (``policies``):

- The data bureau (``can_manage_elements``) creates and edits drafts of any department,
  publishes and retires elements, and edits published elements.
- A department's data officer may *propose* an element: a draft whose submitting department is
  theirs, which they may edit while it is a draft; only the bureau publishes it.

The rule for a published element: its identifier and meaning are stable, so an edit by the
bureau does not send it back to draft (forms and resources bound to it would lose their
binding). The edit is saved at once as the next ``version`` — still published, approved today —
and audited with every changed field before and after. An edit that changes nothing changes
nothing. A retired element is never edited again.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.accounts import permissions
from tongban.audit.services import audit_record
from tongban.core.errors import AccessDenied, Problem, RuleViolation

from .. import policies
from ..elements import ElementData, element_check
from ..models import CodeList, DataElement, ElementStatus, ResourceField, ResourceStatus

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The columns of an element file (``data/demo-elements.csv``; the resource workbook's 数据元
# sheet has the same ones, in Chinese).
CSV_COLUMNS = ("identifier", "name", "name_en", "definition", "object_class", "property_term",
               "representation", "data_type", "format", "max_length", "domain_kind", "pattern",
               "code_list", "checker", "unit", "synonyms", "personal")
# The fields an edit may change (everything of ElementData but the identifier).
EDITABLE = tuple(f.name for f in fields(ElementData) if f.name != "identifier")


def today() -> dt.date:
    return timezone.now().astimezone(SHANGHAI).date()


def data_of(element: DataElement) -> ElementData:
    """An element's definition as :class:`ElementData` (what an edit form starts from)."""
    return ElementData(
        identifier=element.identifier, name=element.name, definition=element.definition,
        data_type=element.data_type, name_en=element.name_en, object_class=element.object_class,
        property_term=element.property_term, representation=element.representation,
        format=element.format, max_length=element.max_length, domain_kind=element.domain_kind,
        pattern=element.pattern, code_list=element.code_list.code if element.code_list else "",
        checker=element.checker, unit=element.unit, synonyms=list(element.synonyms or []),
        personal=element.personal)


def _comparable(data: ElementData) -> dict[str, Any]:
    values = asdict(data)
    values["synonyms"] = list(values["synonyms"] or [])
    return {key: values[key] for key in EDITABLE}


def _normalised(data: ElementData) -> ElementData:
    """What is stored of a definition: the pattern, code list and checker only for their
    domain kind, synonyms stripped."""
    return replace(
        data, pattern=data.pattern if data.domain_kind == "pattern" else "",
        code_list=data.code_list if data.domain_kind == "code_list" else "",
        checker=data.checker if data.domain_kind == "checked" else "",
        synonyms=[s.strip() for s in (data.synonyms or []) if s.strip()])


def _apply(element: DataElement, data: ElementData) -> None:
    data = _normalised(data)
    for key in EDITABLE:
        if key != "code_list":
            setattr(element, key, getattr(data, key))
    element.code_list = (CodeList.objects.get(code=data.code_list) if data.code_list else None)


def _proposer(actor: Actor) -> bool:
    return policies.is_data_officer(actor) and not policies.can_manage_elements(actor)


@transaction.atomic
def element_save(*, actor: Actor, data: ElementData) -> DataElement:
    """Create a draft, edit a draft, or edit a published element (the next version, see the
    module's rule). Checked by ``element_check``; audited."""
    bureau = policies.can_manage_elements(actor)
    if not bureau and not _proposer(actor):
        raise AccessDenied(_("只有数据管理部门和各部门的数据管理员可以编辑数据元"))
    problems = element_check(data)
    if problems:
        raise RuleViolation(problems)
    element = DataElement.objects.select_for_update().filter(identifier=data.identifier).first()
    account = permissions.account_of(actor)
    if element is None:
        element = DataElement(identifier=data.identifier, status=ElementStatus.DRAFT,
                              submitter=account,
                              submitting_department_id=getattr(account, "department_id", None))
        _apply(element, data)
        element.save()
        audit_record(actor=actor, action="data_element.created", object_type="data_element",
                     object_id=element.identifier, detail={"name": element.name,
                                                           "status": element.status})
        return element
    if element.status == ElementStatus.RETIRED:
        raise RuleViolation([Problem("identifier", _(
            "数据元%(id)s已废止，不能再修改；如需使用请新建数据元") % {"id": element.identifier})])
    if not bureau and (element.status != ElementStatus.DRAFT
                       or element.submitting_department_id != getattr(actor, "department_id", None)):
        raise AccessDenied(_("数据管理员只能修改本部门提出的、尚未发布的数据元"))
    before = _comparable(data_of(element))
    after = _comparable(_normalised(data))
    changed = {key: {"before": before[key], "after": after[key]}
               for key in EDITABLE if before[key] != after[key]}
    if not changed:
        return element
    _apply(element, data)
    if element.status == ElementStatus.PUBLISHED:
        element.version += 1
        element.approved_on = today()
    element.save()
    audit_record(actor=actor, action="data_element.edited", object_type="data_element",
                 object_id=element.identifier,
                 detail={"version": element.version, "status": element.status,
                         "changes": changed})
    return element


def _element_for_update(identifier: str) -> DataElement:
    element = DataElement.objects.select_for_update().filter(identifier=identifier).first()
    if element is None:
        raise RuleViolation([Problem("identifier", _("没有内部标识符为“%(id)s”的数据元") % {
            "id": identifier})])
    return element


@transaction.atomic
def element_publish(*, actor: Actor, identifier: str) -> DataElement:
    """Publish a draft: approved today (Asia/Shanghai); its submitter stays on record."""
    if not policies.can_manage_elements(actor):
        raise AccessDenied(_("只有数据管理部门可以发布数据元"))
    element = _element_for_update(identifier)
    if element.status != ElementStatus.DRAFT:
        raise RuleViolation([Problem("status", _("数据元%(id)s%(status)s，只有草稿可以发布") % {
            "id": identifier, "status": ElementStatus(element.status).label})])
    problems = element_check(data_of(element))
    if problems:
        raise RuleViolation(problems)
    element.status = ElementStatus.PUBLISHED
    element.approved_on = today()
    element.save(update_fields=["status", "approved_on", "updated_at"])
    audit_record(actor=actor, action="data_element.published", object_type="data_element",
                 object_id=identifier, detail={"version": element.version,
                                               "approved_on": element.approved_on.isoformat()})
    return element


def element_uses(identifier: str) -> list[str]:
    """What still binds the element: published resource versions' data items and active item
    forms' fields, each described for a message."""
    from tongban.catalog.models import FormDefinition

    uses = [
        f"{code} {name}（{field}）" for code, name, field in ResourceField.objects.filter(
            element__identifier=identifier, version__status=ResourceStatus.PUBLISHED,
        ).values_list("version__resource__code", "version__name", "name").order_by(
            "version__resource__code", "position")]
    # Scanned in Python: JSON containment is not portable between the databases.
    for name, specs in FormDefinition.objects.filter(is_active=True).values_list(
            "item__implementation_code", "fields").order_by("item__implementation_code"):
        uses.extend(f"事项{name}的申请表（{spec.get('label', '')}）" for spec in specs or []
                    if isinstance(spec, dict) and spec.get("data_element") == identifier)
    return uses


@transaction.atomic
def element_retire(*, actor: Actor, identifier: str, reason: str) -> DataElement:
    """Retire an element (a draft or a published one), with a reason; refused while anything in
    use still binds it."""
    if not policies.can_manage_elements(actor):
        raise AccessDenied(_("只有数据管理部门可以废止数据元"))
    element = _element_for_update(identifier)
    problems: list[Problem] = []
    if element.status == ElementStatus.RETIRED:
        problems.append(Problem("status", _("数据元%(id)s已废止") % {"id": identifier}))
    if not (reason or "").strip():
        problems.append(Problem("reason", _("须填写废止理由")))
    elif len(reason) > 500:
        problems.append(Problem("reason", _("废止理由不能超过500个字")))
    if problems:
        raise RuleViolation(problems)
    uses = element_uses(identifier)
    if uses:
        shown = "、".join(uses[:5]) + ("等" if len(uses) > 5 else "")
        raise RuleViolation([Problem("identifier", _(
            "数据元%(id)s仍被使用，不能废止：%(uses)s。请先解除这些绑定") % {
                "id": identifier, "uses": shown})])
    element.status = ElementStatus.RETIRED
    element.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="data_element.retired", object_type="data_element",
                 object_id=identifier, detail={"reason": reason.strip(),
                                               "version": element.version})
    return element


# --- element files --------------------------------------------------------------------------------

def data_from_row(row: dict[str, str]) -> ElementData:
    """One row of an element file (:data:`CSV_COLUMNS`) as :class:`ElementData`."""
    def cell(key: str) -> str:
        return (row.get(key) or "").strip()

    length = cell("max_length")
    return ElementData(
        identifier=cell("identifier"), name=cell("name"), definition=cell("definition"),
        data_type=cell("data_type"), name_en=cell("name_en"), object_class=cell("object_class"),
        property_term=cell("property_term"), representation=cell("representation"),
        format=cell("format"), max_length=int(length) if length.isdigit() else None,
        domain_kind=cell("domain_kind") or "free", pattern=cell("pattern"),
        code_list=cell("code_list"), checker=cell("checker"), unit=cell("unit"),
        synonyms=[s.strip() for s in cell("synonyms").split(";") if s.strip()],
        personal=cell("personal") in ("是", "true", "1", "yes"))


def elements_csv(elements: Iterable[DataElement]) -> str:
    """Elements as an element file (:data:`CSV_COLUMNS`), the layout ``elements_from_csv`` reads."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for element in elements:
        values = asdict(data_of(element))
        values["max_length"] = values["max_length"] or ""
        values["synonyms"] = ";".join(values["synonyms"] or [])
        values["personal"] = "是" if values["personal"] else "否"
        writer.writerow([values[column] for column in CSV_COLUMNS])
    return out.getvalue()


def elements_from_csv(path: Path) -> list[ElementData]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [data_from_row(row) for row in csv.DictReader(handle)]


@transaction.atomic
def elements_load(*, actor: Actor, elements: list[ElementData]) -> int:
    """Save and publish a whole dictionary (the demo's): all or nothing, each row's problems
    named by its identifier. Returns how many elements were created or changed."""
    problems: list[Problem] = []
    for row, data in enumerate(elements, start=2):
        problems.extend(Problem(f"{data.identifier or row}.{p.field}", p.message)
                        for p in element_check(data))
    if problems:
        raise RuleViolation(problems)
    changed = 0
    for data in elements:
        element = DataElement.objects.filter(identifier=data.identifier).first()
        stamp = (element.version, element.updated_at) if element else None
        element = element_save(actor=actor, data=data)
        if element.status == ElementStatus.DRAFT:
            element_publish(actor=actor, identifier=data.identifier)
        if stamp != (element.version, element.updated_at):
            changed += 1
    return changed
