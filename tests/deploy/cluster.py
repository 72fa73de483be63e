"""A small deployment on this machine, as docs/deployment.md describes it: a private PostgreSQL
server, N ``tongban serve`` nodes and M ``tongban worker`` processes sharing one data
directory, and nginx in front with the recipe's proxy settings (deploy/nginx/).

The PostgreSQL server is the test's own (``initdb`` in a temporary directory, a free port), so
the tests may restart it without disturbing the machine's server that other tests use.
Every process runs in its own session, so SIGKILL to its process group takes down a node
whole (granian's workers with their parent), as a machine that dies would.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import requests

REPO = Path(__file__).resolve().parents[2]
NGINX_PROXY_CONF = REPO / "deploy" / "nginx" / "tongban-proxy.conf"
# The schedule the tests add (its task deletes only results older than two weeks: none here).
TICK_SCHEDULE = "deploy_test_tick"
TICK_TASK = "tongban.scheduling.tasks.prune_task_results"
# Generous: the machine may be busy with other test runs.
START_TIMEOUT = 180.0


class Unavailable(Exception):
    """Something this machine lacks (nginx, the PostgreSQL server binaries): skip, saying what."""


def wait_for(condition: Callable[[], Any], *, timeout: float, what: str, every: float = 0.2) -> Any:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise Unavailable("the PostgreSQL server binaries (initdb, pg_ctl) are not installed")


class PrivatePostgres:
    """A PostgreSQL server of the test's own: trust authentication on 127.0.0.1:``port``.

    PostgreSQL refuses to run as root; as root (CI) it runs as the ``postgres`` account.
    """

    def __init__(self, base: Path) -> None:
        self.bin = _pg_bin()
        self.root = base / "pg"
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self.user: str | None = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError as exc:
                raise Unavailable("running as root without a 'postgres' account") from exc
            self.user = "postgres"
        self.root.mkdir(mode=0o700)
        if self.user:
            shutil.chown(self.root, self.user, self.user)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--encoding=UTF8", "--locale=C.UTF-8")

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        result = subprocess.run(command, cwd=self.root, capture_output=True, timeout=START_TIMEOUT)
        assert result.returncode == 0, (command, result.stdout[-2000:], result.stderr[-2000:])

    def start(self) -> None:
        # fsync off: the test's data need not survive a power cut, and it saves the busy disk.
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
                   "-c fsync=off -c full_page_writes=off -c max_connections=100")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options,
                  "-w", "-t", str(int(START_TIMEOUT)), "start")

    def restart(self) -> None:
        """A fast shutdown (every session is ended, as an operator's restart does) and start."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        self.start()

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError, AssertionError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url(database), autocommit=True)


def nginx_binary() -> str:
    for candidate in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise Unavailable("nginx is not installed (scripts/system.sh installs it as root)")


