"""The rules engine: GoRules JDM graphs evaluated by zen-engine (docs/adr/0013), and the
platform's contract around them. The only module that imports ``zen``.

- :func:`check_rule_set`: a rule set's parts checked before anything is saved — the graph's
  shape (nodes, edges, one input node, expressions that parse), the condition labels, the
  exchange and licence needs, the test cases — each problem naming where it is
  (``jdm.nodes[2].content.expressions[0].value``, ``tests[1].expect``).
- :func:`evaluate`: one evaluation; the result must carry ``approve`` (true/false), may carry
  ``conditions`` ({key: true/false}) and ``findings`` (texts for the officer).
- :func:`run_tests`: every test case of a rule set, each passed or failed with why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import zen
from django.utils.translation import gettext as _

from tongban.core.errors import Problem

NODE_TYPES = {"inputNode", "outputNode", "decisionTableNode", "expressionNode", "switchNode",
              "functionNode", "decisionNode"}
HIT_POLICIES = {"first", "collect"}
SUBJECT_PREFIXES = ("form.", "applicant.")


class EvaluationError(Exception):
    """The graph could not be evaluated for this input (the message names the node)."""


@dataclass
class Result:
    approve: bool
    conditions: dict[str, bool] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)
    output: dict[str, Any] = field(default_factory=dict)


def _engine_message(exc: Exception) -> str:
    first = str(exc).split("\n", 1)[0]
    try:
        data = json.loads(first)
    except ValueError:
        return first[:300]
    if isinstance(data, dict):
        source = data.get("source")
        node = data.get("nodeId")
        text = json.dumps(source, ensure_ascii=False) if not isinstance(source, str) else source
        where = _("（节点 %(node)s）") % {"node": node} if node else ""
        return f"{data.get('type', '')}: {text}{where}"[:300]
    return first[:300]


def _check_jdm(jdm: Any) -> list[Problem]:
    if not isinstance(jdm, dict):
        return [Problem("jdm", _("决策图须为 JSON 对象"))]
    problems: list[Problem] = []
    nodes, edges = jdm.get("nodes"), jdm.get("edges")
    if not isinstance(nodes, list) or not nodes:
        problems.append(Problem("jdm.nodes", _("决策图须有节点列表 nodes")))
        nodes = []
    if not isinstance(edges, list):
        problems.append(Problem("jdm.edges", _("决策图须有连线列表 edges")))
        edges = []
    ids: set[str] = set()
    inputs = 0
    for i, node in enumerate(nodes):
        where = f"jdm.nodes[{i}]"
        if not isinstance(node, dict):
            problems.append(Problem(where, _("节点须为 JSON 对象")))
            continue
        node_id, kind = node.get("id"), node.get("type")
        if not isinstance(node_id, str) or not node_id:
            problems.append(Problem(f"{where}.id", _("节点须有 id")))
        elif node_id in ids:
            problems.append(Problem(f"{where}.id", _("节点 id“%(id)s”重复") % {"id": node_id}))
        else:
            ids.add(node_id)
        if kind not in NODE_TYPES:
            problems.append(Problem(f"{where}.type", _("未知的节点类型“%(t)s”") % {"t": kind}))
            continue
        inputs += kind == "inputNode"
        content = node.get("content") or {}
        if kind == "expressionNode":
            for j, expression in enumerate(content.get("expressions") or []):
                value = expression.get("value", "") if isinstance(expression, dict) else ""
                if not isinstance(expression, dict) or not expression.get("key"):
                    problems.append(Problem(f"{where}.content.expressions[{j}].key",
                                            _("表达式须有 key")))
                    continue
                error = zen.validate_expression(str(value))
                if error:
                    problems.append(Problem(f"{where}.content.expressions[{j}].value", _(
                        "节点“%(node)s”的表达式“%(key)s”无法解析：%(error)s") % {
                        "node": node.get("name") or node_id, "key": expression["key"],
                        "error": error.get("source", error)}))
        if kind == "decisionTableNode":
            policy = content.get("hitPolicy")
            if policy not in HIT_POLICIES:
                problems.append(Problem(f"{where}.content.hitPolicy", _(
                    "决策表“%(node)s”的命中策略须为 first 或 collect") % {
                    "node": node.get("name") or node_id}))
            for key in ("inputs", "outputs", "rules"):
                if not isinstance(content.get(key), list):
                    problems.append(Problem(f"{where}.content.{key}", _(
                        "决策表“%(node)s”缺少 %(key)s 列表") % {"node": node.get("name") or node_id,
                                                             "key": key}))
    if nodes and inputs != 1:
        problems.append(Problem("jdm.nodes", _("决策图须有且只有一个输入节点（inputNode）")))
    for i, edge in enumerate(edges):
        if not isinstance(edge, dict) or edge.get("sourceId") not in ids \
                or edge.get("targetId") not in ids:
            problems.append(Problem(f"jdm.edges[{i}]", _("连线须连接两个已有节点（sourceId、targetId）")))
    if not problems:
        try:
            zen.ZenEngine().create_decision(json.dumps(jdm))
        except RuntimeError as exc:
            problems.append(Problem("jdm", _("决策图无法载入：%(e)s") % {"e": _engine_message(exc)}))
    return problems


def _check_needs(exchange: Any, licences: Any) -> list[Problem]:
    problems: list[Problem] = []
    names: set[str] = set()
    for part, needs, required in (("exchange", exchange, ("name", "resource", "subject")),
                                  ("licences", licences, ("name", "type", "subject"))):
        if not isinstance(needs, list):
            problems.append(Problem(part, _("须为列表")))
            continue
        for i, need in enumerate(needs):
            where = f"{part}[{i}]"
            if not isinstance(need, dict):
                problems.append(Problem(where, _("须为 JSON 对象")))
                continue
            for key in required:
                if not isinstance(need.get(key), str) or not need[key].strip():
                    problems.append(Problem(f"{where}.{key}", _("须填写 %(key)s") % {"key": key}))
            name = need.get("name")
            if isinstance(name, str) and name in names:
                problems.append(Problem(f"{where}.name", _("名称“%(n)s”重复") % {"n": name}))
            names.add(str(name))
            subject = need.get("subject")
            if isinstance(subject, str) and not subject.startswith(SUBJECT_PREFIXES):
                problems.append(Problem(f"{where}.subject", _(
                    "主体标识须取自申请表（form.字段名）或申请人（applicant.id_number）")))
            items = need.get("items", [])
            if part == "exchange" and (not isinstance(items, list)
                                       or not all(isinstance(k, str) for k in items)):
                problems.append(Problem(f"{where}.items", _("信息项须为字符串列表")))
    return problems


def check_rule_set(*, jdm: Any, conditions: Any, exchange: Any, licences: Any,
                   tests: Any) -> list[Problem]:
    """Every problem of a rule set's parts, each naming where it is; nothing is saved with one."""
    problems = _check_jdm(jdm)
    if not isinstance(conditions, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in conditions.items()):
        problems.append(Problem("conditions", _("条件说明须为“条件键: 中文说明”的对象")))
    problems += _check_needs(exchange, licences)
    if not isinstance(tests, list) or not tests:
        problems.append(Problem("tests", _("规则须至少有一个测试用例")))
        tests = []
    for i, case in enumerate(tests):
        where = f"tests[{i}]"
        if not isinstance(case, dict) or not isinstance(case.get("name"), str) \
                or not case["name"].strip():
            problems.append(Problem(f"{where}.name", _("测试用例须有名称")))
            continue
        if not isinstance(case.get("input"), dict):
            problems.append(Problem(f"{where}.input", _("测试用例“%(n)s”须有输入对象 input") % {
                "n": case["name"]}))
        expect = case.get("expect")
        if not isinstance(expect, dict) or not isinstance(expect.get("approve"), bool):
            problems.append(Problem(f"{where}.expect", _(
                "测试用例“%(n)s”须有预期结果 expect，其中 approve 为 true 或 false") % {"n": case["name"]}))
    return problems


