"""A mixed load through nginx, and the checks of what it left in the database.

Citizens create applications (each with its own ``Idempotency-Key``) and submit them; an
officer of the market bureau accepts the submitted ones (an online application is accepted by
the department); a reader lists and opens cases. Every request and its answer is recorded, so
that afterwards each one can be judged: done (its effect is in the database, once) or cleanly
refused (an error answer, nothing written). A request done whose answer was lost — the node
died after the commit — counts as done when its effect is there exactly once.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests

from tests.cases.conftest import DEMO_FORM_DATA, PDF, SAME_DAY

from .cluster import TICK_SCHEDULE, TICK_TASK, Cluster, wait_for

PASSWORD = "tongban-demo"  # the demo accounts' (tongban load_demo)
CITIZEN = {"kind": "natural_person", "name": "张明", "id_number": "620102199001011233",
           "phone": "13812345678"}
# Answers that mean "not done": the node died under the request or was gone (nginx), or the
# database was (the node). Any other answer to a well-formed request is a failure of the test.
REFUSED = {500, 502, 503, 504}
# Events the applicant is told about (notifications.services.APPLICANT_EVENTS) among those
# the load makes.
NOTIFIED = ("submit", "accept")
SEND_CASE_EVENT = "tongban.cases.notifications.tasks.send_case_event"


@dataclass
class Call:
    kind: str  # create, submit, accept, read
    status: int  # 0: no answer at all (connection reset)
    key: str = ""  # the Idempotency-Key of a create
    case_id: int | None = None
    material_id: int | None = None
    detail: str = ""  # the start of an answer that is not a success
    at: float = field(default_factory=time.monotonic)


class Load:
    """Threads sending requests through nginx until :meth:`stop`."""

    def __init__(self, cluster: Cluster, *, citizens: int = 3, readers: int = 1) -> None:
        self.cluster = cluster
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._local = threading.local()  # each thread's last error answer
        self.tokens = {name: self._token(name) for name in ("citizen", "officer")}
        self.threads = ([threading.Thread(target=self._citizen, daemon=True) for _ in range(citizens)]
                        + [threading.Thread(target=self._officer, daemon=True)]
                        + [threading.Thread(target=self._reader, daemon=True) for _ in range(readers)])

    def _token(self, username: str) -> str:
        def attempt() -> str | None:
            try:
                response = requests.post(self.cluster.url("/api/v1/auth/token"), timeout=60,
                                         json={"username": username, "password": PASSWORD})
            except requests.RequestException:
                return None
            return str(response.json()["token"]) if response.status_code == 200 else None
        token: str = wait_for(attempt, timeout=120, what=f"a token for {username}", every=1)
        return token

    # --- the load -------------------------------------------------------------------------

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self._stopping.set()
        for thread in self.threads:
            thread.join(timeout=180)
            assert not thread.is_alive(), "a load thread did not stop"

    def _request(self, method: str, path: str, who: str, *, headers: dict[str, str] | None = None,
                 **kwargs: Any) -> requests.Response | None:
        try:
            return requests.request(
                method, self.cluster.url("/api/v1" + path), timeout=90,
                headers={"Authorization": f"Bearer {self.tokens[who]}", **(headers or {})}, **kwargs)
        except requests.RequestException:
            return None

    def _send(self, method: str, path: str, who: str, *, body: Any = None,
              headers: dict[str, str] | None = None, **kwargs: Any) -> tuple[int, Any]:
        response = self._request(method, path, who, headers=headers, json=body, **kwargs)
        if response is None:
            return 0, None
        self._local.detail = "" if response.status_code < 300 else response.text[:300]
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None

    def _record(self, call: Call) -> None:
        if call.status >= 300:
            call.detail = getattr(self._local, "detail", "")
        with self._lock:
            self.calls.append(call)

    def _citizen(self) -> None:
        while not self._stopping.is_set():
            key = uuid.uuid4().hex
            status, case = self._send("POST", "/cases", "citizen", headers={"Idempotency-Key": key},
                                      body={"item": SAME_DAY, "channel": "online",
                                            "applicant": CITIZEN, "form_data": DEMO_FORM_DATA[SAME_DAY]})
            self._record(Call("create", status, key=key, case_id=case["id"] if status == 201 else None))
            if status != 201:
                continue
            # The files land in the shared storage, encrypted; the officer's node reads them.
            for entry in case["checklist"]:
                if not entry["required"]:
                    continue
                status, _ = self._send("POST", f"/cases/{case['id']}/materials", "citizen",
                                       files={"file": (f"{entry['material_id']}.pdf", PDF)},
                                       data={"material": entry["material_id"]})
                self._record(Call("upload", status, case_id=case["id"],
                                  material_id=entry["material_id"]))
                if status != 201:
                    break  # left as a draft
            else:
                status, _ = self._send("POST", f"/cases/{case['id']}/submit", "citizen",
                                       body={})
                self._record(Call("submit", status, case_id=case["id"]))

    def _officer(self) -> None:
        while not self._stopping.is_set():
            status, page = self._send("GET", "/cases?status=submitted&page_size=20", "officer")
            self._record(Call("read", status))
            if status != 200 or not page["items"]:
                self._stopping.wait(0.2)
                continue
            for item in page["items"]:
                status, _ = self._send("POST", f"/cases/{item['id']}/accept", "officer",
                                       body={"expected_version": item["version"]})
                self._record(Call("accept", status, case_id=item["id"]))

    def _reader(self) -> None:
        while not self._stopping.is_set():
            status, page = self._send("GET", "/cases?page_size=5", "citizen")
            self._record(Call("read", status))
            if status == 200 and page["items"]:
                number = page["items"][0]["id"]
                status, case = self._send("GET", f"/cases/{number}", "citizen")
                self._record(Call("read", status))
                files = [m for m in case["materials"] if m["size"]] if status == 200 else []
                if files:
                    # Uploaded through either node, read back through either: the shared storage.
                    response = self._request("GET", f"/cases/{number}/materials/{files[0]['id']}/file",
                                             "citizen")
                    status = response.status_code if response is not None else 0
                    if status == 200 and response is not None and response.content != PDF:
                        status = 299  # a file that is not what was uploaded: fails the checks
                    self._record(Call("download", status))
            status, _ = self._send("GET", "/items?page_size=5", "citizen")
            self._record(Call("read", status))

    # --- reading the record ---------------------------------------------------------------

    def count(self, *, after: float = 0.0, ok: bool = True) -> Counter[str]:
        with self._lock:
            return Counter(c.kind for c in self.calls
                           if c.at >= after and (c.status < 300) == ok and c.status != 0)

    def statuses(self) -> Counter[tuple[str, int]]:
        with self._lock:
            return Counter((c.kind, c.status) for c in self.calls)


# --- the checks ---------------------------------------------------------------------------------

def drain_queue(cluster: Cluster, *, timeout: float = 240) -> None:
    """Wait until the workers have run every queued task (a task of a killed worker is queued
    again once its lease runs out)."""
    def drained() -> bool:
        return not cluster.sql("SELECT 1 FROM django_tasks_database_dbtaskresult"
                               " WHERE status IN ('READY', 'RUNNING') LIMIT 1")
    wait_for(drained, timeout=timeout, what="the task queue to drain", every=0.5)


def check_cases(cluster: Cluster) -> None:
    """No half-written case: each case's events form one unbroken chain of states ending in the
    case's status, and case numbers are unique."""
    events: dict[int, list[tuple[int, str, str, str]]] = {}
    for case_id, seq, action, before, after in cluster.sql(
            "SELECT case_id, seq, action, from_status, to_status FROM cases_caseevent"
            " ORDER BY case_id, seq"):
        events.setdefault(case_id, []).append((seq, action, before, after))
    cases = cluster.sql("SELECT id, number, status FROM cases_case")
    for case_id, number, status in cases:
        chain = events.get(case_id, [])
        assert chain and chain[0][1] == "create", (case_id, chain)
        for (_, _, _, was), (_, action, before, _) in itertools.pairwise(chain):
            assert before == was, (case_id, action, chain)
        assert chain[-1][3] == status, (case_id, status, chain)
        actions = Counter(action for _, action, _, _ in chain)
        assert actions["submit"] <= 1 and actions["accept"] <= 1, (case_id, chain)
        assert (number is None) == (status == "draft"), (case_id, number, status)
    numbers = [number for _, number, _ in cases if number]
    assert len(numbers) == len(set(numbers)), "a case number was given twice"


