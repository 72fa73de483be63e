"""Background work of the automatic decisions: queued after a submission commits
(``services.automatic.on_submit``). Takes the case's id, re-reads its state, idempotent."""

from __future__ import annotations

from django_tasks import task


@task()
def decide_automatically(case_id: int) -> str:
    from .services.automatic import decide

    record = decide(case_id)
    return record.outcome if record is not None else ""
