"""Reference point for ``workflow.py``: the same five-step approval in a BPMN engine.

SpiffWorkflow (a pure-Python BPMN engine) runs a process with five user tasks — submit, accept,
review, decide (an exclusive gateway after it: every fifth case denied), issue — and the workflow
is persisted after each step as a BPMN engine behind a web application does it: every step is a
request that loads the workflow's serialized state from the database, completes the ready task,
serializes the state again and commits it (a fresh SQLite file, WAL, like tongban's).

SpiffWorkflow is not a dependency of tongban: install it into a throwaway environment.

    python -m venv /tmp/spiffvenv && /tmp/spiffvenv/bin/pip install spiffworkflow
    /tmp/spiffvenv/bin/python benchmarks/spiff_compare.py            # --cases N, --in-memory

``--in-memory`` keeps each workflow object between steps and only serializes and saves it after
each step (no reload): the engine's most favourable reading of "persisted after each step".
The last line is ``cases_per_s=<number> steps_per_s=<number> cpu_ms_per_case=<number>``
(the CPU time of this process, which includes SQLite's work, per case).
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  id="defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="approval" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="submit" name="submit">
      <bpmn:incoming>f0</bpmn:incoming>
      <bpmn:outgoing>f1</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:userTask id="accept" name="accept">
      <bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:userTask id="review" name="review">
      <bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:userTask id="decide" name="decide">
      <bpmn:incoming>f3</bpmn:incoming>
      <bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="gate" default="f_approve">
      <bpmn:incoming>f4</bpmn:incoming>
      <bpmn:outgoing>f_approve</bpmn:outgoing><bpmn:outgoing>f_deny</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:scriptTask id="approved" name="approved">
      <bpmn:incoming>f_approve</bpmn:incoming>
      <bpmn:outgoing>f5</bpmn:outgoing>
      <bpmn:script>result = "licence"</bpmn:script></bpmn:scriptTask>
    <bpmn:scriptTask id="denied" name="denied">
      <bpmn:incoming>f_deny</bpmn:incoming>
      <bpmn:outgoing>f6</bpmn:outgoing>
      <bpmn:script>result = ""</bpmn:script></bpmn:scriptTask>
    <bpmn:exclusiveGateway id="merge">
      <bpmn:incoming>f5</bpmn:incoming>
      <bpmn:incoming>f6</bpmn:incoming>
      <bpmn:outgoing>f7</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:userTask id="issue" name="issue">
      <bpmn:incoming>f7</bpmn:incoming>
      <bpmn:outgoing>f8</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end">
      <bpmn:incoming>f8</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="submit"/>
    <bpmn:sequenceFlow id="f1" sourceRef="submit" targetRef="accept"/>
    <bpmn:sequenceFlow id="f2" sourceRef="accept" targetRef="review"/>
    <bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="decide"/>
    <bpmn:sequenceFlow id="f4" sourceRef="decide" targetRef="gate"/>
    <bpmn:sequenceFlow id="f_approve" sourceRef="gate" targetRef="approved"/>
    <bpmn:sequenceFlow id="f_deny" sourceRef="gate" targetRef="denied">
      <bpmn:conditionExpression>deny == True</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f5" sourceRef="approved" targetRef="merge"/>
    <bpmn:sequenceFlow id="f6" sourceRef="denied" targetRef="merge"/>
    <bpmn:sequenceFlow id="f7" sourceRef="merge" targetRef="issue"/>
    <bpmn:sequenceFlow id="f8" sourceRef="issue" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""
STEPS = ("submit", "accept", "review", "decide", "issue")


def main() -> None:
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.bpmn.parser import BpmnParser
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.util.task import TaskState

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--in-memory", action="store_true",
                        help="keep the workflow object between steps (serialize and save only)")
    args = parser.parse_args()

    bpmn = BpmnParser()
    bpmn.add_bpmn_str(BPMN.encode())
    spec = bpmn.get_spec("approval")
    serializer = BpmnWorkflowSerializer()
    db = sqlite3.connect(Path(tempfile.mkdtemp(prefix="spiff-bench-")) / "spiff.sqlite3",
                         isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE workflow (id INTEGER PRIMARY KEY, state TEXT NOT NULL)")

    def step(case_id: int, name: str, workflow: BpmnWorkflow | None, deny: bool) -> BpmnWorkflow:
        db.execute("BEGIN IMMEDIATE")
        if workflow is None:
            row = db.execute("SELECT state FROM workflow WHERE id = ?", [case_id]).fetchone()
            workflow = serializer.deserialize_json(row[0])
        task = workflow.get_next_task(state=TaskState.READY, manual=True)
        assert task is not None and task.task_spec.name == name, (name, task)
        if name == "decide":
            task.data["deny"] = deny
        task.run()
        workflow.do_engine_steps()
        db.execute("UPDATE workflow SET state = ? WHERE id = ?",
                   [serializer.serialize_json(workflow), case_id])
        db.execute("COMMIT")
        return workflow

    def run_case(n: int) -> str:
        workflow = BpmnWorkflow(spec)
        workflow.do_engine_steps()
        db.execute("BEGIN IMMEDIATE")
        case_id = db.execute("INSERT INTO workflow (state) VALUES (?)",
                             [serializer.serialize_json(workflow)]).lastrowid
        db.execute("COMMIT")
        deny = n % 5 == 4
        kept = workflow if args.in_memory else None
        for name in STEPS:
            done = step(int(case_id or 0), name, kept, deny)
            kept = done if args.in_memory else None
        assert done.is_completed()
        return str(done.data.get("result"))

    for n in range(20):  # warm-up, as workflow.py does
        run_case(n)
    started, cpu_started = time.perf_counter(), time.process_time()
    results = [run_case(n) for n in range(args.cases)]
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    denied = results.count("")
    assert denied == sum(n % 5 == 4 for n in range(args.cases)), denied
    mode = "in memory, saved after each step" if args.in_memory else "loaded and saved at each step"
    print(f"SpiffWorkflow ({mode}): {args.cases} cases in {elapsed:.2f} s, {denied} denied")
    # CPU time of this process a case (SQLite runs in it): comparable on a busy machine.
    print(f"cases_per_s={args.cases / elapsed:.1f} steps_per_s={args.cases * 5 / elapsed:.1f} "
          f"cpu_ms_per_case={1000 * cpu / args.cases:.2f}")


if __name__ == "__main__":
    main()
