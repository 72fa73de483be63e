"""``tongban serve``: run the platform under granian in WSGI mode.

Django under ASGI measured several times slower here, so granian serves the WSGI application
with one worker process per core by default. Static files are served by WhiteNoise from
``STATIC_ROOT`` (run ``tongban collectstatic`` first; ``scripts/start.sh`` does).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


def granian_command(*, host: str, port: int, workers: int, threads: int) -> list[str]:
    """The command line that starts granian on the project's WSGI application.

    Each worker runs requests in ``threads`` threads and admits no more at once (backpressure),
    so database connections stay at most workers × threads.
    """
    return [
        sys.executable, "-m", "granian", "--interface", "wsgi", "--host", host, "--port", str(port),
        "--workers", str(workers), "--blocking-threads", str(threads), "--backpressure", str(threads),
        "--no-ws", "tongban.wsgi:application",
    ]


def default_workers() -> int:
    return settings.SERVE_WORKERS or os.cpu_count() or 1


def default_threads() -> int:
    # Granian's own guidance for WSGI: more threads than 2 × cores + 1 mostly wait on the GIL.
    return settings.SERVE_THREADS or 2 * (os.cpu_count() or 1) + 1


def prepare_metrics_dir() -> Path:
    """prometheus-client's multiprocess mode for the granian workers: each worker writes its
    request counts to files in ``PROMETHEUS_MULTIPROC_DIR`` (default ``DATA_DIR/prometheus``),
    and ``/metrics`` in any worker adds up all of them. Emptied at each start, so counts of a
    previous run's processes do not linger (counters restart at 0, as Prometheus expects)."""
    directory = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR")
                     or Path(settings.DATA_DIR) / "prometheus")
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    return directory


class Command(BaseCommand):
    help = "启动 Web 服务（granian，WSGI 模式）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.SERVE_HOST,
                            help="监听地址（默认 TONGBAN_HOST 或 127.0.0.1）")
        parser.add_argument("--port", type=int, default=settings.SERVE_PORT,
                            help="端口（默认 TONGBAN_PORT 或 8000）")
        parser.add_argument("--workers", type=int, default=None,
                            help="工作进程数（默认 TONGBAN_WORKERS，或每个 CPU 核一个）")
        parser.add_argument("--threads", type=int, default=None,
                            help="每个工作进程的线程数（默认 TONGBAN_THREADS，或 CPU 核数×2+1）")

    def handle(self, *args: Any, **options: Any) -> None:
        workers = options["workers"] or default_workers()
        if workers < 1:
            raise CommandError("--workers 须为正整数")
        threads = options["threads"] if options["threads"] is not None else default_threads()
        if threads < 1:
            raise CommandError("--threads 须为正整数")
        command = granian_command(host=options["host"], port=options["port"], workers=workers,
                                  threads=threads)
        self.stdout.write(f"tongban serve: http://{options['host']}:{options['port']}/ "
                          f"({workers} worker(s) × {threads} thread(s))")
        self.stdout.flush()
        # Replace this process, so that signals (Ctrl-C, SIGTERM from a supervisor) reach granian.
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
        prepare_metrics_dir()
        os.execv(command[0], command)