def check_calls(cluster: Cluster, load: Load) -> dict[str, int]:
    """Every request done (its effect there once) or cleanly refused (an error answer and
    nothing written); returns how many requests were done though their answer was lost."""
    unexpected = [(c.kind, c.status, c.detail) for c in load.calls
                  if not (c.status < 299 or c.status in REFUSED or c.status == 0)]
    assert not unexpected, f"answers that are neither success nor a clean refusal: {unexpected}"
    by_key = dict(cluster.sql("SELECT idempotency_key, count(*) FROM cases_case"
                              " WHERE idempotency_key <> '' GROUP BY idempotency_key"))
    uploads: Counter[tuple[int, int]] = Counter(cluster.sql(
        "SELECT case_id, material_id FROM cases_casematerial WHERE material_id IS NOT NULL"))
    actions: Counter[tuple[int, str]] = Counter(
        (case_id, action) for case_id, action in cluster.sql(
            "SELECT case_id, action FROM cases_caseevent WHERE action IN ('submit', 'accept')"))
    lost_answers: Counter[str] = Counter()
    for call in load.calls:
        if call.kind == "create":
            found = by_key.get(call.key, 0)
            assert found <= 1, call
            if call.status == 201:
                assert found == 1, call
            elif found:
                lost_answers[call.kind] += 1
        elif call.kind == "upload":
            found = uploads[(call.case_id, call.material_id)]  # type: ignore[index]
            assert found <= 1, call
            if call.status == 201:
                assert found == 1, call
            elif found:
                lost_answers[call.kind] += 1
        elif call.kind in ("submit", "accept"):
            found = actions[(call.case_id, call.kind)]  # type: ignore[index]
            assert found <= 1, call
            if call.status == 200:
                assert found == 1, call
            elif found:
                lost_answers[call.kind] += 1
    return dict(lost_answers)


