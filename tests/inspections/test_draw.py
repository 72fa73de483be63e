"""The draw algorithm (``inspections/draw.py``) against an independent re-implementation."""

from __future__ import annotations

import hashlib
import json
import random
from decimal import Decimal
from typing import Any

import pytest

from tongban.inspections import draw


def entities(n: int) -> list[dict[str, Any]]:
    return [{"uscc": f"9162010200000{i:04d}X", "name": f"主体{i}", "entity_type": "limited_company",
             "industry": "餐饮服务", "division_code": "620102", "risk_level": "low"} for i in range(n)]


def inspectors(n: int, recuse: dict[int, list[str]] | None = None) -> list[dict[str, Any]]:
    return [{"certificate_number": f"C{i:03d}", "name": f"人员{i}",
             "recuse": sorted((recuse or {}).get(i, []))} for i in range(n)]


def independent_draw(doc: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """The algorithm as published on the public page, written again from its description."""
    rng = random.Random(int(doc["seed"], 16))

    def pick(k: int) -> int:
        return int(rng.random() * k)

    e_pool, i_pool = doc["entity_pool"], doc["inspector_pool"]
    order = list(range(len(e_pool)))
    for j in range(doc["n"]):
        k = j + pick(len(e_pool) - j)
        order[j], order[k] = order[k], order[j]
    out = []
    for idx in order[:doc["n"]]:
        uscc = e_pool[idx]["uscc"]
        cands = [p for p in i_pool if uscc not in p["recuse"]]
        slots = list(range(len(cands)))
        for j in range(doc["m"]):
            k = j + pick(len(cands) - j)
            slots[j], slots[k] = slots[k], slots[j]
        out.append((uscc, [cands[s]["certificate_number"] for s in slots[:doc["m"]]]))
    return out


def test_pool_hash_is_sha256_of_canonical_json() -> None:
    pool = [{"uscc": "X", "name": "兰州", "b": 1}]
    expected = hashlib.sha256('[{"b":1,"name":"兰州","uscc":"X"}]'.encode()).hexdigest()
    assert draw.pool_hash(pool) == expected
    # Key order in the stored dicts does not matter; content does.
    assert draw.pool_hash([{"b": 1, "uscc": "X", "name": "兰州"}]) == expected
    assert draw.pool_hash([{"uscc": "X", "name": "兰州", "b": 2}]) != expected


@pytest.mark.parametrize("seed", ["0", "7a3f1c9e5b2d4086a1e3c5f7092b4d6e", "ffffffffffffffff"])
def test_matches_an_independent_implementation(seed: str) -> None:
    e_pool = entities(40)
    i_pool = inspectors(7, {0: [e_pool[3]["uscc"]], 4: [e_pool[3]["uscc"], e_pool[10]["uscc"]]})
    rows = draw.run_draw(entity_pool=e_pool, inspector_pool=i_pool, seed=seed, entities=9,
                         inspectors_per_entity=3)
    expected = independent_draw({"seed": seed, "entity_pool": e_pool, "inspector_pool": i_pool,
                                 "n": 9, "m": 3})
    assert [(r.uscc, r.inspectors) for r in rows] == expected


def test_same_seed_and_pools_give_the_same_draw_and_another_seed_another() -> None:
    e_pool, i_pool = entities(50), inspectors(8)

    def run(seed: str) -> list[tuple[str, list[str]]]:
        rows = draw.run_draw(entity_pool=e_pool, inspector_pool=i_pool, seed=seed, entities=10,
                             inspectors_per_entity=2)
        return [(r.uscc, r.inspectors) for r in rows]

    assert run("abc123") == run("abc123")
    assert run("abc123") != run("abc124")


def test_every_entity_drawn_once_and_inspectors_distinct() -> None:
    rows = draw.run_draw(entity_pool=entities(20), inspector_pool=inspectors(5), seed="42",
                         entities=20, inspectors_per_entity=3)
    assert sorted(r.uscc for r in rows) == sorted(e["uscc"] for e in entities(20))
    assert all(len(set(r.inspectors)) == 3 for r in rows)


def test_recused_inspectors_are_never_drawn_for_that_entity_and_are_recorded() -> None:
    e_pool = entities(5)
    target = e_pool[2]["uscc"]
    i_pool = inspectors(4, {1: [target], 3: [target]})
    for seed in ("1", "2", "3", "4", "5", "6"):
        rows = draw.run_draw(entity_pool=e_pool, inspector_pool=i_pool, seed=seed, entities=5,
                             inspectors_per_entity=2)
        row = next(r for r in rows if r.uscc == target)
        assert sorted(row.inspectors) == ["C000", "C002"]
        assert row.recused == ["C001", "C003"]
        assert all(r.recused == [] for r in rows if r.uscc != target)


def test_too_few_inspectors_after_recusal_fails_naming_the_entity() -> None:
    e_pool = entities(3)
    i_pool = inspectors(3, {0: [e_pool[1]["uscc"]], 2: [e_pool[1]["uscc"]]})
    with pytest.raises(draw.TooFewInspectors) as exc:
        draw.run_draw(entity_pool=e_pool, inspector_pool=i_pool, seed="9", entities=3,
                      inspectors_per_entity=2)
    assert (exc.value.uscc, exc.value.name, exc.value.available, exc.value.needed) == (
        e_pool[1]["uscc"], "主体1", 1, 2)


@pytest.mark.parametrize(("size", "count", "ratio", "expected"), [
    (60, None, Decimal(5), 3), (61, None, Decimal(5), 4), (10, None, Decimal("0.01"), 1),
    (10, 4, None, 4), (3, 10, None, 3), (0, None, Decimal(50), 0), (7, None, Decimal(100), 7),
])
def test_sample_size(size: int, count: int | None, ratio: Decimal | None, expected: int) -> None:
    assert draw.sample_size(size, count=count, ratio_percent=ratio) == expected


def test_the_published_python_snippet_agrees(tmp_path: Any) -> None:
    """The program printed under “如何复核” re-runs a draw document and prints 一致."""
    import re
    import subprocess
    import sys
    from pathlib import Path

    template = (Path(draw.__file__).parent / "templates" / "inspections" / "public_task.html").read_text()
    snippet = re.search(r'<pre class="code">(.*?)</pre>', template, re.S)
    assert snippet is not None
    program = tmp_path / "check.py"
    program.write_text(snippet.group(1).replace("&gt;", ">").replace("&lt;", "<").replace("&amp;", "&"))
    e_pool, i_pool = entities(30), inspectors(6, {2: [entities(30)[5]["uscc"]]})
    rows = draw.run_draw(entity_pool=e_pool, inspector_pool=i_pool, seed="beef", entities=6,
                         inspectors_per_entity=2)
    doc: dict[str, Any] = {"seed": "beef", "count": None, "ratio_percent": "20", "inspectors_per_entity": 2,
           "entity_pool": e_pool, "inspector_pool": i_pool, "entity_pool_hash": draw.pool_hash(e_pool),
           "inspector_pool_hash": draw.pool_hash(i_pool),
           "drawn": [{"uscc": r.uscc, "name": "", "inspectors": r.inspectors} for r in rows]}
    (tmp_path / "draw.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    out = subprocess.run([sys.executable, str(program), str(tmp_path / "draw.json")],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "一致"
    doc["drawn"][0]["inspectors"].reverse()
    (tmp_path / "draw.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    out = subprocess.run([sys.executable, str(program), str(tmp_path / "draw.json")],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "不一致"
