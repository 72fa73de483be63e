"""Background work of the e-licence library."""

from __future__ import annotations

from django_tasks import task

from tongban.accounts.permissions import SYSTEM


@task()
def expire_licences() -> int:
    """Daily: mark licences past their validity expired and tell their holders (idempotent)."""
    from .services import licences_expire

    return len(licences_expire(actor=SYSTEM))
