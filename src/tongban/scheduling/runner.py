"""The loop that ``tongban worker`` runs beside the task worker, in its own thread (and so on
its own database connection): it fires due schedules and puts back in the queue the tasks whose
worker died (``services.tasks_reclaim_stale``)."""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connection

from .services import schedules_fire_due, tasks_reclaim_stale

log = logging.getLogger(__name__)


class SchedulerThread(threading.Thread):
    """Every ``tick`` seconds until :meth:`stop` is called: fires due schedules (unless
    ``fire_schedules`` is false) and, at most every ``reclaim_every`` seconds (a tenth of the
    task lease, at most a minute), reclaims stale tasks."""

    def __init__(self, *, tick: float, fire_schedules: bool = True,
                 reclaim_every: float | None = None) -> None:
        super().__init__(name="tongban-scheduler", daemon=True)
        self.tick = tick
        self.fire_schedules = fire_schedules
        self.reclaim_every = (reclaim_every if reclaim_every is not None
                              else min(60.0, settings.TASK_LEASE_SECONDS / 10))
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        reclaimed_at = float("-inf")
        try:
            while not self._stopping.is_set():
                close_old_connections()
                if time.monotonic() - reclaimed_at >= self.reclaim_every:
                    reclaimed_at = time.monotonic()
                    try:
                        tasks_reclaim_stale()
                    except Exception:  # the database may be briefly away; try again later
                        log.exception("reclaiming stale tasks failed")
                if self.fire_schedules:
                    try:
                        schedules_fire_due()
                    except Exception:  # the database may be briefly away; try again next tick
                        log.exception("firing schedules failed")
                self._stopping.wait(self.tick)
        finally:
            connection.close()
