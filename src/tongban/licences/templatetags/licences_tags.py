"""``{% case_licences case as issued %}``: the e-licences a delivered case issued, for the case
pages of cases (a floor above: it loads this tag, the library imports nothing of cases)."""

from __future__ import annotations

from typing import Any

from django import template

from tongban.licences.models import Licence
from tongban.licences.selectors import licences_of_case

register = template.Library()


@register.simple_tag
def case_licences(case: Any) -> list[Licence]:
    if getattr(case, "pk", None) is None or not getattr(case, "delivered_at", None):
        return []
    return licences_of_case(case.pk)
