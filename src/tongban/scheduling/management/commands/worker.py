"""``tongban worker``: one background process per node, doing two things.

- It runs queued tasks (notifications, deadline sweeps, recomputations) with the database
  worker of ``django-tasks-db``: each task is claimed under a row lock, so several workers on
  several nodes never run the same task twice.
- In a thread of its own, it fires due schedules (``tongban.scheduling``) every few seconds;
  the conditional update in ``schedules_fire_due`` makes a schedule fire once however many
  workers run.
- The same thread (also with ``--no-scheduler``; ``--batch`` once at start) queues again the
  tasks left running past ``TASK_LEASE_SECONDS`` by a worker that died (``tasks_reclaim_stale``):
  a task is run at least once, however its worker ended.
- A database that goes away (a PostgreSQL restart or fail-over) does not end it: it waits and
  goes on once the database answers again (``run_surviving_database_outages``); a task it cut
  off is run again, not recorded as failed (``outage_aware``).

SIGTERM or SIGINT stops it gracefully: the scheduler stops, a running task is finished first.
A second signal stops it at once.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connections
from django.utils.crypto import get_random_string

# Longest wait between attempts to reach a database that went away (seconds).
OUTAGE_MAX_WAIT = 10.0


def run_surviving_database_outages(worker: Any, *, log: Callable[[str], Any],
                                   sleep: Callable[[float], None] = time.sleep) -> None:
    """``worker.run()``, started again whenever the database goes away under it.

    django-tasks-db's loop lets any database error but a locked SQLite file escape, so a
    PostgreSQL restart or fail-over would end the process and leave the node without a worker
    until someone restarts it. Here the loop waits (growing to ``OUTAGE_MAX_WAIT`` seconds) and
    goes on with a fresh connection. A task the outage interrupted stays claimed and is queued
    again when its lease runs out (``tasks_reclaim_stale``): run at least once, never lost.
    """
    wait = worker.interval or 1.0
    while True:
        try:
            worker.run()
            return
        except DatabaseError as exc:
            if not worker.running:
                return
            log(f"数据库不可用（{type(exc).__name__}: {exc}），{wait:g} 秒后重试")
            connections.close_all()  # the next attempt opens a fresh connection
            sleep(wait)
            wait = min(wait * 2, OUTAGE_MAX_WAIT)
            # The random start-up pause is for a cold start of many workers, not a retry.
            worker.startup_delay = False


def database_went_away(exc: BaseException) -> bool:
    """Whether a task failed because its database connection was lost (a PostgreSQL restart or
    fail-over), not because of anything the task did: a connection-level error, and the
    connection is gone or no longer answers."""
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    wrapper = connections[DEFAULT_DB_ALIAS]
    try:
        return wrapper.connection is None or not wrapper.is_usable()
    except DatabaseError:
        return True


def outage_aware(worker_class: type[Any]) -> type[Any]:
    """django-tasks-db's worker, except that a task the loss of the database interrupted is not
    recorded as failed: a notification cut off by a PostgreSQL restart would be lost for good.
    The error leaves the loop instead (``run_surviving_database_outages`` waits the outage out),
    and the task stays claimed until its lease runs out and ``tasks_reclaim_stale`` queues it
    again: run at least once, as for a worker that died."""

    class OutageAwareWorker(worker_class):
        def run_task(self, db_task_result: Any) -> None:
            record_failure = db_task_result.set_failed

            def set_failed(exc: BaseException) -> None:
                if database_went_away(exc):
                    raise exc
                record_failure(exc)

            db_task_result.set_failed = set_failed
            super().run_task(db_task_result)

    return OutageAwareWorker


def _positive(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = "运行后台任务队列和定时任务调度（每个节点一个进程）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queue-name", default="default",
                            help="处理的队列，逗号分隔；* 表示全部队列（默认 default）")
        parser.add_argument("--interval", type=_positive, default=1.0,
                            help="队列为空时再次查看的间隔秒数（默认 1）")
        parser.add_argument("--schedule-interval", type=_positive,
                            default=settings.SCHEDULER_TICK_SECONDS,
                            help="查看到期定时任务的间隔秒数（默认 TONGBAN_SCHEDULER_TICK_SECONDS 或 5）")
        parser.add_argument("--no-scheduler", action="store_true",
                            help="只运行任务队列，不触发定时任务")
        parser.add_argument("--batch", action="store_true",
                            help="触发一次到期的定时任务，运行完队列中的全部任务后退出")
        parser.add_argument("--max-tasks", type=int, default=None,
                            help="运行这么多个任务后退出")
        parser.add_argument("--worker-id", default="",
                            help="本进程的标识，在所有节点中须唯一（默认随机生成）")

    def handle(self, *args: Any, **options: Any) -> None:
        from django_tasks import task_backends
        from django_tasks_db import DatabaseBackend
        from django_tasks_db.management.commands.db_worker import Worker

        from tongban.scheduling.runner import SchedulerThread
        from tongban.scheduling.services import schedules_fire_due, tasks_reclaim_stale

        if not isinstance(task_backends["default"], DatabaseBackend):
            raise CommandError("任务后端不是数据库队列（TONGBAN_TASKS_BACKEND=immediate 时任务在提交它的"
                               "进程中立即运行），无需启动 worker")
        if options["max_tasks"] is not None and options["max_tasks"] < 1:
            raise CommandError("--max-tasks 须为正整数")
        queues = [q.strip() for q in options["queue_name"].split(",") if q.strip()]
        if not queues:
            raise CommandError("--queue-name 不能为空")
        worker = outage_aware(Worker)(
            queue_names=queues, interval=options["interval"], batch=options["batch"],
            backend_name="default", startup_delay=not options["batch"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"] or get_random_string(32), excluded_queue_names=[])
        scheduling = not options["no_scheduler"]

        if options["batch"]:
            requeued, failed = tasks_reclaim_stale()
            if requeued or failed:
                self.stdout.write(f"超过租期仍未完成的任务：重新排队 {requeued} 个，标记失败 {failed} 个")
            if scheduling:
                fired = schedules_fire_due()
                if fired:
                    self.stdout.write("已触发定时任务：" + "、".join(fired))
            worker.run()
            return

        # Without schedules the thread still reclaims the tasks of dead workers.
        scheduler = SchedulerThread(tick=options["schedule_interval"], fire_schedules=scheduling)

        def stop(signum: int, frame: FrameType | None) -> None:
            scheduler.stop()
            # Finishes the running task first; exits at once when idle or on a second signal.
            worker.shutdown(signum, frame)

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        timing = f"每 {options['schedule_interval']:g} 秒查看一次" if scheduling else "未启用"
        self.stdout.write(f"后台任务进程已启动：队列 {','.join(queues)}，定时任务{timing}")
        try:
            scheduler.start()
            run_surviving_database_outages(worker, log=self.stderr.write)
        except SystemExit as exc:
            if exc.code not in (0, None):
                raise
        finally:
            scheduler.stop()
            scheduler.join(timeout=30)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write("后台任务进程已停止")
