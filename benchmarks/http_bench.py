"""HTTP throughput of the served platform against the stack's own ceiling, in one run.

Starts ``tongban serve`` (granian, the production defaults for workers and threads unless
``--workers``/``--threads`` are given) with ``TONGBAN_DEBUG`` off and ``TONGBAN_BENCH_CEILING=1``,
which mounts two bare Django views (``tongban.bench``): a constant JSON answer and a one-row read.
Then drives, one scenario after the other at a fixed concurrency (one client process per
connection, each a keep-alive ``http.client`` connection, closed loop):

- the two ceilings (first and again last, to see the machine's drift),
- the item guide page, catalog search, API item detail, API case detail (a clerk's token),
  the citizen's case list (session), the officer's inbox (session), and case submission (a
  citizen's token: ``POST /cases`` then ``POST /cases/{id}/submit``; one operation = both calls).

For each: operations per second, p50/p95/p99 latency, and the ratio to each ceiling (the mean of
its two runs), and over the measured window the server's CPU per operation (its processes'
user + system time) and how busy the whole machine was: a scenario that leaves the machine idle
waits on something other than the CPU (a lock, a disk flush). With ``--data-dir`` it uses that
data directory (migrated, with ``tongban load_demo``); without, it prepares a fresh one in a
temporary directory.

    .venv/bin/python benchmarks/http_bench.py --duration 10 --concurrency 8
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "tongban-demo"
GUIDE_ITEM = "11620100051317876B3000100113001"  # 企业设立登记 (demo catalog)
SUBMIT_ITEM = "11620100051317876B3000100113002"  # 企业变更登记, the demo's own form
SUBMIT_FORM = {"company_name": "兰州示例餐饮有限公司", "uscc": "91620102MA7123456T",
               "change_item": "住所", "before_change": "兰州市城关区庆阳路100号",
               "after_change": "兰州市城关区张掖路8号", "resolution_date": "2026-11-20",
               "contact_phone": "13893100001"}
CITIZEN = {"kind": "natural_person", "name": "张明", "id_number": "620102199001011233",
           "phone": "13812345678"}
SEARCH_QUERY = "营业执照"
WARM_CALLS = 12


# --- the server -------------------------------------------------------------------------------

def server_env(data_dir: Path, *, debug: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TONGBAN_")}
    env.update({
        "TONGBAN_DATA_DIR": str(data_dir),
        "TONGBAN_SECRET_KEY": "benchmark-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "TONGBAN_BENCH_CEILING": "1",
        # A tree named in PYTHONPATH first (another version of the code against the same
        # benchmark), this checkout's otherwise.
        "PYTHONPATH": os.pathsep.join(p for p in (env.get("PYTHONPATH"), str(ROOT / "src")) if p),
    })
    if os.environ.get("TONGBAN_DATABASE_URL"):
        env["TONGBAN_DATABASE_URL"] = os.environ["TONGBAN_DATABASE_URL"]
    if debug:
        env["TONGBAN_DEBUG"] = "1"
    return env


def manage(data_dir: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "tongban.manage", *args], check=True,
                   env=server_env(data_dir, debug=True), stdout=subprocess.DEVNULL)


def prepare(data_dir: Path) -> None:
    manage(data_dir, "migrate", "-v0")
    manage(data_dir, "load_demo")
    manage(data_dir, "collectstatic", "--noinput", "-v0")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data_dir: Path, port: int, workers: int | None, threads: int | None
                 ) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "tongban.manage", "serve", "--port", str(port)]
    if workers:
        command += ["--workers", str(workers)]
    if threads:
        command += ["--threads", str(threads)]
    process = subprocess.Popen(command, env=server_env(data_dir, debug=False),
                               start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/_bench/constant")
            if c.getresponse().status == 200:
                return process
        except OSError:
            pass
        if process.poll() is not None:
            raise SystemExit("tongban serve exited")
        time.sleep(0.5)
    raise SystemExit("tongban serve did not answer")


# --- a client ---------------------------------------------------------------------------------

@dataclass
class Client:
    """One keep-alive connection with its headers (a token or a session's cookies)."""

    port: int
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: Any = None, *, form: bool = False,
                expect: tuple[int, ...] = (200,)) -> tuple[int, bytes]:
        headers = dict(self.headers)
        data: bytes | None = None
        if body is not None:
            if form:
                data = urlencode(body).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                content = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.status not in expect:
            raise RuntimeError(f"{method} {path}: {response.status} {content[:300]!r}")
        return response.status, content


def token_client(port: int, username: str) -> Client:
    c = Client(port)
    _, body = c.request("POST", "/api/v1/auth/token", {"username": username, "password": PASSWORD})
    c.headers["Authorization"] = "Bearer " + json.loads(body)["token"]
    c.cookies.clear()
    return c


