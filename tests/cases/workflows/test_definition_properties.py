"""Property-based checks of workflow validation over generated definitions.

Valid definitions are generated as any acyclic graph of steps in which every step is reachable
from the start and reaches the one deciding step, and every step with several predecessors
joins. Each is accepted, and running it — finishing open steps in every order hypothesis picks,
with the runtime's own rule for what opens next — runs each step once and ends in the decision,
taken while no other step is open. Each way of breaking such a definition is refused with a
message naming the step at fault.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tongban.cases.workflows.definition import END, Definition, check_definition, steps_to_open

Data = dict[str, Any]
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def valid_definitions(draw: st.DrawFn) -> Data:
    """Steps s0 … s(n-1) in an order every next step follows: s0 starts, the last decides."""
    n = draw(st.integers(min_value=1, max_value=9))
    keys = [f"s{i}" for i in range(n)]
    successors: list[set[int]] = [set() for _ in range(n)]
    for i in range(1, n):
        # Every step after the start has at least one predecessor before it …
        for j in draw(st.sets(st.integers(0, i - 1), min_size=1, max_size=min(i, 3))):
            successors[j].add(i)
    for i in range(n - 1):
        # … and every step but the last has a next step after it.
        if not successors[i]:
            successors[i].add(draw(st.integers(i + 1, n - 1)))
    predecessors = [sum(1 for j in range(n) if i in successors[j]) for i in range(n)]
    order = draw(st.permutations(range(n)))  # the steps' order in the list does not matter
    steps = []
    for i in order:
        deciding = i == n - 1
        steps.append({
            "key": keys[i], "name": f"环节{i}", "role": "head" if deciding else "officer",
            "budget_working_days": str(draw(st.integers(0, 20)) / 10),
            "actions": ["approve", "deny"] if deciding else ["approve"],
            "next": [END] if deciding else [keys[j] for j in sorted(successors[i])],
            "join": predecessors[i] > 1 or draw(st.booleans()),
            "decides": deciding,
        })
    return {"start": "s0", "budget_mode": "working_days", "steps": steps}


def problems(data: Data) -> list[tuple[str, str]]:
    return [(p.field, str(p.message)) for p in check_definition(Definition.from_dict(data),
                                                                committed_working_days=None)]


def position(data: Data, key: str) -> int:
    return next(i for i, s in enumerate(data["steps"]) if s["key"] == key)


def deciding_key(data: Data) -> str:
    return next(s["key"] for s in data["steps"] if s["decides"])


def run(data: Data, seed: int, *, eager: str = "",
        late: str = "") -> list[tuple[str, frozenset[str]]]:
    """Finish open steps one at a time in a random order (``eager`` as soon as it is open,
    ``late`` only when nothing else is); each finished step with the steps still open beside
    it. Stops when nothing is open (or after far too many steps)."""
    definition = Definition.from_dict(data)
    chooser = random.Random(seed)
    open_keys = {definition.start}
    finished: list[tuple[str, frozenset[str]]] = []
    while open_keys and len(finished) < 100:
        key = eager if eager in open_keys else chooser.choice(sorted(open_keys - {late})
                                                              or [late])
        open_keys.discard(key)
        finished.append((key, frozenset(open_keys)))
        open_keys |= set(steps_to_open(definition, key, open_keys))
    return finished


@SETTINGS
@given(valid_definitions(), st.integers())
def test_valid_definitions_pass_and_every_run_ends_in_one_decision(data: Data, seed: int) -> None:
    assert problems(data) == []
    finished = run(data, seed)
    keys = [key for key, _beside in finished]
    assert sorted(keys) == sorted(s["key"] for s in data["steps"])  # each step once
    assert finished[-1] == (deciding_key(data), frozenset())  # decided last, alone


@SETTINGS
@given(valid_definitions(), st.data())
def test_a_dangling_branch_is_refused_naming_it(data: Data, draw: st.DataObject) -> None:
    decide = deciding_key(data)
    others = [s for s in data["steps"] if not s["decides"]]
    assume(others)
    fork = draw.draw(st.sampled_from(others))
    fork["next"].append("dangling")
    data["steps"].append({"key": "dangling", "name": "旁支", "role": "officer",
                          "actions": ["approve"], "next": [END]})
    assert problems(data) == [(f"steps[{len(data['steps']) - 1}].next",
                               f"环节“dangling”直接进入办结，没有经过决定环节“{decide}”")]
    # Run as it is, the decision can come while the branch is still open: the case would end
    # with the branch, and no decision.
    finished = run(data, 0, late="dangling")
    assert dict(finished)[decide] == {"dangling"} and finished[-1][0] == "dangling"


@SETTINGS
@given(valid_definitions(), st.data())
def test_a_path_skipping_the_decision_is_refused_naming_the_step(data: Data,
                                                                 draw: st.DataObject) -> None:
    others = [s for s in data["steps"] if not s["decides"]]
    assume(others)
    skipping = draw.draw(st.sampled_from(others))
    skipping["next"].append(END)
    assert problems(data) == [(f"steps[{position(data, skipping['key'])}].next",
                               f"环节“{skipping['key']}”直接进入办结，没有经过决定环节“{deciding_key(data)}”")]


@SETTINGS
@given(valid_definitions(), st.data())
def test_parallel_branches_not_joined_are_refused_naming_the_meeting_step(
        data: Data, draw: st.DataObject) -> None:
    definition = Definition.from_dict(data)
    meeting = [s for s in data["steps"] if len(definition.predecessors(s["key"])) > 1]
    assume(meeting)
    step = draw.draw(st.sampled_from(meeting))
    step["join"] = False
    before = "、".join(definition.predecessors(step["key"]))
    assert problems(data) == [(f"steps[{position(data, step['key'])}].join",
                               f"并行分支（{before}）在环节“{step['key']}”汇合，它须等待所有分支完成（join）")]


@SETTINGS
@given(valid_definitions(), st.data())
def test_a_step_after_the_decision_is_refused_naming_the_decision(data: Data,
                                                                  draw: st.DataObject) -> None:
    decide = deciding_key(data)
    data["steps"][position(data, decide)]["next"] = ["after"]
    data["steps"].append({"key": "after", "name": "归档", "role": "officer",
                          "actions": ["approve"], "next": [END]})
    assert problems(data) == [
        (f"steps[{position(data, decide)}].next", f"决定环节“{decide}”之后只能是办结（end）"),
        (f"steps[{len(data['steps']) - 1}].next",
         f"环节“after”直接进入办结，没有经过决定环节“{decide}”"),
    ]


@SETTINGS
@given(valid_definitions(), st.integers(), st.data())
def test_an_unjoined_meeting_step_runs_once_per_branch(data: Data, seed: int,
                                                       draw: st.DataObject) -> None:
    """Why the join rule exists: a meeting step that does not wait runs again for every branch
    arriving after it has finished (and a deciding one decides before all branches are done)."""
    definition = Definition.from_dict(data)
    meeting = [s for s in data["steps"] if len(definition.predecessors(s["key"])) > 1]
    assume(meeting)
    step = draw.draw(st.sampled_from(meeting))
    step["join"] = False
    keys = [key for key, _beside in run(data, seed, eager=step["key"])]
    assert keys.count(step["key"]) == len(definition.predecessors(step["key"]))


def test_the_generator_covers_forks_and_joins() -> None:
    # Guard against a generator that only ever makes straight lines.
    seen_join = seen_fork = False

    @settings(max_examples=100, deadline=None)
    @given(valid_definitions())
    def look(data: Data) -> None:
        nonlocal seen_join, seen_fork
        seen_fork |= any(len(s["next"]) > 1 for s in data["steps"])
        seen_join |= any(s["join"] for s in data["steps"])

    look()
    assert seen_fork and seen_join