class Cluster:
    """Nodes, workers and nginx on one database; ``url(path)`` goes through nginx."""

    def __init__(self, base: Path, pg: PrivatePostgres, *, database: str = "tongban") -> None:
        self.base = base
        self.pg = pg
        self.database = database
        self.data_dir = base / "data"
        self.logs = base / "logs"
        self.logs.mkdir()
        self.node_ports = [free_port(), free_port()]
        self.nginx_port = free_port()
        self.nodes: dict[int, subprocess.Popen[bytes]] = {}
        self.workers: dict[int, subprocess.Popen[bytes]] = {}
        self.nginx: subprocess.Popen[bytes] | None = None
        self.tick_from: Any = None
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("TONGBAN_")},
            "TONGBAN_DATABASE_URL": pg.url(database),
            "TONGBAN_DATA_DIR": str(self.data_dir),
            "TONGBAN_AUDIT_KEY_DIR": str(base / "keys"),
            "TONGBAN_SECRET_KEY": "tests-deploy-" + "x" * 40,
            "TONGBAN_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "TONGBAN_SECURE_COOKIES": "0",
            # A task whose worker was killed is queued again after this long (the default is
            # ten minutes); long enough that a live worker's task is never taken from it.
            "TONGBAN_TASK_LEASE_SECONDS": "20",
            "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]),
            "PYTHONUNBUFFERED": "1",
        }
        if redis_reachable():
            # The shared cache of the recipe (nothing may depend on it being there: the
            # default is local memory).
            self.env["TONGBAN_CACHE_URL"] = "redis://127.0.0.1:6379/15"

    # --- the database ---------------------------------------------------------------------

    def tongban(self, *args: str, debug: bool = False, timeout: float = 600) -> None:
        env = {**self.env, "TONGBAN_DEBUG": "1" if debug else "0"}
        result = subprocess.run([sys.executable, "-m", "tongban.manage", *args], env=env,
                                cwd=self.base, capture_output=True, timeout=timeout)
        assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-4000:])

    def create_database(self) -> None:
        with self.pg.connect("postgres") as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')
        self.tongban("migrate", "--verbosity", "0")
        # The demo city: catalog, halls, one account per role (password tongban-demo).
        self.tongban("load_demo", "--verbosity", "0", debug=True)
        # A schedule due every second from now, so that two workers race for each of its runs.
        self.tick_from = self.sql(
            "INSERT INTO scheduling_schedule (name, task, kwargs, interval_seconds, next_run_at,"
            " enabled) VALUES (%s, %s, '{}', 1, now(), true) RETURNING next_run_at",
            TICK_SCHEDULE, TICK_TASK)[0][0]

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with self.pg.connect(self.database) as conn:
            return conn.execute(query, params).fetchall()

    # --- processes ------------------------------------------------------------------------

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("ab")
        return subprocess.Popen([sys.executable, "-m", "tongban.manage", *args], env=self.env,
                                cwd=self.base, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)

    def start_node(self, index: int) -> None:
        port = self.node_ports[index]
        self.nodes[index] = self._spawn(f"node{index}", "serve", "--host", "127.0.0.1",
                                        "--port", str(port), "--workers", "1", "--threads", "4")
        wait_for(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), timeout=START_TIMEOUT,
                 what=f"node {index} to answer /healthz")

    def start_worker(self, index: int) -> None:
        self.workers[index] = self._spawn(f"worker{index}", "worker", "--worker-id", f"w{index}",
                                          "--interval", "0.2", "--schedule-interval", "0.5")

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL to the whole process group: nothing of it may finish what it was doing."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)

    def start_nginx(self) -> None:
        nginx = nginx_binary()
        conf_dir = self.base / "nginx"
        conf_dir.mkdir()
        # Workers of an nginx started as root run as nobody: they write the temp paths.
        os.chmod(conf_dir, 0o777)
        servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;"
                            for p in self.node_ports)
        temp = "\n".join(f"    {kind}_temp_path {conf_dir}/{kind};"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (conf_dir / "nginx.conf").write_text(f"""
daemon off;
worker_processes 1;
pid {conf_dir}/nginx.pid;
error_log {conf_dir}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log {conf_dir}/access.log;
{temp}
    upstream tongban {{
{servers}
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{self.nginx_port};
        location /static/ {{ alias {self.data_dir}/static/; }}
        location / {{
            proxy_pass http://tongban;
            include {NGINX_PROXY_CONF};
        }}
    }}
}}
""")
        log = (self.logs / "nginx.log").open("ab")
        self.nginx = subprocess.Popen([nginx, "-c", str(conf_dir / "nginx.conf"), "-p", str(conf_dir)],
                                      stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(lambda: _answers(self.url("/healthz")), timeout=START_TIMEOUT,
                 what="nginx to pass /healthz on")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.nginx_port}{path}"

    def ensure_running(self) -> None:
        """Both nodes and both workers up (a test before may have killed some)."""
        for index in range(2):
            node = self.nodes.get(index)
            if node is None or node.poll() is not None:
                self.start_node(index)
            worker = self.workers.get(index)
            if worker is None or worker.poll() is not None:
                self.start_worker(index)

    def stop_all(self) -> None:
        for process in [*self.nodes.values(), *self.workers.values(),
                        *([self.nginx] if self.nginx else [])]:
            if process.poll() is None:
                self.kill(process)

    def log_tail(self, name: str, size: int = 3000) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-size:] if path.exists() else ""


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def deployment() -> Iterator[Cluster]:
    """A private PostgreSQL with the demo database, 2 nodes, 2 workers and nginx; all stopped
    and removed at the end."""
    nginx_binary()  # skip before the slow part when nginx is missing
    base = Path(tempfile.mkdtemp(prefix="tongban-deploy-"))
    # The server's own account (as root: postgres) and nginx's workers must get through it.
    os.chmod(base, 0o755)
    pg: PrivatePostgres | None = None
    cluster: Cluster | None = None
    try:
        pg = PrivatePostgres(base)
        pg.start()
        cluster = Cluster(base, pg)
        cluster.create_database()
        cluster.ensure_running()
        cluster.start_nginx()
        yield cluster
    finally:
        if cluster is not None:
            cluster.stop_all()
        if pg is not None:
            pg.stop()
        shutil.rmtree(base, ignore_errors=True)
