"""Application forms (申请表) filled in: form data checked against the item's form definition
(``tongban.catalog.form_definitions``, where the field specs and their rules live).

Form data is validated here whichever door it came through (:func:`form_validate`, called by
``case_create``); the cleaned data records the definition it was filled under as
``form_data["_form"] = {"id", "version"}`` (id ``None`` and version 0 for the default form).

The pages of every door (the portal, the comprehensive window, the proxy desk) build their
fields from the specs with one builder (:class:`ApplicationFieldsForm`, :func:`spec_field`) and
render them with one template (``cases/_form_fields.html``).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from tongban.catalog.form_definitions import (
    AMOUNT_LIMIT,
    DEFAULT_MAX_LENGTH,
    LENGTH_TYPES,
    NUMBER_LIMIT,
    active_definition,
    default_fields,
    definition_fields,
    is_number,
    item_form_fields,
)
from tongban.core.errors import Problem
from tongban.exchange import elements

# The key under which form data records its definition; never a field name.
FORM_KEY = "_form"

AMOUNT_RE = re.compile(r"\d+(\.\d+)?")
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def form_fields(version: Any) -> list[dict[str, Any]]:
    """The field specs new applications for this item version fill in (pages and the API
    render the form from them): the item's active definition, or the default form."""
    return item_form_fields(getattr(version, "item_id", None))


def case_form_fields(form_data: dict[str, Any]) -> list[dict[str, Any]]:
    """The field specs a case's form data was filled under (its pinned definition version)."""
    pinned = form_data.get(FORM_KEY) or {}
    return definition_fields(pinned.get("id") if isinstance(pinned, dict) else None)


# --- form data -----------------------------------------------------------------------------------

def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip()
    if is_number(value):
        return str(value)
    return None


def _number(spec: dict[str, Any], value: Any) -> tuple[Any, Any]:
    label = spec["label"]
    text = _text(value)
    try:
        number = Decimal(text) if text is not None else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        return None, _("“%(label)s”应为数字") % {"label": label}
    error = _range(spec, number)
    if error is not None:
        return None, error
    return (int(number) if number == number.to_integral_value() else float(number)), None


def _amount(spec: dict[str, Any], value: Any) -> tuple[Any, Any]:
    label = spec["label"]
    text = repr(value) if isinstance(value, float) else _text(value)
    if text is not None and text.startswith("-") and AMOUNT_RE.fullmatch(text[1:]):
        return None, _("“%(label)s”不能为负数") % {"label": label}
    if text is None or not AMOUNT_RE.fullmatch(text):
        return None, _("“%(label)s”应为金额（元），如1234.50") % {"label": label}
    amount = Decimal(text)
    # (An amount beyond the range cannot even be rounded to cents: the range says what is wrong.)
    if amount <= AMOUNT_LIMIT and amount != amount.quantize(Decimal("0.01")):
        return None, _("“%(label)s”最多保留两位小数（精确到分）") % {"label": label}
    error = _range(spec, amount)
    if error is not None:
        return None, error
    return f"{amount:.2f}", None


def _range(spec: dict[str, Any], number: Decimal) -> Any:
    label = spec["label"]
    limit = AMOUNT_LIMIT if spec["type"] == "amount" else NUMBER_LIMIT
    low = spec.get("min", -limit)
    high = spec.get("max", limit)
    if number < Decimal(str(low)):
        return _("“%(label)s”不能小于%(min)s") % {"label": label, "min": low}
    if number > Decimal(str(high)):
        return _("“%(label)s”不能大于%(max)s") % {"label": label, "max": high}
    return None


def _date(spec: dict[str, Any], value: Any) -> tuple[Any, Any]:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat(), None
    text = _text(value) if isinstance(value, str) else None
    if text is not None and DATE_RE.fullmatch(text):
        try:
            return dt.date.fromisoformat(text).isoformat(), None
        except ValueError:
            pass
    return None, _("“%(label)s”应为有效日期，格式为YYYY-MM-DD（如2026-03-01）") % {"label": spec["label"]}


