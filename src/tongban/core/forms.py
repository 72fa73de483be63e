"""Form pieces every page shares: showing a service's :class:`RuleViolation` on a Django form
(admin or page), and date fields bounded to the working-day calendar."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from .errors import Problem, RuleViolation
from .schemas import calendar_range_message, outside_calendar


def within_calendar(value: dt.date | dt.datetime | None) -> None:
    """Refuse a day outside 1901–2099, the calendar's range (as the API's ``BoundedDate`` does).

    Beyond it an instant cannot even be converted between time zones (year 1 in Beijing is
    before year 1 in UTC), and no case, figure or record lies there.
    """
    if value is not None and outside_calendar(value):
        raise ValidationError(calendar_range_message(), code="date_out_of_range")


class CalendarDateField(forms.DateField):
    """A date within the calendar's range."""

    default_validators = [within_calendar]


class CalendarDateTimeField(forms.DateTimeField):
    """An instant within the calendar's range, checked before it is converted to UTC."""

    default_validators = [within_calendar]

    def to_python(self, value: Any) -> dt.datetime | None:
        # The site's zone is applied while parsing; a day outside the range must be refused
        # before that conversion overflows.
        try:
            return super().to_python(value)
        except OverflowError as exc:
            raise ValidationError(calendar_range_message(), code="date_out_of_range") from exc


def add_problems(form: forms.BaseForm, problems: list[Problem] | RuleViolation,
                 field_map: dict[str, str] | None = None) -> None:
    """Attach each problem to its form field, or to the whole form when no field matches.

    ``field_map`` renames service field names to form field names where they differ.
    """
    if isinstance(problems, RuleViolation):
        problems = problems.problems
    for problem in problems:
        name = (field_map or {}).get(problem.field, problem.field)
        form.add_error(name if name in form.fields else None, str(problem.message))
