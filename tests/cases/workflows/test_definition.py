"""Workflow definitions as data: every rule ``check_definition`` applies before a save (pure)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tongban.cases.workflows.defaults import DEFAULTS
from tongban.cases.workflows.definition import (
    END,
    Definition,
    Step,
    check_definition,
    leads_to,
    longest_budget,
)


def step(key: str, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"key": key, "name": f"环节{key}", "role": "officer",
                            "budget_working_days": "1", "actions": ["approve"], "next": [END]}
    return {**base, **extra}


def decide(key: str = "decide", **extra: Any) -> dict[str, Any]:
    return step(key, **{"role": "head", "actions": ["approve", "deny", "return"], "decides": True,
                        **extra})


def problems(data: dict[str, Any], limit: Decimal | None = Decimal(10)) -> list[tuple[str, str]]:
    return [(p.field, str(p.message))
            for p in check_definition(Definition.from_dict(data), committed_working_days=limit)]


def linear(*steps: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"start": steps[0]["key"], "steps": list(steps), **extra}


# --- valid definitions ---------------------------------------------------------------------------

def test_a_review_then_decide_workflow_is_valid() -> None:
    assert problems(linear(step("review", next=["decide"]), decide(return_to=["review"]))) == []


def test_parallel_branches_count_the_longest_path_against_the_limit() -> None:
    # receive (1) → market (2) and fire (4) side by side → decide (1): 6 days, not 8.
    data = linear(step("receive", next=["market", "fire"]), step("market", budget_working_days="2",
                                                                  next=["decide"]),
                  step("fire", budget_working_days="4", next=["decide"]),
                  decide(join=True))
    definition = Definition.from_dict(data)
    assert longest_budget(definition) == Decimal(6)
    assert problems(data, Decimal(6)) == []
    assert problems(data, Decimal(5)) == [
        ("steps", "各环节时限之和（6个工作日）超过承诺办结时限（5个工作日）")]


@pytest.mark.parametrize("commitment", sorted(DEFAULTS))
def test_every_list_default_passes_its_own_rules(commitment: str) -> None:
    data = {k: v for k, v in DEFAULTS[commitment].items() if k != "name"}
    assert problems(data, None) == []


def test_a_definition_survives_a_round_trip_through_its_stored_form() -> None:
    data = linear(step("review", next=["decide"], budget_working_days="1.5"),
                  decide(return_to=["review"]))
    definition = Definition.from_dict(data)
    again = Definition.from_dict(definition.as_dict())
    assert again == definition
    assert again.step("review").budget_working_days == Decimal("1.5")
    assert again.predecessors("decide") == ["review"]


def test_share_budgets_scale_with_the_committed_limit() -> None:
    definition = Definition.from_dict({**linear(step("review", budget_working_days="0.6",
                                                     next=["decide"]),
                                                decide(budget_working_days="0.4")),
                                       "budget_mode": "share"})
    assert definition.budget(definition.step("review"), Decimal(10)) == Decimal("6.0")
    assert definition.budget(definition.step("decide"), Decimal(10)) == Decimal("4.0")


def test_leads_to_follows_next_steps_only() -> None:
    definition = Definition.from_dict(linear(step("a", next=["b"]), step("b", next=["decide"]),
                                             decide(return_to=["a"])))
    assert leads_to(definition, "a", "decide") and leads_to(definition, "b", "b")
    assert not leads_to(definition, "decide", "a")  # a return is not a next step


# --- each rule -------------------------------------------------------------------------------------

def test_unknown_next_step() -> None:
    assert problems(linear(step("review", next=["check"]), decide())) == [
        ("steps[0].next", "后续环节“check”不存在")]


def test_unknown_start_step() -> None:
    assert problems({"start": "begin", "steps": [decide()]}) == [
        ("start", "起始环节“begin”不存在")]


def test_no_steps_at_all() -> None:
    assert problems({"start": "review", "steps": []}) == [("steps", "流程至少要有一个环节")]


def test_unreachable_step() -> None:
    assert problems(linear(step("review", next=["decide"]), decide(), step("orphan",
                                                                           next=["decide"]))) == [
        ("steps", "环节“orphan”从起始环节无法到达")]


def test_step_that_cannot_reach_the_end() -> None:
    # "loop" only leads back to itself: a case sent there could never finish.
    data = linear(step("review", next=["decide", "loop"]), decide(), step("loop", next=["loop"]))
    assert problems(data) == [("steps", "环节“loop”无法到达办结")]


def test_return_to_a_later_step() -> None:
    data = linear(step("review", actions=["approve", "return"], return_to=["decide"],
                       next=["decide"]), decide())
    assert problems(data) == [("steps", "环节“review”只能退回到它之前的环节")]


def test_return_to_an_unknown_step_and_return_without_the_action() -> None:
    data = linear(step("review", next=["decide"]),
                  decide(actions=["approve", "deny"], return_to=["nowhere"]))
    assert problems(data) == [("steps[1].return_to", "退回环节“nowhere”不存在"),
                              ("steps[1].actions", "可退回的环节须允许“退回”操作")]


def test_no_deciding_step() -> None:
    assert problems(linear(step("review", next=["sign"]), step("sign"))) == [
        ("steps", "流程中须有一个作出决定的环节")]


def test_a_deciding_step_must_allow_approve_or_deny() -> None:
    assert problems(linear(step("decide", actions=["forward"], decides=True))) == [
        ("steps[0].actions", "作出决定的环节须允许批准或不予批准")]


def test_budgets_exceeding_the_committed_limit() -> None:
    data = linear(step("review", budget_working_days="7", next=["decide"]),
                  decide(budget_working_days="4"))
    assert problems(data, Decimal(10)) == [
        ("steps", "各环节时限之和（11个工作日）超过承诺办结时限（10个工作日）")]
    assert problems(data, Decimal(11)) == []
    assert problems(data, None) == []  # a list default: no single item's limit to check against


def test_share_budgets_above_one() -> None:
    data = {**linear(step("review", budget_working_days="0.7", next=["decide"]),
                     decide(budget_working_days="0.4")), "budget_mode": "share"}
    assert problems(data, None) == [("steps", "按比例分配时，各环节比例之和不能超过1")]
    data["steps"][1]["budget_working_days"] = "0.3"
    assert problems(data, None) == []


def test_unknown_budget_mode() -> None:
    assert problems({**linear(decide()), "budget_mode": "hours"}) == [
        ("budget_mode", "时限方式须为working_days或share")]


def test_duplicate_keys() -> None:
    assert problems(linear(step("review", next=["decide"]), decide(),
                           decide("review"))) == [("steps", "环节标识不能重复")]


def test_bad_role_and_bad_action() -> None:
    data = linear(step("review", role="citizen", actions=["approve", "stamp"], next=["decide"]),
                  decide())
    assert problems(data) == [("steps[0].role", "角色须为窗口工作人员、经办人、负责人或代办员"),
                              ("steps[0].actions", "允许的操作无效：stamp")]


def test_empty_actions_key_name_and_negative_budget() -> None:
    data = linear(step("review", actions=[], name=" ", budget_working_days="-1", next=["decide"]),
                  decide(), step(END))
    assert problems(data) == [
        ("steps[0].name", "环节名称不能为空"),
        ("steps[0].budget_working_days", "环节时限不能为负"),
        ("steps[0].actions", "允许的操作无效：—"),
        ("steps[2].key", "环节标识不能为空，也不能是end"),
    ]


def test_step_from_dict_defaults() -> None:
    assert Step.from_dict({"key": "review", "name": "审查", "role": "officer"}) == Step(
        key="review", name="审查", role="officer", department="@item",
        budget_working_days=Decimal(0), actions=("approve",), next=(END,), join=False,
        return_to=(), decides=False)


# --- the shape: every case ends in one decision ----------------------------------------------------

def test_a_parallel_branch_reaching_the_end_without_the_decision() -> None:
    # "notify" runs beside the decision and ends the workflow on its own: a case whose decision
    # came first would wait for it and then end with no decision at all.
    data = linear(step("review", next=["decide", "notify"]), decide(), step("notify"))
    assert problems(data) == [("steps[2].next", "环节“notify”直接进入办结，没有经过决定环节“decide”")]


def test_a_path_skipping_the_decision() -> None:
    data = linear(step("review", next=["check", END]), step("check", next=["decide"]), decide())
    assert problems(data) == [("steps[0].next", "环节“review”直接进入办结，没有经过决定环节“decide”")]


def test_parallel_branches_not_joined_before_the_decision() -> None:
    data = linear(step("receive", next=["market", "fire"]), step("market", next=["decide"]),
                  step("fire", next=["decide"]), decide())
    assert problems(data) == [
        ("steps[3].join", "并行分支（market、fire）在环节“decide”汇合，它须等待所有分支完成（join）")]
    data["steps"][3]["join"] = True
    assert problems(data) == []


def test_parallel_branches_meeting_before_the_decision_must_join_there() -> None:
    data = linear(step("receive", next=["market", "fire"]), step("market", next=["sign"]),
                  step("fire", next=["sign"]), step("sign", next=["decide"]), decide())
    assert problems(data) == [
        ("steps[3].join", "并行分支（market、fire）在环节“sign”汇合，它须等待所有分支完成（join）")]


def test_nothing_may_follow_the_decision() -> None:
    data = linear(step("review", next=["decide"]), decide(next=["archive"]), step("archive"))
    assert problems(data) == [
        ("steps[1].next", "决定环节“decide”之后只能是办结（end）"),
        ("steps[2].next", "环节“archive”直接进入办结，没有经过决定环节“decide”"),
    ]


def test_only_one_step_decides() -> None:
    data = linear(step("review", next=["a", "b"]), decide("a"), decide("b"))
    assert problems(data) == [("steps", "流程只能有一个作出决定的环节，现有：a、b")]


def test_next_steps_must_not_loop_back() -> None:
    data = linear(step("review", next=["check"]), step("check", next=["review", "decide"]),
                  decide())
    assert problems(data) == [
        ("steps[0].next", "后续环节形成回路，又回到环节“review”；退回请用“退回”（return_to）")]


# --- bounds on every number -----------------------------------------------------------------------

@pytest.mark.parametrize(("budget", "mode", "message"), [
    ("1e308", "working_days", "环节时限须在0至365个工作日之间"),
    ("366", "working_days", "环节时限须在0至365个工作日之间"),
    ("1.5", "share", "按比例分配时，环节时限须在0至1之间"),
    ("NaN", "working_days", "环节时限须为数字"),
    ("Infinity", "share", "环节时限须为数字"),
    ("-Infinity", "working_days", "环节时限须为数字"),
    ("many", "working_days", "环节时限须为数字"),
    (True, "working_days", "环节时限须为数字"),
    ("-0.5", "share", "环节时限不能为负"),
    ("1e-400", "working_days", "环节时限至多保留4位小数"),
    ("0.00001", "share", "环节时限至多保留4位小数"),
])
def test_a_budget_out_of_bounds_is_refused_naming_its_path(budget: Any, mode: str,
                                                            message: str) -> None:
    data = {**linear(step("review", budget_working_days="0", next=["decide"]),
                     decide(budget_working_days=budget)), "budget_mode": mode}
    assert problems(data, None) == [("steps[1].budget_working_days", message)]


@pytest.mark.parametrize(("budget", "mode"), [
    ("365", "working_days"), (365.0, "working_days"), ("0.0001", "working_days"), ("1", "share"),
    ("0.3333", "share"), ("0", "share"),
])
def test_budgets_at_the_bounds_are_accepted(budget: Any, mode: str) -> None:
    data = {**linear(step("review", budget_working_days="0", next=["decide"]),
                     decide(budget_working_days=budget)), "budget_mode": mode}
    assert problems(data, None) == []


def test_at_most_fifty_steps() -> None:
    chain = [step(f"s{i}", budget_working_days="0", next=[f"s{i + 1}"]) for i in range(50)]
    chain[-1] = decide("s49", budget_working_days="0")
    assert problems(linear(*chain)) == []
    longer = [*chain[:-1], step("s49", budget_working_days="0", next=["s50"]),
              decide("s50", budget_working_days="0")]
    assert problems(linear(*longer)) == [("steps", "流程至多50个环节")]
