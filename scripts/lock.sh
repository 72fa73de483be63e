#!/usr/bin/env bash
# Regenerate requirements/constraints.txt after changing dependencies in pyproject.toml:
# `bash scripts/lock.sh`. Installs into a throwaway venv without constraints (newest versions
# that satisfy pyproject.toml) and records exactly what was installed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${TONGBAN_PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$PYTHON" -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[dev]"
{
    echo "# Exact versions for reproducible installs: pip install -c requirements/constraints.txt -e .[dev]"
    echo "# Regenerate with: bash scripts/lock.sh"
    "$WORK/venv/bin/python" -m pip freeze --exclude-editable
} > requirements/constraints.txt
echo "Wrote requirements/constraints.txt ($(grep -vc '^#' requirements/constraints.txt) packages)"
