"""Reads of the automatic decisions: a case's record, and the figures per item."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from tongban.cases.models import Case, CaseEvent, Status

from .models import AutoDecision, Outcome, RuleSet, RuleSetStatus


def decision_of(case: Case) -> AutoDecision | None:
    return AutoDecision.objects.select_related("rule_set", "case").filter(case=case).first()


@dataclass
class ItemFigures:
    item_id: int
    implementation_code: str
    name: str
    submitted: int  # cases submitted of the item (any channel)
    automatic: int  # decided automatically
    referred: int  # evaluated, sent to a human
    share_automatic: float | None  # automatic / submitted
    median_seconds_to_decision: float | None  # submission → automatic decision
    reviews: int  # human reviews asked for
    reversals: int  # reviews after which a human denied

    @property
    def share_percent(self) -> str:
        return f"{self.share_automatic * 100:.1f}" if self.share_automatic is not None else ""

    @property
    def median_seconds(self) -> str:
        seconds = self.median_seconds_to_decision
        return f"{seconds:.1f}" if seconds is not None else ""


def figures() -> list[ItemFigures]:
    """Per item with a published or earlier rule set: the share decided automatically, the
    median time from submission to the automatic decision, human reviews and reversals (a
    review followed by a human denial)."""
    items = {r["item_id"]: r for r in RuleSet.objects.values(
        "item_id", "item__implementation_code", "item__current__name").annotate(n=Count("pk"))}
    published = dict(RuleSet.objects.filter(status=RuleSetStatus.PUBLISHED)
                     .values_list("item_id", "name"))
    submitted = dict(Case.objects.filter(item_id__in=items, submitted_at__isnull=False)
                     .values("item_id").annotate(n=Count("pk")).values_list("item_id", "n"))
    records = list(AutoDecision.objects.filter(rule_set__item_id__in=items).values(
        "rule_set__item_id", "outcome", "submitted_at", "decided_at", "review_requested_at",
        "case_id"))
    reviewed = [r["case_id"] for r in records if r["review_requested_at"] is not None]
    # A human denial after the review (the automatic path never denies).
    denied_after = set(CaseEvent.objects.filter(case_id__in=reviewed, to_status=Status.DENIED)
                       .values_list("case_id", flat=True))
    out = []
    for item_id, row in items.items():
        mine = [r for r in records if r["rule_set__item_id"] == item_id]
        auto = [r for r in mine if r["outcome"] == Outcome.APPROVED and r["decided_at"]]
        seconds = [(r["decided_at"] - r["submitted_at"]).total_seconds() for r in auto
                   if r["decided_at"] is not None]
        total = submitted.get(item_id, 0)
        reviews = [r for r in mine if r["review_requested_at"] is not None]
        out.append(ItemFigures(
            item_id=item_id, implementation_code=row["item__implementation_code"],
            name=row["item__current__name"] or published.get(item_id, ""), submitted=total,
            automatic=len(auto),
            referred=len(mine) - len(auto), share_automatic=len(auto) / total if total else None,
            median_seconds_to_decision=statistics.median(seconds) if seconds else None,
            reviews=len(reviews), reversals=sum(r["case_id"] in denied_after for r in reviews)))
    return sorted(out, key=lambda f: f.implementation_code)


# --- the pages --------------------------------------------------------------------------------

def rule_sets() -> list[RuleSet]:
    """Every rule set, newest version of each item first (the bureau's list)."""
    return list(RuleSet.objects.select_related("item", "item_version", "published_by")
                .order_by("item__implementation_code", "-version")[:500])


def _masker(element: Any) -> Callable[[Any], Any]:
    from tongban.exchange.services.exchange_calls import mask_value

    return lambda value: mask_value(element, value)


def _mask_generic(value: Any) -> Any:
    from tongban.accounts.masking import mask_name

    text = str(value)
    return mask_name(text) if len(text) > 1 else "*"


APPLICANT_LABELS = {"kind": _l("申请人类型"), "id_number": _l("证件号码"), "name": _l("姓名"),
                    "birth_date": _l("出生日期"), "age": _l("年龄（周岁）"), "sex": _l("性别"),
                    "division": _l("身份证号码所载行政区划")}
SEXES = {"male": _l("男"), "female": _l("女")}


def _shown(value: Any) -> Any:
    """A value as a page shows it: yes/no for booleans, a dash for nothing."""
    if isinstance(value, bool):
        return _("是") if value else _("否")
    return "—" if value in (None, "") else value


@dataclass
class InputRow:
    part: str  # where it came from: the applicant, the form, a resource of the exchange
    label: str  # the item in words
    path: str  # its name in the rules (``form.contact_phone``)
    value: Any  # shown, masked where personal


def inputs_rows(record: AutoDecision) -> list[InputRow]:
    """What the rules read, row by row for a page, personal values masked: the applicant's
    identifiers, name and birth date, form fields that hold identifiers, phones, addresses or
    values of a personal data element, and exchange items of a personal data element."""
    from tongban.accounts.masking import mask_id_number, mask_name
    from tongban.cases.forms import case_form_fields
    from tongban.cases.models import ApplicantKind
    from tongban.cases.selectors import mask_form_data
    from tongban.exchange.models import DataElement, ResourceField

    inputs = record.inputs or {}
    rows: list[InputRow] = []
    applicant = dict(inputs.get("applicant") or {})
    if applicant.get("id_number"):
        applicant["id_number"] = mask_id_number(str(applicant["id_number"]))
    if applicant.get("name"):
        applicant["name"] = mask_name(str(applicant["name"]))
    if applicant.get("birth_date"):
        applicant["birth_date"] = str(applicant["birth_date"])[:4] + "-**-**"
    kinds = dict(ApplicantKind.choices)
    for key, value in applicant.items():
        shown = kinds.get(value, value) if key == "kind" else SEXES.get(value, value) \
            if key == "sex" else value
        rows.append(InputRow(str(_("申请人")), str(APPLICANT_LABELS.get(key, key)),
                             f"applicant.{key}", _shown(shown)))
    given = dict(inputs.get("form") or {})
    fields = case_form_fields(record.case.form_data or {})
    form = mask_form_data(given, fields)  # identifiers, phones and addresses by field type
    personal = set(DataElement.objects.filter(
        identifier__in=[f.get("data_element") for f in fields if f.get("data_element")],
        personal=True).values_list("identifier", flat=True))
    labels = {f.get("name"): f.get("label") or f.get("name") for f in fields}
    for f in fields:  # other values of a personal data element (a name): the first character
        name = str(f.get("name") or "")
        if f.get("data_element") in personal and form.get(name) not in (None, "") \
                and form.get(name) == given.get(name):
            form[name] = _mask_generic(form[name])
    rows += [InputRow(str(_("申请表")), str(labels.get(key, key)), f"form.{key}", _shown(value))
             for key, value in form.items()]
    needs = {n["name"]: n for n in record.rule_set.exchange}
    items = {(f.version.resource.code, f.key): f for f in ResourceField.objects.filter(
        version__resource__code__in=[n["resource"] for n in needs.values()],
        version__resource__current=models.F("version")).select_related(
        "element", "version__resource")}
    for name, values in (inputs.get("exchange") or {}).items():
        resource = needs.get(name, {}).get("resource", "")
        for key, value in (values or {}).items():
            item = items.get((resource, key))
            if item is not None and item.element.personal and value not in (None, ""):
                value = _masker(item.element)(value)
            label = _("查得记录") if key == "found" else item.name if item is not None else key
            rows.append(InputRow(f"{_('共享数据')} {resource}", str(label),
                                 f"exchange.{name}.{key}", _shown(value)))
    for name, values in (inputs.get("licences") or {}).items():
        rows += [InputRow(str(_("电子证照")), str(key), f"licences.{name}.{key}", _shown(value))
                 for key, value in (values or {}).items()]
    if inputs.get("today"):
        rows.append(InputRow(str(_("评估日期")), str(_("当日")), "today", inputs["today"]))
    return rows
