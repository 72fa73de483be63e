"""``tongban serve``: granian in WSGI mode, answering on the configured host and port."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django.fixtures import Settings

from tongban.core.management.commands.serve import default_threads, default_workers, granian_command


def test_command_runs_granian_wsgi_on_the_project_application() -> None:
    assert granian_command(host="0.0.0.0", port=9000, workers=3, threads=8) == [
        sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "0.0.0.0", "--port", "9000",
        "--workers", "3", "--blocking-threads", "8", "--backpressure", "8", "--no-ws",
        "tongban.wsgi:application"]


def test_one_worker_per_core_unless_configured(settings: Settings) -> None:
    settings.SERVE_WORKERS = 0
    assert default_workers() == (os.cpu_count() or 1)
    settings.SERVE_WORKERS = 3
    assert default_workers() == 3


def test_threads_default_to_twice_the_cores_plus_one(settings: Settings) -> None:
    settings.SERVE_THREADS = 0
    assert default_threads() == 2 * (os.cpu_count() or 1) + 1
    settings.SERVE_THREADS = 8
    assert default_threads() == 8


def test_workers_and_threads_must_be_positive() -> None:
    with pytest.raises(CommandError, match="--workers 须为正整数"):
        call_command("serve", "--workers", "-1")
    with pytest.raises(CommandError, match="--threads 须为正整数"):
        call_command("serve", "--threads", "0")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(env: dict[str, str], *args: str) -> Iterator[str]:
    """``tongban serve *args`` in its own process group; yields its base URL once /healthz
    answers (waiting for the condition: a busy machine starts granian slowly), stops it after.
    ``env["TONGBAN_SERVER_GROUP"]`` is set to the process group meanwhile."""
    tongban = shutil.which("tongban", path=str(Path(sys.executable).parent))
    assert tongban is not None
    base = f"http://127.0.0.1:{env['TONGBAN_PORT']}"
    server = subprocess.Popen([tongban, "serve", *args], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    env["TONGBAN_SERVER_GROUP"] = str(server.pid)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=10):
                    break
            except OSError:
                assert server.poll() is None, "granian stopped before it answered"
                assert time.monotonic() < deadline, "granian did not answer"
                time.sleep(0.3)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def served_env(tmp_path: Path, *drop: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"TONGBAN_DATABASE_URL", *drop}}
    env.update(TONGBAN_DEBUG="1", TONGBAN_DATA_DIR=str(tmp_path), TONGBAN_PORT=str(free_port()))
    return env


@pytest.mark.slow
def test_serve_answers_healthz_and_static_files(tmp_path: Path) -> None:
    env = served_env(tmp_path)
    tongban = shutil.which("tongban", path=str(Path(sys.executable).parent))
    assert tongban is not None
    subprocess.run([tongban, "collectstatic", "--noinput", "-v0"], env=env, check=True, timeout=300)
    with serving(env, "--workers", "1") as base:
        with urllib.request.urlopen(f"{base}/healthz", timeout=30) as response:
            assert response.read() == b'{"status": "ok", "database": "ok"}'
        with urllib.request.urlopen(f"{base}/static/css/site.css", timeout=30) as response:
            assert response.status == 200
            assert b"body" in response.read()


def files_open_in_group(pgid: int) -> list[str]:
    """What the processes of a process group hold open (``/proc/<pid>/fd``)."""
    paths: list[str] = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if os.getpgid(int(proc.name)) == pgid:
                paths += [os.readlink(fd) for fd in (proc / "fd").iterdir()]
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return paths


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc")
def test_a_worker_keeps_its_sqlite_connection_between_requests(tmp_path: Path) -> None:
    """A new SQLite connection parses the whole schema and prepares every statement again:
    each worker thread keeps its own (CONN_MAX_AGE), as it does on PostgreSQL."""
    env = served_env(tmp_path)
    database = str(tmp_path / "tongban.sqlite3")
    with serving(env, "--workers", "1", "--threads", "1") as base:
        for _ in range(3):  # /healthz reads the database
            with urllib.request.urlopen(f"{base}/healthz", timeout=30) as response:
                assert response.read() == b'{"status": "ok", "database": "ok"}'
        assert database in files_open_in_group(int(env["TONGBAN_SERVER_GROUP"]))


@pytest.mark.slow
def test_metrics_add_up_the_requests_of_every_worker(tmp_path: Path) -> None:
    """Two granian workers each count their own requests; ``serve`` puts them in
    prometheus-client's multiprocess mode, so any worker's /metrics shows the sum."""
    env = served_env(tmp_path, "PROMETHEUS_MULTIPROC_DIR")
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"stale")  # a previous run's: removed at start
    with serving(env, "--workers", "2", "--threads", "2") as base:

        def healthz_count() -> float:
            with urllib.request.urlopen(f"{base}/metrics", timeout=30) as response:
                text = response.read().decode()
            line = next(x for x in text.splitlines()
                        if x.startswith("tongban_http_requests_total{") and 'route="healthz"' in x)
            return float(line.rsplit(" ", 1)[1])

        before = healthz_count()  # the start-up probes (a slow first answer may count twice)
        for _ in range(30):
            with urllib.request.urlopen(f"{base}/healthz", timeout=30) as response:
                assert response.status == 200
        assert healthz_count() == before + 30
        assert list(metrics_dir.glob("counter_*.db"))  # the workers write their counts there
        assert not (metrics_dir / "counter_999999.db").exists()


@pytest.mark.slow
def test_a_worker_takes_what_it_loaded_out_of_the_cycle_collector(tmp_path: Path) -> None:
    """Loading the application (what each granian worker does) freezes what is loaded by then,
    so that full collections during requests walk only what requests allocate."""
    env = served_env(tmp_path)
    out = subprocess.run([sys.executable, "-c", "import gc, tongban.wsgi; "
                          "print(gc.get_freeze_count(), len(gc.get_objects()))"],
                         env=env, check=True, capture_output=True, text=True, timeout=300)
    frozen, tracked = map(int, out.stdout.split())
    assert frozen > 50_000  # Django, the apps and every view module
    assert tracked < frozen / 10
