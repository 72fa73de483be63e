"""The draw (抽取), as pure functions anyone can re-run: algorithm ``tongban-draw-1``.

Inputs: the two pool snapshots stored with the task, the seed, the number of entities to draw
and the number of inspectors per entity.

1. **Pools.** The entity pool is the list of entities of the task's department matching its
   filters, sorted by 统一社会信用代码; each entry is ``{"uscc", "name", "entity_type",
   "industry", "division_code", "risk_level"}``. The inspector pool is the list of the
   department's active inspectors, sorted by certificate number; each entry is
   ``{"certificate_number", "name", "recuse"}`` where ``recuse`` is the sorted list of the USCCs
   the inspector has declared a conflict with.
2. **Hashes.** ``pool_hash(pool)`` = SHA-256 (hex) of the pool serialised as JSON with
   ``ensure_ascii=False, sort_keys=True, separators=(",", ":")``, encoded in UTF-8.
3. **Count.** ``n`` is the task's count, or ⌈N × ratio ÷ 100⌉ for a ratio in percent over a
   pool of N entities (exact decimal arithmetic), never more than N.
4. **Random stream.** ``rng = random.Random(int(seed, 16))`` — the seed is a hexadecimal string.
   Only ``rng.random()`` is used (Python guarantees its sequence for a given integer seed);
   ``pick(k) = int(rng.random() * k)`` is a whole number in 0…k−1.
5. **Entities.** A partial Fisher–Yates shuffle of the positions ``0…N−1``: for ``j`` in
   ``0…n−1``, ``k = j + pick(N − j)`` and positions ``j`` and ``k`` swap. The first ``n``
   positions, in that order, are the drawn entities.
6. **Inspectors.** For each drawn entity in draw order: the candidates are the inspector pool
   without the inspectors whose ``recuse`` list contains the entity's USCC (those are recorded
   as recused); the same partial shuffle over the candidates, continuing the same ``rng``,
   draws ``m`` inspectors. Fewer than ``m`` candidates is an error: nothing is drawn.

:func:`run_draw` implements exactly this; :func:`verify` compares a stored draw with a re-run.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

ALGORITHM = "tongban-draw-1"


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def pool_hash(pool: list[dict[str, Any]]) -> str:
    """SHA-256 (hex) of a pool's canonical JSON serialisation."""
    return hashlib.sha256(canonical_json(pool).encode("utf-8")).hexdigest()


def sample_size(pool_size: int, *, count: int | None, ratio_percent: Decimal | None) -> int:
    """How many entities to draw from a pool of ``pool_size``."""
    if count is not None:
        wanted = count
    elif ratio_percent is not None:
        wanted = math.ceil(Decimal(pool_size) * Decimal(ratio_percent) / Decimal(100))
    else:
        wanted = 0
    return max(0, min(int(wanted), pool_size))


def _partial_shuffle(rng: random.Random, size: int, wanted: int) -> list[int]:
    positions = list(range(size))
    for j in range(wanted):
        k = j + int(rng.random() * (size - j))
        positions[j], positions[k] = positions[k], positions[j]
    return positions[:wanted]


class TooFewInspectors(Exception):
    """An entity has fewer candidate inspectors (after recusal) than the task needs."""

    def __init__(self, uscc: str, name: str, available: int, needed: int) -> None:
        super().__init__(uscc, name, available, needed)
        self.uscc, self.name, self.available, self.needed = uscc, name, available, needed


@dataclass
class DrawnRow:
    uscc: str
    inspectors: list[str]  # certificate numbers, in draw order
    recused: list[str] = field(default_factory=list)  # certificate numbers, pool order


def run_draw(*, entity_pool: list[dict[str, Any]], inspector_pool: list[dict[str, Any]],
             seed: str, entities: int, inspectors_per_entity: int) -> list[DrawnRow]:
    """Draw ``entities`` entities and, for each, ``inspectors_per_entity`` inspectors."""
    rng = random.Random(int(seed, 16))
    rows: list[DrawnRow] = []
    for position in _partial_shuffle(rng, len(entity_pool), entities):
        entity = entity_pool[position]
        uscc = entity["uscc"]
        candidates = [p for p in inspector_pool if uscc not in p["recuse"]]
        recused = [p["certificate_number"] for p in inspector_pool if uscc in p["recuse"]]
        if len(candidates) < inspectors_per_entity:
            raise TooFewInspectors(uscc, entity["name"], len(candidates), inspectors_per_entity)
        chosen = _partial_shuffle(rng, len(candidates), inspectors_per_entity)
        rows.append(DrawnRow(uscc=uscc, inspectors=[candidates[i]["certificate_number"] for i in chosen],
                             recused=recused))
    return rows
