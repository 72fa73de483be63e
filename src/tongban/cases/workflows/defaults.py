"""The default workflow of each list, used for items without a workflow of their own.

Budgets are shares of the item's committed limit (``budget_mode: share``; they sum to at most 1
along any path), so that one default fits every item of its list.
"""

from __future__ import annotations

from typing import Any

END = "end"

DEFAULTS: dict[str, dict[str, Any]] = {
    # 即收即办: accepted and completed at the window in one transaction; no review step.
    "on_the_spot": {
        "name": "即收即办默认流程",
        "budget_mode": "share",
        "start": "handle",
        "steps": [
            {"key": "handle", "name": "窗口办结", "role": "clerk", "department": "@item",
             "budget_working_days": "0", "actions": ["approve", "deny"], "next": [END],
             "decides": True},
        ],
    },
    "same_day": {
        "name": "当日办结默认流程",
        "budget_mode": "share",
        "start": "review",
        "steps": [
            {"key": "review", "name": "审核", "role": "officer", "department": "@item",
             "budget_working_days": "0.5", "actions": ["approve", "return", "supplement"],
             "next": ["decide"]},
            {"key": "decide", "name": "决定", "role": "head", "department": "@item",
             "budget_working_days": "0.5",
             "actions": ["approve", "deny", "return"], "return_to": ["review"],
             "next": [END], "decides": True},
        ],
    },
    "time_limited": {
        "name": "限时办结默认流程",
        "budget_mode": "share",
        "start": "review",
        "steps": [
            {"key": "review", "name": "审查", "role": "officer", "department": "@item",
             "budget_working_days": "0.6", "actions": ["approve", "supplement", "suspend", "extend"],
             "next": ["decide"]},
            {"key": "decide", "name": "决定", "role": "head", "department": "@item",
             "budget_working_days": "0.4", "actions": ["approve", "deny", "return", "extend"],
             "return_to": ["review"], "next": [END], "decides": True},
        ],
    },
    "proxy": {
        "name": "代办服务默认流程",
        "budget_mode": "share",
        "start": "forward",
        "steps": [
            {"key": "forward", "name": "代办受理并转交", "role": "proxy_agent",
             "department": "@receiving_unit", "budget_working_days": "0.1",
             "actions": ["forward"], "next": ["review"]},
            {"key": "review", "name": "审查", "role": "officer", "department": "@item",
             "budget_working_days": "0.5", "actions": ["approve", "supplement", "suspend", "extend"],
             "next": ["decide"]},
            {"key": "decide", "name": "决定", "role": "head", "department": "@item",
             "budget_working_days": "0.4", "actions": ["approve", "deny", "return", "extend"],
             "return_to": ["review"], "next": [END], "decides": True},
        ],
    },
}
