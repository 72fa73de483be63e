"""Background work of the audit log: the periodic signed checkpoint and verification runs."""

from __future__ import annotations

import logging

from django_tasks import task

log = logging.getLogger(__name__)


@task()
def write_checkpoint() -> int | None:
    """Sign the chain's end (the ``audit_checkpoint`` schedule, hourly). Returns its ``seq``."""
    from .services import ChainBroken, audit_checkpoint_write

    try:
        checkpoint = audit_checkpoint_write()
    except ChainBroken as exc:
        log.error("audit chain broken, no checkpoint signed: %s", exc)
        return None
    return checkpoint.seq if checkpoint is not None else None


@task()
def run_verification(verification_id: int) -> bool | None:
    """Verify the whole chain for a supervisor's "verify now". Returns whether it is intact."""
    from .services import audit_verification_run

    verification = audit_verification_run(verification_id=verification_id)
    return verification.intact if verification is not None else None


@task()
def seal() -> int:
    """Seal the records written since into the chain (the ``audit_seal`` schedule, every few
    seconds). Returns how many were sealed."""
    from .sealing import audit_seal

    return audit_seal()