def check_notifications(cluster: Cluster) -> int:
    """Every event the applicant hears about queued exactly one notification task, which ran,
    and left exactly one message to the applicant. Returns how many events were checked."""
    citizen = cluster.sql("SELECT id FROM accounts_user WHERE username = 'citizen'")[0][0]
    events = [row[0] for row in cluster.sql(
        "SELECT id FROM cases_caseevent WHERE action = ANY(%s)", list(NOTIFIED))]
    queued = Counter(row[0] for row in cluster.sql(
        "SELECT (args_kwargs->'args'->>0)::bigint FROM django_tasks_database_dbtaskresult"
        " WHERE task_path = %s", SEND_CASE_EVENT))
    # The schedules keep firing after the queue drained (the audit sealer every few seconds),
    # so a scheduled task may be queued or running now: only a failure is a fault, and every
    # notification task (the load has stopped) must have run.
    failed = cluster.sql("SELECT task_path, exception_class_path FROM django_tasks_database_dbtaskresult"
                         " WHERE status NOT IN ('SUCCESSFUL', 'READY', 'RUNNING')"
                         " OR (task_path = %s AND status <> 'SUCCESSFUL')", SEND_CASE_EVENT)
    assert not failed, failed
    messages = Counter(row[0] for row in cluster.sql(
        "SELECT key FROM notifications_notification WHERE recipient_id = %s", citizen))
    for event in events:
        assert queued[event] == 1, (event, queued[event])
        assert messages[f"event:{event}"] == 1, (event, messages[f"event:{event}"])
    return len(events)


def check_schedules(cluster: Cluster) -> int:
    """No schedule fired twice. The test's schedule (due every second from
    ``cluster.tick_from``) fired at most once per due second; each of the platform's own
    schedules due every few seconds (the audit sealer) at most once per due instant; the
    others, due when the workers first started and not again for minutes or hours, exactly
    once. Returns how often the test's schedule fired."""
    fired = Counter(row[0] for row in cluster.sql(
        "SELECT task_path FROM django_tasks_database_dbtaskresult"))
    own = cluster.sql("SELECT name, task, last_run_at, interval_seconds FROM scheduling_schedule"
                      " WHERE name <> %s", TICK_SCHEDULE)
    for name, task, last_run, interval in own:
        if task == TICK_TASK:
            continue
        assert last_run is not None and fired[task] >= 1, (name, fired[task])
        if interval and interval < 600:
            # Due again during the test (the audit sealer, every few seconds): at most once per
            # due instant. The instants keep their cadence (scheduling.next_run): a late firing
            # may be followed at once by the next due one, so between the first and the last
            # firing lie at most span // interval + 2 of them.
            first, last = cluster.sql(
                "SELECT min(enqueued_at), max(enqueued_at) FROM django_tasks_database_dbtaskresult"
                " WHERE task_path = %s", task)[0]
            due = int((last - first).total_seconds() // interval) + 2
            assert fired[task] <= due, (name, fired[task], due)
        else:
            assert fired[task] == 1, (name, fired[task])
    # The platform's daily prune_task_results runs the same task as the test's schedule.
    sharing = sum(1 for _, task, _, _ in own if task == TICK_TASK)
    ticks = cluster.sql("SELECT max(enqueued_at) FROM django_tasks_database_dbtaskresult"
                        " WHERE task_path = %s", TICK_TASK)[0][0]
    assert ticks is not None, "the test's schedule never fired"
    due_seconds = int((ticks - cluster.tick_from).total_seconds()) + 1
    tick_runs = fired[TICK_TASK] - sharing
    assert 0 < tick_runs <= due_seconds, (tick_runs, due_seconds)
    return tick_runs
