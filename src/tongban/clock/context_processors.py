import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from tongban.accounts.models import Role

from . import selectors


def calendar_warning(request: HttpRequest) -> dict[str, Any]:
    """Bureau administrators see which years still lack an official holiday schedule."""
    user = getattr(request, "user", None)
    if user is None or getattr(user, "role", None) != Role.ADMIN:
        return {}
    today: dt.date = timezone.localdate()
    return {"calendar_missing_years": selectors.years_missing_schedule(today)}