def session_client(port: int, username: str, *, staff: bool) -> Client:
    c = Client(port)
    login = "/accounts/staff/login/" if staff else "/accounts/login/"
    _, page = c.request("GET", login)
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match, "no CSRF token on the login page"
    c.request("POST", login, {"csrfmiddlewaretoken": match.group(1).decode(), "username": username,
                              "password": PASSWORD}, form=True, expect=(302,))
    assert "sessionid" in c.cookies, "login did not set a session"
    return c


def submit_case(c: Client) -> int:
    """One application: the draft (POST /cases), then its submission."""
    _, body = c.request("POST", "/api/v1/cases", {
        "item": SUBMIT_ITEM, "channel": "online", "applicant": CITIZEN, "form_data": SUBMIT_FORM},
        expect=(201,))
    case = json.loads(body)
    c.request("POST", f"/api/v1/cases/{case['id']}/submit", {"expected_version": case["version"]})
    return int(case["id"])


# --- scenarios --------------------------------------------------------------------------------

@dataclass
class Scenario:
    name: str
    path: str  # for the table
    make_client: Callable[[int], Client]
    run: Callable[[Client], None]


def scenarios(port: int, case_ids: list[int], item_id: int) -> list[Scenario]:
    def get(path: str) -> Callable[[Client], None]:
        def run(c: Client) -> None:
            c.request("GET", path)

        return run

    def submit(c: Client) -> None:
        submit_case(c)

    anon = Client
    case_path = f"/api/v1/cases/{case_ids[0]}"
    return [
        Scenario("ceiling: constant JSON", "/_bench/constant", anon, get("/_bench/constant")),
        Scenario("ceiling: one-row read", f"/_bench/one-row?id={item_id}", anon,
                 get(f"/_bench/one-row?id={item_id}")),
        Scenario("item guide page", f"/items/{GUIDE_ITEM}/", anon, get(f"/items/{GUIDE_ITEM}/")),
        Scenario("catalog search", f"/search/?q={SEARCH_QUERY}", anon,
                 get(f"/search/?q={quote(SEARCH_QUERY)}")),
        Scenario("API item detail", f"/api/v1/items/{GUIDE_ITEM}", anon,
                 get(f"/api/v1/items/{GUIDE_ITEM}")),
        # The item's bureau handles the citizen's online cases; a staff read is audited.
        Scenario("API case detail (officer)", "/api/v1/cases/{id}",
                 lambda p: token_client(p, "officer"), get(case_path)),
        Scenario("citizen's case list", "/my/cases/",
                 lambda p: session_client(p, "citizen", staff=False), get("/my/cases/")),
        Scenario("officer's inbox", "/workbench/",
                 lambda p: session_client(p, "officer", staff=True), get("/workbench/")),
        Scenario("case submission (create + submit)", "POST /api/v1/cases, …/submit",
                 lambda p: token_client(p, "citizen"), submit),
    ]


# The scenario being measured; set before the client processes fork (lambdas do not pickle).
_CURRENT: list[Scenario] = []


