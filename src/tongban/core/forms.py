"""Showing a service's :class:`RuleViolation` on a Django form (admin or page)."""

from __future__ import annotations

from django import forms

from .errors import Problem, RuleViolation


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
