"""The scheduler loop that ``tongban worker`` runs beside the task worker, in its own thread
(and so on its own database connection)."""

from __future__ import annotations

import logging
import threading

from django.db import close_old_connections, connection

from .services import schedules_fire_due

log = logging.getLogger(__name__)


class SchedulerThread(threading.Thread):
    """Fires due schedules every ``tick`` seconds until :meth:`stop` is called."""

    def __init__(self, *, tick: float) -> None:
        super().__init__(name="tongban-scheduler", daemon=True)
        self.tick = tick
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        try:
            while not self._stopping.is_set():
                close_old_connections()
                try:
                    schedules_fire_due()
                except Exception:  # the database may be briefly away; try again next tick
                    log.exception("firing schedules failed")
                self._stopping.wait(self.tick)
        finally:
            connection.close()
