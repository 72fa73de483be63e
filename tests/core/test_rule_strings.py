"""No status or role is compared as a string: roles go through ``accounts.models.Role``, case
statuses through ``cases.models.Status``, and what a page offers through
``cases.actions.available_actions`` or booleans derived from the enums.

Python is read with ``ast``: a string constant equal to a role or case-status value is an
offence when it is compared with something named ``…role``/``…status`` (``==``, ``!=``, ``in``,
also inside a tuple, list or set), passed as a keyword filter on a role or status
(``role="head"``, ``case__status__in=(…)``), or given to ``require_roles``. Templates are read
with a regular expression for ``…status ==``/``…role !=`` and the like against a quoted string.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from tongban.accounts.models import Role
from tongban.cases.models import Status

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src" / "tongban"

ROLE_VALUES = frozenset(Role.values)
STATUS_VALUES = frozenset(Status.values)
FILTER = re.compile(r"(^|__)(?P<kind>role|status)(__in|__exact|__iexact)?$")
# The rule enums a template might compare as strings: status and role, and the catalog's and
# the case's other choices (the list an item is on, a material's necessity and type, a held
# material's state, a limit's unit). A deadline mark's colour (``state`` alone, the clock's output
# passed to ``_mark.html``) is a display key, not a rule.
_ENUMS = r"(status|role|commitment|necessity|material_type|_unit|\.state)"
TEMPLATE = re.compile(
    rf"""[\w.]*{_ENUMS}\s*(==|!=)\s*["']|["'][^"'{{}}%]*["']\s*(==|!=)\s*[\w.]*{_ENUMS}\b""")

EXEMPT: set[str] = set()  # a file left to its owner for a while; each must still offend


def _strings(node: ast.AST) -> Iterator[ast.Constant]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node
    elif isinstance(node, ast.Tuple | ast.List | ast.Set):
        for element in node.elts:
            yield from _strings(element)


def _names(node: ast.AST) -> set[str]:
    """The identifiers, attribute names and string constants in an expression (a string so
    that ``getattr(user, "role", None)`` counts as naming the role)."""
    found: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            found.add(sub.id)
        elif isinstance(sub, ast.Attribute):
            found.add(sub.attr)
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            found.add(sub.value)
    return found


def _offends(value: str, names: set[str]) -> str | None:
    if value in ROLE_VALUES and any(n.lower().endswith("role") for n in names):
        return "role"
    if value in STATUS_VALUES and any(n.lower().endswith("status") for n in names):
        return "status"
    return None


def python_offences(source: str, where: str) -> list[str]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for i, operand in enumerate(operands):
                others = set().union(*(_names(o) for j, o in enumerate(operands) if j != i))
                for constant in _strings(operand):
                    kind = _offends(str(constant.value), others)
                    if kind:
                        found.append((constant.lineno, f"{where}:{constant.lineno}: {kind} "
                                      f"compared with the string {constant.value!r}"))
        elif isinstance(node, ast.keyword) and node.arg:
            match = FILTER.search(node.arg)
            if match:
                values = ROLE_VALUES if match["kind"] == "role" else STATUS_VALUES
                found.extend((c.lineno, f"{where}:{c.lineno}: {node.arg}={c.value!r}")
                             for c in _strings(node.value) if c.value in values)
        elif isinstance(node, ast.Call) and (
                getattr(node.func, "id", None) == "require_roles"
                or getattr(node.func, "attr", None) == "require_roles"):
            found.extend((a.lineno, f"{where}:{a.lineno}: require_roles({a.value!r})")
                         for a in node.args if isinstance(a, ast.Constant) and a.value in ROLE_VALUES)
    return [text for _line, text in sorted(found, key=lambda pair: pair[0])]


def template_offences(source: str, where: str) -> list[str]:
    return [f"{where}:{number}: {line.strip()[:120]}"
            for number, line in enumerate(source.splitlines(), start=1) if TEMPLATE.search(line)]


def _relative(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def _python_files() -> Iterator[Path]:
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def test_the_checks_find_what_they_look_for() -> None:
    """The code of before: each form the checks look for is found, with file and line."""
    python = (
        'if user.role == "head":\n'
        '    pass\n'
        'staff = getattr(user, "role", None) in {"officer", "head"}\n'
        'heads = User.objects.filter(role="head")\n'
        'open_ = Case.objects.filter(case__status__in=("accepted", "halted"))\n'
        'done = case.status != "delivered"\n'
        '@require_roles("proxy_agent")\n'
        'def view(): pass\n'
        # Not offences: the enums, and the same words about other things.
        'ok = user.role == Role.HEAD or case.status in (Status.ACCEPTED,)\n'
        'kind = notice.kind == "supplement"\n'
    )
    assert python_offences(python, "x.py") == [
        "x.py:1: role compared with the string 'head'",
        "x.py:3: role compared with the string 'officer'",
        "x.py:3: role compared with the string 'head'",
        "x.py:4: role='head'",
        "x.py:5: case__status__in='accepted'",
        "x.py:5: case__status__in='halted'",
        "x.py:6: status compared with the string 'delivered'",
        "x.py:7: require_roles('proxy_agent')",
    ]
    template = ('{% if case.status == "halted" %}\n'
                "{% elif user.role != 'head' %}\n"
                '{% if "draft" == c.status %}\n'
                "{% if case.status_is.halted or may.deliver %}\n"
                '{% if version.commitment == "proxy" %}\n'
                "{% if r.state != 'supplied' and m.necessity == 'optional' %}\n"
                '{% if version.commitment_is.proxy and r.state_is.promised %}\n'
                '{% if state == "red" %}\n')
    assert template_offences(template, "t.html") == [
        't.html:1: {% if case.status == "halted" %}',
        "t.html:2: {% elif user.role != 'head' %}",
        't.html:3: {% if "draft" == c.status %}',
        't.html:5: {% if version.commitment == "proxy" %}',
        "t.html:6: {% if r.state != 'supplied' and m.necessity == 'optional' %}",
    ]


def test_no_role_or_status_string_is_compared_in_python() -> None:
    offences = [o for path in _python_files() if _relative(path) not in EXEMPT
                for o in python_offences(path.read_text(encoding="utf-8"), _relative(path))]
    assert not offences, "Use Role / Status (or available_actions):\n" + "\n".join(offences)


def test_no_role_or_status_string_is_compared_in_templates() -> None:
    offences = [o for path in sorted(SRC.rglob("templates/**/*.html"))
                for o in template_offences(path.read_text(encoding="utf-8"), _relative(path))]
    assert not offences, ("Use available_actions, case.status_is.<name> or a boolean the view "
                          "derives from the enums:\n" + "\n".join(offences))


def test_every_exemption_is_still_needed() -> None:
    for name in sorted(EXEMPT):
        path = REPO / name
        assert path.exists() and python_offences(path.read_text(encoding="utf-8"), name), (
            f"{name} no longer compares role or status strings: remove it from EXEMPT")