def evaluate(jdm: dict[str, Any], document: dict[str, Any]) -> Result:
    """Evaluate the graph on one input document (``EvaluationError`` when it cannot)."""
    try:
        answer = zen.ZenEngine().create_decision(json.dumps(jdm)).evaluate(document)
    except RuntimeError as exc:
        raise EvaluationError(_engine_message(exc)) from None
    output = answer.get("result") if isinstance(answer, dict) else None
    if not isinstance(output, dict) or not isinstance(output.get("approve"), bool):
        raise EvaluationError(_("决策图的结果须含 approve（true 或 false）"))
    # Pass-through nodes copy the input into the result: keep only what the graph added.
    output = {k: v for k, v in output.items() if k not in document}
    conditions = output.get("conditions") or {}
    findings = output.get("findings") or []
    return Result(
        approve=output["approve"],
        conditions={str(k): bool(v) for k, v in conditions.items()} if isinstance(conditions, dict)
        else {},
        findings=[str(f) for f in findings] if isinstance(findings, list) else [str(findings)],
        output=output)


@dataclass
class TestResult:
    name: str
    passed: bool
    message: str = ""


def run_tests(jdm: dict[str, Any], tests: list[dict[str, Any]]) -> list[TestResult]:
    """Each test case evaluated: it passes when every key of ``expect`` equals the output's
    (``approve``, and any condition as ``conditions.<key>``)."""
    results = []
    for case in tests:
        name = str(case.get("name", ""))
        try:
            result = evaluate(jdm, case.get("input") or {})
        except EvaluationError as exc:
            results.append(TestResult(name, False, str(exc)))
            continue
        wrong = []
        for key, expected in (case.get("expect") or {}).items():
            if key.startswith("conditions."):
                actual: Any = result.conditions.get(key.removeprefix("conditions."))
            else:
                actual = result.output.get(key)
            if actual != expected:
                wrong.append(_("%(key)s 预期为 %(e)s，实际为 %(a)s") % {
                    "key": key, "e": json.dumps(expected, ensure_ascii=False),
                    "a": json.dumps(actual, ensure_ascii=False)})
        results.append(TestResult(name, not wrong, "；".join(wrong)))
    return results


