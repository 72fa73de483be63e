# Sourced by scripts/start.sh, scripts/test.sh, scripts/i18n.sh and .ci/run.
#
# Makes sure ./.venv exists (Python 3.11) with the project installed as `pip install -e .[dev]`
# pinned by requirements/constraints.txt. The install is skipped when pyproject.toml and the
# constraints are unchanged since the last one (a stamp file holds their hash), so running a
# script twice costs nothing the second time.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
cd "$ROOT"

find_python() {
    local candidate
    for candidate in "${TONGBAN_PYTHON:-}" python3.11 python3 python; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "tongban needs Python 3.11 (python3.11 or python3); set TONGBAN_PYTHON to its path." >&2
    return 1
}

if [ ! -x "$VENV/bin/python" ]; then
    PYTHON="$(find_python)"
    echo "Creating $VENV with $("$PYTHON" --version)"
    "$PYTHON" -m venv "$VENV"
fi

STAMP="$VENV/.tongban-install"
WANT="$( (cat pyproject.toml requirements/constraints.txt; "$VENV/bin/python" --version) | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$WANT" ]; then
    echo "Installing tongban and its dependencies into $VENV ..."
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        -c requirements/constraints.txt -e ".[dev]"
    echo "$WANT" > "$STAMP"
fi

export PATH="$VENV/bin:$PATH"
