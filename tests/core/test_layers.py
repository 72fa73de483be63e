"""The floors of the house (docs/adr/0006): every import in ``src/tongban`` points down.

Checked here from the source itself — every ``import``, including those inside functions — and
compared with the ``lint-imports`` contract in pyproject.toml, so that loosening the contract
alone, or hiding an import in a function, fails.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "tongban"
PYPROJECT = SRC.parents[1] / "pyproject.toml"

# Lowest first. Apps of one floor in one set; `together` floors may import each other.
FLOORS: list[tuple[set[str], bool]] = [
    ({"core"}, False),
    ({"scheduling"}, False),
    ({"organizations", "accounts", "audit"}, True),
    ({"clock"}, False),
    ({"catalog", "exchange"}, True),
    ({"licences"}, False),
    ({"cases"}, False),
    ({"ratings", "inspections", "queues", "decisions"}, False),
    ({"supervision"}, False),
    ({"urls", "api", "demo", "bench"}, True),
]
OUTSIDE = {"settings", "manage", "wsgi", "__init__"}  # project glue, on no floor


def _floor(app: str) -> int:
    for number, (apps, _together) in enumerate(FLOORS):
        if app in apps:
            return number
    raise AssertionError(f"{app} is on no floor: place it in FLOORS and in pyproject.toml")


def _top(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "tongban" else None


def _imports() -> list[tuple[str, str, int, str]]:
    """(importing app, imported app, line, file) for every import of another app."""
    found = []
    for path in SRC.rglob("*.py"):
        relative = path.relative_to(SRC)
        app = relative.parts[0].removesuffix(".py")
        if app in OUTSIDE:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                target = _top(name)
                if target is not None and target != app and target not in OUTSIDE:
                    found.append((app, target, node.lineno, str(relative)))
    return found


def test_every_app_is_on_a_floor():
    apps = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    apps |= {p.stem for p in SRC.glob("*.py")} - OUTSIDE
    for app in apps:
        _floor(app)


def test_imports_point_down():
    wrong = []
    for app, target, line, file in _imports():
        mine, theirs = _floor(app), _floor(target)
        same_floor_allowed = mine == theirs and FLOORS[mine][1]
        if theirs > mine or (theirs == mine and not same_floor_allowed):
            wrong.append(f"{file}:{line}: {app} (floor {mine}) imports {target} (floor {theirs})")
    assert not wrong, "imports pointing up or sideways:\n" + "\n".join(wrong)


def test_the_lint_imports_contract_states_the_same_floors():
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["type"] == "layers")
    assert layers["containers"] == ["tongban"] and layers.get("exhaustive") is True
    stated = []
    for layer in reversed(layers["layers"]):
        together = ":" in layer
        apps = {a.strip() for a in layer.replace(":", "|").split("|")}
        stated.append((apps, together))
    assert stated == FLOORS
    independence = next(c for c in config["contracts"] if c["type"] == "independence")
    assert set(independence["modules"]) == {f"tongban.{a}" for a in FLOORS[7][0]}


def test_no_module_over_600_lines():
    long = []
    for path in sorted(SRC.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").count("\n")
        if "migrations" not in path.parts and lines > 600:
            long.append(f"{path.relative_to(SRC)}: {lines} lines")
    assert not long, "split these by use case:\n" + "\n".join(long)