def _worker(port: int, warmup: float, duration: float, ready: Any, go: Any, out: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    scenario = _CURRENT[0]
    client = scenario.make_client(port)
    ready.wait()  # every client logged in before the clock starts
    while not go.value:
        time.sleep(0.001)
    start = go.value
    while time.time() < start:
        time.sleep(0.001)
    latencies: list[float] = []
    errors = 0
    # Operations that end inside the window count; what is in flight at its end does not.
    measure_from, until = start + warmup, start + warmup + duration
    while True:
        t0 = time.time()
        if t0 >= until:
            break
        try:
            scenario.run(client)
        except Exception:  # counted, and the connection starts afresh
            if measure_from <= time.time() <= until:
                errors += 1
            if client.conn is not None:
                client.conn.close()
                client.conn = None
            continue
        t1 = time.time()
        if measure_from <= t1 <= until:
            latencies.append(t1 - t0)
    out.put((latencies, errors))


@dataclass
class Result:
    name: str
    path: str
    ops: int
    errors: int
    rate: float
    p50: float
    p95: float
    p99: float
    server_cpu_ms: float  # the server's processes' CPU per operation in the measured window
    machine_busy: float  # share of the machine's CPU time busy in that window (all processes)


def group_cpu_seconds(pgid: int) -> float:
    """CPU seconds (user + system) used so far by the live processes of a process group."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[2]) == pgid:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot (``/proc/stat``)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(scenario: Scenario, port: int, concurrency: int, warmup: float, duration: float,
            server_pgid: int) -> Result:
    _CURRENT[:] = [scenario]
    # A few calls first, one at a time, so that lazy loading in each server process (jieba's
    # dictionary, templates) happens before the clock runs.
    first = scenario.make_client(port)
    for _ in range(WARM_CALLS):
        scenario.run(first)
        if first.conn is not None:  # a new connection may land on another worker process
            first.conn.close()
            first.conn = None
    ctx = multiprocessing.get_context("fork")
    ready, go, out = ctx.Barrier(concurrency + 1), ctx.Value("d", 0.0), ctx.Queue()
    clients = [ctx.Process(target=_worker, args=(port, warmup, duration, ready, go, out))
               for _ in range(concurrency)]
    for process in clients:
        process.start()
    ready.wait(timeout=120)
    go.value = start = time.time() + 0.2
    # The server's CPU and the machine's load over the measured window: a scenario whose
    # machine is not busy waits on something (a lock, a disk flush), not on the CPU.
    time.sleep(max(0.0, start + warmup - time.time()))
    cpu0, (busy0, total0) = group_cpu_seconds(server_pgid), machine_ticks()
    time.sleep(max(0.0, start + warmup + duration - time.time()))
    cpu1, (busy1, total1) = group_cpu_seconds(server_pgid), machine_ticks()
    outcomes = [out.get(timeout=warmup + duration + 120) for _ in clients]
    for process in clients:
        process.join()
    latencies = [x for lat, _ in outcomes for x in lat]
    errors = sum(e for _, e in outcomes)
    return Result(scenario.name, scenario.path, len(latencies), errors, len(latencies) / duration,
                  percentile(latencies, 0.50) * 1000, percentile(latencies, 0.95) * 1000,
                  percentile(latencies, 0.99) * 1000,
                  (cpu1 - cpu0) * 1000 / max(1, len(latencies)),
                  (busy1 - busy0) / max(1, total1 - total0))


# --- main -------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, help="a migrated data directory with the demo "
                        "loaded (default: a fresh one in a temporary directory)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per scenario")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds run first, not measured")
    parser.add_argument("--workers", type=int, help="granian workers (default: as in production)")
    parser.add_argument("--threads", type=int, help="threads per worker (default: as in production)")
    parser.add_argument("--only", help="comma-separated scenario names (substrings) besides the ceilings")
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    options = parser.parse_args()

    temporary = None
    data_dir = options.data_dir
    if data_dir is None:
        temporary = tempfile.mkdtemp(prefix="tongban-http-")
        data_dir = Path(temporary)
        print(f"preparing a demo database in {data_dir} …", flush=True)
        prepare(data_dir)
    # A SIGTERM (timeout, Ctrl-C from a supervisor) still stops the server below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    port = free_port()
    server = start_server(data_dir, port, options.workers, options.threads)
    try:
        citizen = token_client(port, "citizen")
        case_ids = [submit_case(citizen) for _ in range(5)]
        item_id = 1  # the first item of the demo catalog
        plan = scenarios(port, case_ids, item_id)
        ceilings, pages = plan[:2], plan[2:]
        if options.only:
            wanted = [w.strip() for w in options.only.split(",")]
            pages = [s for s in pages if any(w in s.name for w in wanted)]
        results: list[Result] = []
        for scenario in [*ceilings, *pages, *ceilings]:
            result = measure(scenario, port, options.concurrency, options.warmup, options.duration,
                             server.pid)
            print(f"{result.name:38} {result.rate:8.1f}/s  p50 {result.p50:7.1f} ms  "
                  f"p95 {result.p95:7.1f} ms  p99 {result.p99:7.1f} ms  errors {result.errors}  "
                  f"server CPU {result.server_cpu_ms:5.2f} ms/op  machine busy "
                  f"{result.machine_busy:.0%}", flush=True)
            results.append(result)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)

    constant = statistics.mean(r.rate for r in results if r.name == ceilings[0].name)
    one_row = statistics.mean(r.rate for r in results if r.name == ceilings[1].name)
    print(f"\nconcurrency {options.concurrency}, {options.duration:g} s a scenario; ceilings are "
          f"the mean of the first and last runs\n")
    print("| scenario | req/s | p50 ms | p95 ms | p99 ms | ÷ constant | ÷ one row "
          "| server CPU ms/op | machine busy |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    seen: set[str] = set()
    for r in results:
        if r.name in seen:
            continue
        seen.add(r.name)
        rate = statistics.mean(x.rate for x in results if x.name == r.name)
        print(f"| {r.name} | {rate:.0f} | {r.p50:.1f} | {r.p95:.1f} | {r.p99:.1f} | "
              f"{rate / constant:.0%} | {rate / one_row:.0%} | {r.server_cpu_ms:.2f} | "
              f"{r.machine_busy:.0%} |")
    if options.json:
        options.json.write_text(json.dumps({
            "concurrency": options.concurrency, "duration": options.duration,
            "ceiling_constant": constant, "ceiling_one_row": one_row,
            "results": [r.__dict__ for r in results]}, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