def _clean_value(spec: dict[str, Any], value: Any) -> tuple[Any, Any]:
    """(cleaned value, None) or (None, message) for one non-empty value."""

    kind, label = spec["type"], spec["label"]
    if kind == "number":
        return _number(spec, value)
    if kind == "amount":
        return _amount(spec, value)
    if kind == "date":
        return _date(spec, value)
    text = _text(value)
    if text is None:
        return None, _("“%(label)s”应为文字") % {"label": label}
    if kind in LENGTH_TYPES:
        limit = spec.get("max_length") or DEFAULT_MAX_LENGTH[kind]
        if len(text) > limit:
            return None, _("“%(label)s”不能超过%(n)s个字（现有%(have)s个）") % {
                "label": label, "n": limit, "have": len(text)}
        return text, None
    if kind == "choice":
        if text not in spec["options"]:
            return None, _("“%(label)s”须为以下之一：%(options)s") % {
                "label": label, "options": pgettext("list separator", "、").join(spec["options"])}
        return text, None
    if kind in ("phone", "id_number", "uscc"):
        # The field types that are identifiers are checked as data elements check them.
        return elements.check_identifier(kind, text, label)
    raise AssertionError(f"unchecked field type {kind}")  # definitions are checked when saved


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def form_validate(*, version: Any, data: Any) -> tuple[dict[str, Any], list[Problem]]:
    """Check form data against the active definition of the item version's item.

    A field bound to a data element (``data_element``) is then held to the element's rule
    (``tongban.exchange.elements.clean``), its label naming it in the message.

    Returns the cleaned data — dates as ISO strings, numbers as numbers, amounts as strings with
    two decimals, identifiers compacted and upper-cased, the definition recorded under
    ``"_form"`` — and the problems, each naming its field as ``form.<name>``.
    """
    item_id = getattr(version, "item_id", None)
    definition = active_definition(item_id) if item_id is not None else None
    fields = list(definition.fields) if definition is not None else default_fields()
    clean: dict[str, Any] = {}
    problems: list[Problem] = []
    if not isinstance(data, dict):
        return clean, [Problem("form", _("申请表应为“字段名: 值”形式的对象"))]
    # The rules of the bound data elements, in one statement for the form.
    bound = elements.rules(f.get("data_element") or "" for f in fields)
    known = {f["name"] for f in fields}
    for name in data:
        # The definition marker is set here, never taken from the caller.
        if name != FORM_KEY and name not in known:
            problems.append(Problem(f"form.{name}", _("申请表中没有“%(name)s”这一项") % {"name": name}))
    for spec in fields:
        name, value = spec["name"], data.get(spec["name"])
        if _empty(value):
            if spec.get("required"):
                problems.append(Problem(f"form.{name}", _("“%(label)s”为必填项") % {"label": spec["label"]}))
            continue
        cleaned, error = _clean_value(spec, value)
        rule = bound.get(spec.get("data_element") or "")
        if error is None and rule is not None:
            # Then the element's own rule, the one every door applies to its values.
            error = elements.clean(rule, cleaned, label=spec["label"])[1]
        if error is not None:
            problems.append(Problem(f"form.{name}", error))
        else:
            clean[name] = cleaned
    clean[FORM_KEY] = ({"id": definition.pk, "version": definition.version} if definition is not None
                       else {"id": None, "version": 0})
    return clean, problems


# --- the pages' fields ---------------------------------------------------------------------------

# A text field that may hold more characters than this is a multi-line box.
TEXTAREA_ABOVE = 100


def spec_field(spec: dict[str, Any], *, own_data: bool = False) -> forms.CharField:
    """The form field of one field spec. It only collects: the value (stripped of surrounding
    whitespace) is checked by :func:`form_validate` through the case service, so that every door
    and the API give the same answer. The spec chooses the input, ``required`` (which marks the
    label), ``maxlength``, the choices and the help text; ``own_data`` is for an applicant filling
    in their own details, whose browser may offer them."""
    kind = spec["type"]
    attrs: dict[str, Any] = {"required": True} if spec.get("required") else {}
    widget: forms.Widget
    if kind == "date":
        widget = forms.DateInput(attrs={**attrs, "type": "date"})
    elif kind in ("number", "amount"):
        # Not type=number: a browser sends nothing for what it cannot parse, and the applicant
        # would read "required" instead of what is wrong with the value.
        widget = forms.TextInput(attrs={**attrs, "inputmode": "decimal"})
    elif kind == "phone":
        widget = forms.TextInput(attrs={**attrs, "type": "tel", "inputmode": "tel",
                                        "autocomplete": "tel" if own_data else "off"})
    elif kind in ("id_number", "uscc"):
        widget = forms.TextInput(attrs={**attrs, "maxlength": 18, "autocomplete": "off",
                                        "spellcheck": "false", "autocapitalize": "characters"})
    elif kind == "choice":
        choices = [("", _("——请选择——")), *[(o, o) for o in spec.get("options", [])]]
        widget = forms.Select(attrs=attrs, choices=choices)
    elif kind == "address":
        widget = forms.TextInput(attrs={
            **attrs, "maxlength": spec.get("max_length") or DEFAULT_MAX_LENGTH["address"],
            "autocomplete": "street-address" if own_data else "off"})
    else:
        limit = spec.get("max_length") or DEFAULT_MAX_LENGTH["text"]
        widget = (forms.Textarea(attrs={**attrs, "rows": 3, "maxlength": limit})
                  if limit > TEXTAREA_ABOVE else forms.TextInput(attrs={**attrs, "maxlength": limit}))
    return forms.CharField(label=str(spec["label"]), required=False,
                           help_text=str(spec.get("help_text") or ""), widget=widget)


class ApplicationFieldsForm(forms.Form):
    """A page's form holding an item's application form: one :func:`spec_field` per spec, named
    ``<spec_prefix><name>``, after the page's own fields. Render them with
    ``{% include "cases/_form_fields.html" with fields=form.spec_fields %}``; pass
    :meth:`form_data` to the service and put its problems back with
    ``core.forms.add_problems(form, error, form.problem_fields())``."""

    spec_prefix = "form_"
    own_data = False

    def __init__(self, *args: Any, specs: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.specs = specs
        for spec in specs:
            self.fields[self.spec_prefix + spec["name"]] = spec_field(spec, own_data=self.own_data)

    def spec_fields(self) -> list[forms.BoundField]:
        return [self[self.spec_prefix + spec["name"]] for spec in self.specs]

    def form_data(self) -> dict[str, Any]:
        """The collected values keyed by the spec's name, for ``form_validate`` (after
        ``is_valid()``, which these fields always pass)."""
        return {spec["name"]: self.cleaned_data.get(self.spec_prefix + spec["name"], "")
                for spec in self.specs}

    def problem_fields(self) -> dict[str, str]:
        """The service's names of these fields (``form.<name>``) and theirs here."""
        return {f"form.{spec['name']}": self.spec_prefix + spec["name"] for spec in self.specs}
