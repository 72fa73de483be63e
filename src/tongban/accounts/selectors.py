"""Reads of accounts."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import STAFF_ROLES, User


def staff_list() -> QuerySet[User]:
    """Staff accounts with their department or hall, by role then username."""
    return (User.objects.filter(role__in=[r.value for r in STAFF_ROLES])
            .select_related("department", "hall").order_by("role", "username"))
