"""``{% case_rating case as r %}``: whether the user may rate the case, or the rating given
(for the citizen's case page, which belongs to another door)."""

from __future__ import annotations

from typing import Any

from django import template

from tongban.cases.models import Case

register = template.Library()


@register.simple_tag(takes_context=True)
def case_rating(context: dict[str, Any], case: Case) -> Any:
    from tongban.ratings.selectors import case_rating_state

    request = context.get("request")
    user = getattr(request, "user", None)
    if not isinstance(case, Case) or not case.number:
        return None
    return case_rating_state(user, case)
