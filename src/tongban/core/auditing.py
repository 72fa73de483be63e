"""The audit log as the ground floor sees it.

``core`` and ``scheduling`` sit below the ``audit`` app (docs/architecture.md, "Floors"), yet a
few of their writes are exercises of power that must be audited too: re-encrypting personal data
under new keys, changing a schedule in the admin. They record through :func:`record`, which
the audit app fills in when it starts (``AuditConfig.ready``) with ``audit.services.audit_record``
— a registration instead of an import, so the ground never depends on the floors above it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured

_recorder: Callable[..., Any] | None = None


def register_recorder(recorder: Callable[..., Any]) -> None:
    """Called once by the audit app: ``recorder`` has ``audit_record``'s keyword signature."""
    global _recorder
    _recorder = recorder


# ``actor`` is an ``accounts.permissions.Actor``, typed ``Any``: core sits below accounts and
# cannot import it.
def record(*, actor: Any, action: str, object_type: str, object_id: Any,
           detail: dict[str, Any] | None = None) -> Any:
    """Append one audit record inside the caller's transaction (``audit.services.audit_record``).

    Refuses to run unaudited: without the audit app installed this raises."""
    if _recorder is None:
        raise ImproperlyConfigured("tongban.audit is not installed: audited writes cannot run")
    return _recorder(actor=actor, action=action, object_type=object_type, object_id=object_id,
                     detail=detail)
