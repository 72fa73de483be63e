"""Choice fields compared by name in templates, so that no template compares their strings."""

from __future__ import annotations

from django.db import models


class ChoiceIs:
    """``case.status_is.refused``, ``user.role_is.admin``: the stored value compared with the
    member of its choices enum of that name. A name that is no member raises ``LookupError``,
    which the template engine does not turn into a silent false (except inside ``and``/``or``,
    whose operands it evaluates leniently)."""

    def __init__(self, value: object, choices: type[models.TextChoices]) -> None:
        self.value, self.choices = value, choices

    def __getitem__(self, name: str) -> bool:
        try:
            member = self.choices[name.upper()]
        except KeyError:
            raise LookupError(f"{self.choices.__name__} has no member named {name!r}") from None
        return bool(self.value == member)