def explain(labels: dict[str, str], result: Result) -> list[dict[str, Any]]:
    """Each labelled condition and whether it held, in the labels' order (a condition the
    graph did not report counts as not held)."""
    return [{"key": key, "text": text, "held": bool(result.conditions.get(key, False))}
            for key, text in labels.items()]


def jdm_all_of(expressions: dict[str, str], *, name: str = "审批条件") -> dict[str, Any]:
    """A JDM graph of the common shape: an expression node computing each condition
    (``conditions.<key>`` = a ZEN expression), and a decision table approving when all hold.
    (Rule sets may use any graph; this one is what the demo and the bureau's blank use.)"""
    keys = list(expressions)
    inputs = [{"id": f"in_{i}", "name": key, "field": f"conditions.{key}"}
              for i, key in enumerate(keys)]
    all_true = {"_id": "all", **{f"in_{i}": "true" for i in range(len(keys))}, "approve": "true"}
    otherwise = {"_id": "otherwise", **{f"in_{i}": "" for i in range(len(keys))},
                 "approve": "false"}
    position = {"x": 0, "y": 0}
    return {
        "contentType": "application/vnd.gorules.decision",
        "nodes": [
            {"id": "request", "type": "inputNode", "name": "申请", "position": position},
            {"id": "conditions", "type": "expressionNode", "name": name, "position": position,
             "content": {"passThrough": True, "inputField": None, "outputPath": None,
                         "expressions": [{"id": f"e_{i}", "key": f"conditions.{key}",
                                          "value": expressions[key]}
                                         for i, key in enumerate(keys)]}},
            {"id": "decision", "type": "decisionTableNode", "name": "决定", "position": position,
             "content": {"hitPolicy": "first", "passThrough": True, "inputField": None,
                         "outputPath": None, "inputs": inputs,
                         "outputs": [{"id": "approve", "name": "准予", "field": "approve"}],
                         "rules": [all_true, otherwise]}},
            {"id": "response", "type": "outputNode", "name": "结果", "position": position},
        ],
        "edges": [
            {"id": "e1", "sourceId": "request", "targetId": "conditions", "type": "edge"},
            {"id": "e2", "sourceId": "conditions", "targetId": "decision", "type": "edge"},
            {"id": "e3", "sourceId": "decision", "targetId": "response", "type": "edge"},
        ],
    }
